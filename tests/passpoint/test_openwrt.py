"""The OpenWrt rendering compared key by key with the hostapd rendering: read the UCI back the way
OpenWrt's hostapd.sh turns it into hostapd keys (native options per render.openwrt.NATIVE, encryption
expanded as hostapd.sh does, hostapd_bss_options verbatim) and require the same keys per BSS."""

from __future__ import annotations

import re

import pytest

from tests.passpoint.goldens import all_cases, plan
from tsunagaru.passpoint.render.openwrt import NATIVE, quote, render_openwrt
from tsunagaru.passpoint.render.sections import RADIO, radio_lines

_OPTION = re.compile(r"^\t(option|list) (\w+) '((?:[^']|'\\'')*)'$")
#: hostapd.sh's expansion of ``option encryption`` (+ ieee80211w) into hostapd keys.
ENCRYPTION = {
    "wpa2+ccmp": {"ieee8021x": "1", "wpa": "2", "wpa_key_mgmt": "WPA-EAP WPA-EAP-SHA256", "rsn_pairwise": "CCMP"},
    "wpa3-mixed+ccmp": {"ieee8021x": "1", "wpa": "2", "wpa_key_mgmt": "WPA-EAP WPA-EAP-SHA256",
                        "rsn_pairwise": "CCMP"},
    "wpa3+ccmp": {"ieee8021x": "1", "wpa": "2", "wpa_key_mgmt": "WPA-EAP-SHA256", "rsn_pairwise": "CCMP"},
    "owe": {"wpa": "2", "wpa_key_mgmt": "OWE", "rsn_pairwise": "CCMP"},
    "none": {"wpa": "0"},
}


def uci_ifaces(text: str) -> dict[str, list[tuple[str, str]]]:
    """ifname -> the hostapd keys hostapd.sh would write for that wifi-iface."""
    out: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in text.splitlines():
        if line.startswith("config "):
            current = [] if line.startswith("config wifi-iface") else None
            continue
        match = _OPTION.match(line)
        if current is None or not match:
            continue
        kind, name, value = match.group(1), match.group(2), match.group(3).replace("'\\''", "'")
        if kind == "list" and name == "hostapd_bss_options":
            key, _, val = value.partition("=")
            current.append((key, val))
        elif name == "ifname":
            out[value] = current
            current.append(("bridge", "br-lan"))  # network 'lan' is the br-lan bridge
        elif name == "encryption":
            current.extend(ENCRYPTION[value].items())
            current.append(("auth_algs", "1"))
        else:
            hostapd_key = {v: k for k, v in NATIVE.items()}.get(name)
            if hostapd_key:
                current.append((hostapd_key, value))
    return out


@pytest.mark.parametrize(("case", "disaster"), all_cases())
def test_openwrt_carries_the_same_keys_as_hostapd(case: str, disaster: bool) -> None:
    desc, p = plan(case, disaster)
    ifaces = uci_ifaces(render_openwrt(p, desc.secrets).decode())
    for rp in p.radios:
        lines = radio_lines(rp, desc.secrets)
        for bss in rp.bsses:
            expected = sorted((line.key, line.value) for line in lines if line.section == bss.ifname)
            assert sorted(ifaces[bss.ifname]) == expected, f"{case} {bss.ifname}"
        assert any(line.section == RADIO for line in lines)


def test_hs20_keys_go_through_hostapd_bss_options_only() -> None:
    desc, p = plan("city-facility", True)
    text = render_openwrt(p, desc.secrets).decode()
    assert "option iw_" not in text and "option hs20" not in text
    assert "\tlist hostapd_bss_options 'hs20=1'" in text


def test_uci_quoting_survives_an_apostrophe() -> None:
    assert quote("Ken's AP") == "'Ken'\\''s AP'"
