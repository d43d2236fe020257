"""Converters from the BSS plan to hostapd's keys: one function per section (radio, BSS basics, security,
RADIUS, Interworking, HS2.0), each yielding (key, value) pairs in a fixed order. Every writer starts from
these lines, so hostapd.conf, UCI and JSON cannot disagree on a key.

Keys and value syntax: hostapd 2.10's example hostapd.conf. Secrets are looked up here by reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple, TypeVar

from tsunagaru.passpoint.model import Band, Security
from tsunagaru.passpoint.plan import AnqpPlan, BssPlan, Hs20Plan, RadioPlan

RADIO = "radio"
KEY_MGMT = {
    Security.WPA2: ("WPA-EAP WPA-EAP-SHA256", "1"),
    Security.WPA3_TRANSITION: ("WPA-EAP WPA-EAP-SHA256", "1"),
    Security.WPA3_ONLY: ("WPA-EAP-SHA256", "2"),
}


class RenderError(ValueError):
    pass


class Line(NamedTuple):
    section: str  # RADIO, or the BSS's interface name
    key: str
    value: str


Pairs = Iterator[tuple[str, str]]


def radio_pairs(rp: RadioPlan) -> Pairs:
    radio = rp.radio
    yield "driver", "nl80211"
    yield "ctrl_interface", rp.ctrl_interface
    yield "country_code", rp.country
    yield "ieee80211d", "1"
    yield "hw_mode", "g" if radio.band is Band.G2 else "a"
    yield "channel", str(radio.channel)
    yield "ieee80211n", "1"
    if radio.band is Band.G5:
        yield "ieee80211ac", "1"
    yield "wmm_enabled", "1"


def basics(bss: BssPlan, secrets: Mapping[str, str]) -> Pairs:
    if bss.bssid:
        yield "bssid", bss.bssid
    yield "ssid", bss.ssid
    yield "bridge", bss.bridge
    if bss.hidden:
        yield "ignore_broadcast_ssid", "1"
    if bss.ap_isolate:
        yield "ap_isolate", "1"
    if bss.bss_transition:
        yield "bss_transition", "1"


def security(bss: BssPlan, secrets: Mapping[str, str]) -> Pairs:
    yield "auth_algs", "1"
    if bss.security is not None:
        key_mgmt, pmf = KEY_MGMT[bss.security]
        yield "ieee8021x", "1"
        yield "wpa", "2"
        yield "wpa_key_mgmt", key_mgmt
        yield "rsn_pairwise", "CCMP"
        yield "ieee80211w", pmf
    elif bss.owe:
        yield "wpa", "2"
        yield "wpa_key_mgmt", "OWE"
        yield "rsn_pairwise", "CCMP"
        yield "ieee80211w", "2"
    else:
        yield "wpa", "0"
    if bss.owe_transition_ifname:
        yield "owe_transition_ifname", bss.owe_transition_ifname


def radius(bss: BssPlan, secrets: Mapping[str, str]) -> Pairs:
    r = bss.radius
    if r is None:
        return
    secret = secrets.get(r.secret_ref)
    if secret is None:
        raise RenderError(f"no value for the RADIUS secret reference {r.secret_ref!r}")
    yield "nas_identifier", r.nas_identifier
    yield "auth_server_addr", r.host
    yield "auth_server_port", str(r.auth_port)
    yield "auth_server_shared_secret", secret
    yield "acct_server_addr", r.host
    yield "acct_server_port", str(r.acct_port)
    yield "acct_server_shared_secret", secret
    yield "radius_acct_interim_interval", str(r.interim_interval)
    if r.request_cui:
        yield "radius_request_cui", "1"
    yield "radius_auth_req_attr", f"126:s:{r.operator_name}"
    yield "radius_acct_req_attr", f"126:s:{r.operator_name}"


def interworking(bss: BssPlan, secrets: Mapping[str, str]) -> Pairs:
    iw = bss.interworking
    if iw is None:
        return
    yield "interworking", "1"
    yield "access_network_type", str(iw.access_network_type)
    yield "internet", "1" if iw.internet else "0"
    yield "asra", "0"
    yield "venue_group", str(iw.venue.group)
    yield "venue_type", str(iw.venue.type)
    for name in iw.venue_names:
        yield "venue_name", name.hostapd()
    for index, url in iw.venue_urls:
        yield "venue_url", f"{index}:{url}"
    if iw.hessid:
        yield "hessid", iw.hessid
    yield from _memo(iw.anqp, _anqp_pairs)


def _anqp_pairs(anqp: AnqpPlan) -> Pairs:
    for oi in anqp.rcois:
        yield "roaming_consortium", oi
    for realm in anqp.nai_realms:
        yield "nai_realm", realm.hostapd()
    yield "domain_name", ",".join(anqp.domains)
    if anqp.cell_networks:
        yield "anqp_3gpp_cell_net", anqp.cell_networks
    yield "ipaddr_type_availability", anqp.ipaddr_type


def hs20(bss: BssPlan, secrets: Mapping[str, str]) -> Pairs:
    if bss.hs20 is not None:
        yield from _memo(bss.hs20, _hs20_pairs)


def _hs20_pairs(h: Hs20Plan) -> Pairs:
    yield "hs20", "1"
    yield "disable_dgaf", "1" if h.disable_dgaf else "0"
    if h.proxy_arp:
        yield "proxy_arp", "1"
    yield "anqp_domain_id", str(h.anqp_domain_id)
    for name in h.friendly_names:
        yield "hs20_oper_friendly_name", name.hostapd()
    yield "hs20_wan_metrics", h.wan_metrics.hostapd()
    for capab in h.conn_capabilities:
        yield "hs20_conn_capab", capab.hostapd()


T = TypeVar("T")
#: id(part) -> (part, its pairs): the operator-wide parts of a plan are one shared object (plan._shared), so
#: their lines are formatted once per operator instead of once per AP. Holding the part keeps its id unique.
_MEMO: dict[int, tuple[object, tuple[tuple[str, str], ...]]] = {}


def _memo(part: T, make: Callable[[T], Pairs]) -> tuple[tuple[str, str], ...]:
    hit = _MEMO.get(id(part))
    if hit is not None and hit[0] is part:
        return hit[1]
    pairs = tuple(make(part))
    _check(pairs, "operator data")
    if len(_MEMO) >= 256:
        _MEMO.clear()
    _MEMO[id(part)] = (part, pairs)
    return pairs


#: The BSS converters in the order their keys appear in every output.
BSS_CONVERTERS: tuple[Callable[[BssPlan, Mapping[str, str]], Pairs], ...] = (
    basics, security, radius, interworking, hs20,
)


Block = tuple[str, list[tuple[str, str]]]  # (section, its (key, value) pairs in order)


def radio_blocks(rp: RadioPlan, secrets: Mapping[str, str]) -> list[Block]:
    """One radio as ordered sections: the radio's own, then each BSS's in plan order."""
    blocks: list[Block] = [(RADIO, list(radio_pairs(rp)))]
    for bss in rp.bsses:
        pairs = [pair for conv in BSS_CONVERTERS for pair in conv(bss, secrets)]
        _check(pairs, bss.ifname)
        blocks.append((bss.ifname, pairs))
    return blocks


def _check(pairs: Sequence[tuple[str, str]], section: str) -> None:
    joined = "".join(v for _, v in pairs)
    if "\n" in joined or "\r" in joined or "\0" in joined:
        bad = next(k for k, v in pairs if "\n" in v or "\r" in v or "\0" in v)
        raise RenderError(f"{section}: {bad} holds a line break or NUL")


def radio_lines(rp: RadioPlan, secrets: Mapping[str, str]) -> list[Line]:
    """The same as a flat, ordered (section, key, value) list."""
    return [Line(section, k, v) for section, pairs in radio_blocks(rp, secrets) for k, v in pairs]
