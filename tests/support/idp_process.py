"""Run our IdP (`tsunagaru idp serve`) as a subprocess from a private folder, on ports chosen at run time.

The folder is a demo state (:func:`tsunagaru.demo_state.prepare`: federation PKI, EAP server
certificate, user CA, alice with password and certificate, CUI key); :func:`write_config` writes an
``idp.toml`` next to it and :func:`idp_process` starts the server, waits for "idp listening" and stops
it by pid.

    state = prepare(tmp / "state", now, DemoPorts())
    with idp_process(state, tmp / "idp", cache_ttl=1) as idp:
        ...  # RADIUS/UDP on 127.0.0.1:idp.udp_port (secret testing123), RadSec on idp.radsec_port
"""

from __future__ import annotations

import contextlib
import re
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.support.procs import free_port, running, wait_log
from tsunagaru.demo_state import IDP_WBAID, NAS_SECRET, PASSWORD, REALM, USER, DemoPorts, DemoState, prepare

SERVE = [sys.executable, "-m", "tsunagaru", "idp", "serve", "--log-level", "debug", "--config"]


@dataclass(frozen=True)
class IdpRun:
    state: DemoState
    config: Path
    log: Path
    udp_port: int
    radsec_port: int
    pid: int
    db_url: str

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def write_config(
    state: DemoState,
    path: Path,
    *,
    udp_port: int,
    radsec_port: int | None,
    db_url: str | None = None,
    fragment_size: int = 1024,
    cache_ttl: float = 30,
    session_timeout: int = 3600,
    metrics_port: int | None = None,
    node_id: str | None = None,
) -> Path:
    """An ``idp.toml`` serving the demo realm from ``state``; RadSec only when ``radsec_port`` is given, a
    ``node_id`` for one of several nodes of the realm (tests/support/idp_nodes.py)."""
    radsec = "" if radsec_port is None else f"""
[radsec]
listen = "127.0.0.1:{radsec_port}"
certificate = "{state.path('idp-radsec.pem')}"
key = "{state.path('idp-radsec.key')}"
roots = ["{state.path('federation-roots.pem')}"]
"""
    path.write_text(f"""[idp]
{f'node_id = "{node_id}"' if node_id else ""}
realms = ["{REALM}"]
db = "{db_url or state.db_url}"
eap_certificate = "{state.path('eap-server.pem')}"
eap_key = "{state.path('eap-server.key')}"
user_ca = "{state.path('user-ca.pem')}"
cui_key_file = "{state.path('cui.key')}"
wbaid = "{IDP_WBAID}"
session_timeout = {session_timeout}
methods = ["ttls", "peap", "tls"]
fragment_size = {fragment_size}
tls13_tunnels = true
cache_ttl = {cache_ttl}
{f'metrics = "127.0.0.1:{metrics_port}"' if metrics_port else ""}

[udp]
listen = "127.0.0.1:{udp_port}"
secret = "{NAS_SECRET}"
allowed = "127.0.0.0/8"
{radsec}""")
    return path


@contextlib.contextmanager
def idp_process(
    state: DemoState, folder: Path, *, radsec: bool = True, radsec_port: int | None = None,
    log_level: str = "debug", log_name: str = "idp.log", **options: object
) -> Iterator[IdpRun]:
    """Our IdP as a subprocess for the duration of the block (``options`` go to :func:`write_config`);
    ``radsec_port`` keeps a port across restarts, ``log_name`` a log per start."""
    folder.mkdir(parents=True, exist_ok=True)
    udp_port = free_port(socket.SOCK_DGRAM)
    port = (radsec_port or free_port(socket.SOCK_STREAM)) if radsec else 0
    config = write_config(state, folder / "idp.toml", udp_port=udp_port, radsec_port=port or None,
                          **options)  # type: ignore[arg-type]
    log = folder / log_name
    db_url = str(options.get("db_url") or state.db_url)
    argv = [sys.executable, "-m", "tsunagaru", "idp", "serve", "--log-level", log_level, "--config", str(config)]
    with running(argv, log) as proc:
        wait_log(log, "idp listening", timeout=60, proc=proc)  # a cap: a loaded box starts it slowly
        yield IdpRun(state, config, log, udp_port, port, proc.pid, db_url)


def demo(folder: Path) -> DemoState:
    """A fresh demo state folder (federation PKI, EAP CA, user CA, alice) made now."""
    return prepare(folder, datetime.now(UTC), DemoPorts())


# -- eapol_test network blocks and its printed RADIUS replies -----------------------------------------

TLS12 = 'phase1="tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=0 tls_disable_tlsv1_3=1"'
TLS13 = 'phase1="tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=0"'
TUNNELS = {
    "ttls-pap": ("TTLS", "auth=PAP"),
    "ttls-mschapv2": ("TTLS", "auth=MSCHAPV2"),
    "ttls-eap-mschapv2": ("TTLS", "autheap=MSCHAPV2"),
    "peap-mschapv2": ("PEAP", "auth=MSCHAPV2"),
}
# Ask for a CUI (a single NUL) and name the visited operator, as an OpenRoaming ANP does.
CUI_REQUEST = ("-N89:x:00", "-N126:s:4CITY:JP")


def tls_block(state: DemoState, phase1: str, *, cert: Path | None = None, key: Path | None = None,
              identity: str = f"{USER}@{REALM}") -> str:
    return "\n".join([
        "key_mgmt=IEEE8021X", "eap=TLS", f'identity="{identity}"', f'ca_cert="{state.path("ca.pem")}"',
        f'client_cert="{cert or state.path("alice.pem")}"', f'private_key="{key or state.path("alice.key")}"',
        phase1, "eapol_flags=0",
    ])


def tunnel_block(state: DemoState, method: str, *, identity: str = f"{USER}@{REALM}",
                 password: str = PASSWORD, phase1: str = TLS12) -> str:
    eap, phase2 = TUNNELS[method]
    return "\n".join([
        "key_mgmt=IEEE8021X", f"eap={eap}", f'identity="{identity}"', f'anonymous_identity="anonymous@{REALM}"',
        f'password="{password}"', f'ca_cert="{state.path("ca.pem")}"', f'phase2="{phase2}"', phase1,
        "eapol_flags=0",
    ])


def block_for(state: DemoState, method: str) -> str:
    """``tls12``, ``tls13`` or a key of :data:`TUNNELS`."""
    if method in ("tls12", "tls13"):
        return tls_block(state, TLS12 if method == "tls12" else TLS13)
    return tunnel_block(state, method)


def reply_attributes(log: str, code: int) -> list[tuple[int, str]]:
    """(type, printed value) of the last RADIUS message with ``code`` in eapol_test's debug output."""
    start = log.rfind(f"RADIUS message: code={code} ")
    if start < 0:
        return []
    out: list[tuple[int, str]] = []
    for line in log[start:].splitlines()[1:]:
        attr = re.match(r"\s+Attribute (\d+) \(", line)
        if attr:
            out.append((int(attr[1]), ""))
        elif line.lstrip().startswith("Value: ") and out:
            out[-1] = (out[-1][0], line.split("Value: ", 1)[1].strip())
        elif not line.startswith(" "):
            break
    return out


def reject_reason(log: str) -> int | None:
    """The Reject-Reason in the last Access-Reject's Reply-Message, if any."""
    for attr, value in reply_attributes(log, 3):
        found = re.search(r"Reject-Reason=(\d+)", value) if attr == 18 else None
        if found:
            return int(found[1])
    return None
