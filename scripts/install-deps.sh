#!/usr/bin/env bash
# Install what `make demo` or `make test` needs: Debian packages (apt-get, as root) and the Python
# environment in .venv/. Safe to run again: it installs only what is missing.
#   scripts/install-deps.sh demo   - Python 3 + venv, then the package into .venv
#   scripts/install-deps.sh test   - the above, test extras, and the real peers the tests start
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-demo}"

DEMO_DEBS=(python3 python3-venv python3-dev gcc iproute2)
TEST_DEBS=(eapoltest freeradius freeradius-utils radsecproxy dnsmasq-base hostapd wpasupplicant iproute2 openssl
           postgresql chromium chromium-driver fonts-noto-cjk libssl-dev systemd xmlsec1)

missing_debs() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
    done
}

install_debs() {
    local need
    need=$(missing_debs "$@")
    [ -z "$need" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing Debian packages (run as root to install): $need" >&2
        return 0
    fi
    echo "install-deps: apt-get install $need" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $need >/dev/null
    # FreeRADIUS and dnsmasq packages may start system services; the tests run private instances.
    # (without systemd, e.g. in a container, the packages' init scripts may have started them: stop those too,
    # or the system FreeRADIUS would hold the demo's 127.0.0.1:1812)
    for svc in freeradius dnsmasq radsecproxy hostapd postgresql; do
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
        service "$svc" stop >/dev/null 2>&1 || true
    done
}

# A usable python3 with venv (a pyenv or distro Python both work).
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    install_debs "${DEMO_DEBS[@]}"
fi
if [ "$mode" = test ]; then
    install_debs "${TEST_DEBS[@]}"
fi

PY=python3
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
extras=""
[ "$mode" = test ] && extras="[test]"
stamp=".venv/.installed-${mode}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install -q -e ".${extras}"
    touch "$stamp"
fi
