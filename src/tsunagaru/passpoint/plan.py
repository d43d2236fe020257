"""The BSS plan of one access point: per radio, the OpenRoaming BSS first and, only while the AP's
disaster flag is on, the open ``00000JAPAN`` BSS after it (optionally with its OWE transition twin).

A pure function of (operator, site, AP, disaster state, now): no clock, no I/O, so the rendered bytes
(and an ETag over them) change exactly when an input does. The disaster BSS is never the first BSS of a
radio: hostapd's ``RELOAD`` of the first BSS drops every client of the radio, while adding or removing
a secondary BSS leaves the OpenRoaming clients associated (DESIGN.md, reload semantics).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum

from tsunagaru.passpoint.anqp import ConnCapability, LangText, WanMetrics, cell_networks_hostapd, ipaddr_type_hostapd
from tsunagaru.passpoint.model import (
    DISASTER_SSID,
    AccessPoint,
    DisasterState,
    ModelError,
    Operator,
    Radio,
    Security,
    Site,
)
from tsunagaru.passpoint.nai_realm import NaiRealm
from tsunagaru.passpoint.rcoi import Case, parse_rcoi
from tsunagaru.passpoint.venues import Venue

FREE_PUBLIC_NETWORK = 3  # access_network_type: "Free public network" (IEEE 802.11 Table 9-214)
MAX_NAS_IDENTIFIER = 48  # hostapd (and 802.11r) limit


class BssRole(StrEnum):
    OPENROAMING = "openroaming"
    DISASTER = "disaster"  # open 00000JAPAN
    DISASTER_OWE = "disaster-owe"  # the hidden OWE twin of a transition pair


@dataclass(frozen=True, slots=True)
class RadiusPlan:
    host: str
    auth_port: int
    acct_port: int
    secret_ref: str
    nas_identifier: str
    operator_name: str  # "4" + WBAID, sent in every Access- and Accounting-Request
    interim_interval: int
    request_cui: bool = True
    # hostapd 2.10 always signs EAP Access-Requests and checks Message-Authenticator on replies that carry
    # EAP; controllers fed the JSON document must be told to require it on every reply (BlastRADIUS).
    require_message_authenticator: bool = True
    radsec: tuple[str, int] | None = None  # (host, port) for controllers that speak RadSec themselves


@dataclass(frozen=True, slots=True)
class AnqpPlan:
    """The operator's ANQP data: the same object for every AP of an operator with one RCOI case."""

    rcois: tuple[str, ...]  # formatted in the AP's case, in advertised order
    nai_realms: tuple[NaiRealm, ...]
    domains: tuple[str, ...]
    cell_networks: str  # hostapd's "mcc,mnc;..." or ""
    ipaddr_type: str  # one hex octet


@dataclass(frozen=True, slots=True)
class InterworkingPlan:
    venue: Venue
    venue_names: tuple[LangText, ...]
    venue_urls: tuple[tuple[int, str], ...]  # (1-based venue name index, https URL)
    hessid: str | None
    anqp: AnqpPlan
    access_network_type: int = FREE_PUBLIC_NETWORK
    internet: bool = True


@dataclass(frozen=True, slots=True)
class Hs20Plan:
    friendly_names: tuple[LangText, ...]
    wan_metrics: WanMetrics
    conn_capabilities: tuple[ConnCapability, ...]
    anqp_domain_id: int
    disable_dgaf: bool = True
    proxy_arp: bool = True


@dataclass(frozen=True, slots=True)
class BssPlan:
    role: BssRole
    ifname: str
    bssid: str | None
    ssid: str
    bridge: str
    security: Security | None  # None: open or OWE (see ``owe``)
    owe: bool = False
    hidden: bool = False
    ap_isolate: bool = False
    bss_transition: bool = True
    owe_transition_ifname: str | None = None
    radius: RadiusPlan | None = None
    interworking: InterworkingPlan | None = None
    hs20: Hs20Plan | None = None


@dataclass(frozen=True, slots=True)
class RadioPlan:
    radio: Radio
    country: str
    ctrl_interface: str
    bsses: tuple[BssPlan, ...]


@dataclass(frozen=True, slots=True)
class ApPlan:
    ap_id: str
    site_id: str
    radios: tuple[RadioPlan, ...]
    disaster_until: datetime.datetime | None  # set only while the disaster BSS is planned
    disaster_reason: str = ""


def plan_ap(operator: Operator, site: Site, ap: AccessPoint, disaster: DisasterState,
            now: datetime.datetime) -> ApPlan:
    """The BSSes ``ap`` should carry at ``now``; raises :class:`ModelError` naming a bad field."""
    if ap.site_id != site.id:
        raise ModelError("ap.site_id", f"is {ap.site_id!r} but the site given is {site.id!r}")
    on = disaster.active(now)
    owe = operator.disaster_owe if disaster.owe is None else disaster.owe
    hs20, anqp = _shared(operator, ap.rcoi_case)
    interworking = _interworking(site, ap, anqp)
    radios = tuple(
        RadioPlan(radio, operator.country, ap.ctrl_interface,
                  (_openroaming(operator, ap, radio, interworking, hs20),
                   *(_disaster(radio, owe) if on else ())))
        for radio in ap.radios
    )
    return ApPlan(ap.id, site.id, radios, disaster.until if on else None, disaster.reason if on else "")


#: id(operator) -> (operator, its Hs20Plan, {rcoi case: AnqpPlan}). A memo, not state: the values are pure
#: functions of the (frozen) operator, shared so that renderers can format them once per operator.
_SHARED: dict[int, tuple[Operator, Hs20Plan, dict[str, AnqpPlan]]] = {}
_SHARED_MAX = 64


def _shared(operator: Operator, case: Case) -> tuple[Hs20Plan, AnqpPlan]:
    hit = _SHARED.get(id(operator))
    if hit is None or hit[0] is not operator:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        hs20 = Hs20Plan(operator.friendly_names, operator.wan_metrics, operator.conn_capabilities,
                        operator.anqp_domain_id)
        hit = _SHARED[id(operator)] = (operator, hs20, {})
    anqp = hit[2].get(case)
    if anqp is None:
        anqp = hit[2][case] = AnqpPlan(
            rcois=tuple(parse_rcoi(r).hex(case) for r in operator.rcois), nai_realms=operator.realms,
            domains=operator.domains, cell_networks=cell_networks_hostapd(operator.cell_networks),
            ipaddr_type=ipaddr_type_hostapd(operator.ipv4, operator.ipv6))
    return hit[1], anqp


def _interworking(site: Site, ap: AccessPoint, anqp: AnqpPlan) -> InterworkingPlan:
    names = (LangText("jpn", site.name_ja), LangText("eng", site.name_en))
    urls = tuple((i, url) for i, url in ((1, site.url_ja), (2, site.url_en)) if url)
    first = ap.radios[0].bssids[0] if ap.radios[0].bssids else None
    return InterworkingPlan(venue=site.venue, venue_names=names, venue_urls=urls, hessid=ap.hessid or first,
                            anqp=anqp)


def _bssid(radio: Radio, index: int) -> str | None:
    return radio.bssids[index] if index < len(radio.bssids) else None


def _openroaming(operator: Operator, ap: AccessPoint, radio: Radio, interworking: InterworkingPlan,
                 hs20: Hs20Plan) -> BssPlan:
    nas_id = f"{ap.nas_identifier}-{radio.name}"
    if len(nas_id.encode()) > MAX_NAS_IDENTIFIER:
        raise ModelError("ap.nas_identifier", f"{nas_id!r} is longer than {MAX_NAS_IDENTIFIER} octets")
    r = operator.radius
    radsec = (operator.radsec.host, operator.radsec.port) if operator.radsec else None
    radius = RadiusPlan(r.host, r.auth_port, r.acct_port, r.secret_ref, nas_id, operator.operator_name,
                        operator.interim_interval, radsec=radsec)
    return BssPlan(BssRole.OPENROAMING, radio.interface, _bssid(radio, 0), operator.ssid, radio.bridge,
                   operator.security, radius=radius, interworking=interworking, hs20=hs20)


def _disaster(radio: Radio, owe: bool) -> tuple[BssPlan, ...]:
    """Open 00000JAPAN with client isolation (MIC guide); with ``owe`` also its hidden OWE twin."""
    open_if = radio.secondary_interface
    if not owe:
        return (BssPlan(BssRole.DISASTER, open_if, _bssid(radio, 1), DISASTER_SSID, radio.bridge, None,
                        ap_isolate=True),)
    owe_if = radio.owe_twin_interface
    return (
        BssPlan(BssRole.DISASTER, open_if, _bssid(radio, 1), DISASTER_SSID, radio.bridge, None,
                ap_isolate=True, owe_transition_ifname=owe_if),
        BssPlan(BssRole.DISASTER_OWE, owe_if, _bssid(radio, 2), DISASTER_SSID + "_OWE", radio.bridge, None,
                owe=True, hidden=True, ap_isolate=True, owe_transition_ifname=open_if),
    )
