"""What an access point's Passpoint configuration is made from: the operator (one per deployment), the
site, the AP with its radios, and whether the AP carries the disaster SSID now.

Flat, frozen dataclasses whose fields are columns a registry row already has (ids, names, codes,
coordinates), so a row maps onto them with keyword arguments. Validation happens here, once, with
:class:`ModelError` naming the field; renderers can then trust what they get. Secrets are never
held: an operator names its RADIUS secret by reference and the renderer is handed the value.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from enum import StrEnum

from tsunagaru.passpoint.anqp import (
    DEFAULT_CONN_CAPABILITIES,
    AnqpError,
    CellNetwork,
    ConnCapability,
    Ipv4Availability,
    Ipv6Availability,
    LangText,
    WanMetrics,
    check_domain,
    check_mac,
)
from tsunagaru.passpoint.nai_realm import NaiRealm
from tsunagaru.passpoint.rcoi import Case, RcoiError, parse_rcoi
from tsunagaru.passpoint.venues import SiteCategory, Venue, VenueError, venue_for

DEFAULT_WAN_METRICS = WanMetrics()  # link up, speeds and loads unknown
WBAID = re.compile(r"^([A-Z0-9-]+\.)?[A-Z0-9-]+:[A-Z]{2}$")
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
_NASID = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")  # leaves room for a per-BSS suffix within 48 octets
DISASTER_SSID = "00000JAPAN"
MIN_SECRET_LENGTH = 16


class ModelError(ValueError):
    """A value that cannot be configured; ``field`` is its dotted path (``operator.rcois[1]``)."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


class Security(StrEnum):
    WPA2 = "wpa2"  # WPA2-Enterprise, PMF optional (WPA-EAP WPA-EAP-SHA256, ieee80211w=1)
    WPA3_TRANSITION = "wpa3-transition"  # the same keys, PMF capable; phones prefer SHA256
    WPA3_ONLY = "wpa3-only"  # WPA-EAP-SHA256 only, PMF required


class Band(StrEnum):
    G2 = "2g"
    G5 = "5g"
    G6 = "6g"


class Platform(StrEnum):
    HOSTAPD = "hostapd"
    OPENWRT = "openwrt"
    CONTROLLER = "controller"  # a vendor controller fed the JSON document


@dataclass(frozen=True, slots=True)
class RadiusEndpoint:
    """The ANP as the AP's RADIUS server (hostapd 2.10 speaks RADIUS/UDP only)."""

    host: str
    secret_ref: str  # a name the renderer resolves (``anp-udp``); never the secret itself
    auth_port: int = 1812
    acct_port: int = 1813

    def __post_init__(self) -> None:
        for name in ("auth_port", "acct_port"):
            if not 1 <= getattr(self, name) <= 65535:
                raise ModelError(f"operator.radius.{name}", "must be 1-65535")
        if not self.host or any(c.isspace() for c in self.host):
            raise ModelError("operator.radius.host", "must be a host name or address")
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", self.secret_ref):
            raise ModelError("operator.radius.secret_ref", "must be a short name (letters, digits, _.-)")


@dataclass(frozen=True, slots=True)
class RadsecEndpoint:
    """Where controllers that speak RadSec themselves send (JSON only)."""

    host: str
    port: int = 2083

    def __post_init__(self) -> None:
        if not self.host or any(c.isspace() for c in self.host):
            raise ModelError("operator.radsec.host", "must be a host name or address")
        if not 1 <= self.port <= 65535:
            raise ModelError("operator.radsec.port", "must be 1-65535")


@dataclass(frozen=True, slots=True)
class Operator:
    wbaid: str  # e.g. "TSUNAGARU:JP"; Operator-Name is "4" + this
    ssid: str
    friendly_names: tuple[LangText, ...]
    rcois: tuple[str, ...]  # hex; the OpenRoaming ones first (only three reach beacons)
    domains: tuple[str, ...]
    realms: tuple[NaiRealm, ...]
    radius: RadiusEndpoint
    security: Security = Security.WPA2
    radsec: RadsecEndpoint | None = None
    interim_interval: int = 600
    cell_networks: tuple[CellNetwork, ...] = ()
    anqp_domain_id: int = 0
    ipv4: Ipv4Availability = Ipv4Availability.SINGLE_NAT
    ipv6: Ipv6Availability = Ipv6Availability.NOT_AVAILABLE
    wan_metrics: WanMetrics = DEFAULT_WAN_METRICS
    conn_capabilities: tuple[ConnCapability, ...] = DEFAULT_CONN_CAPABILITIES
    disaster_owe: bool = False  # add an OWE transition pair to 00000JAPAN
    country: str = "JP"

    def __post_init__(self) -> None:
        if not WBAID.match(self.wbaid):
            raise ModelError("operator.wbaid", "must be [SUBID.]OPERATOR:CC in upper case, like TSUNAGARU:JP")
        _check_ssid("operator.ssid", self.ssid)
        if self.ssid == DISASTER_SSID:
            raise ModelError("operator.ssid", f"{DISASTER_SSID} is reserved for the disaster BSS")
        if not self.rcois:
            raise ModelError("operator.rcois", "at least one RCOI (5A03BA0000) is needed")
        for i, value in enumerate(self.rcois):
            try:
                parse_rcoi(value)
            except RcoiError as exc:
                raise ModelError(f"operator.rcois[{i}]", exc.problem) from None
        for i, name in enumerate(self.domains):
            try:
                check_domain(name)
            except AnqpError as exc:
                raise ModelError(f"operator.domains[{i}]", str(exc)) from None
        if not self.domains:
            raise ModelError("operator.domains", "at least one domain name (phones check it as the home SP)")
        if not self.realms:
            raise ModelError("operator.realms", "at least one NAI realm with its EAP methods")
        if not 0 <= self.anqp_domain_id <= 65535:
            raise ModelError("operator.anqp_domain_id", "must be 0-65535")
        if not 60 <= self.interim_interval <= 86400:
            raise ModelError("operator.interim_interval", "must be 60-86400 seconds (hostapd refuses < 60)")
        if not re.fullmatch(r"[A-Z]{2}", self.country):
            raise ModelError("operator.country", "must be an ISO 3166 alpha-2 code")

    @property
    def operator_name(self) -> str:
        """RFC 5580 Operator-Name with namespace 4 (WBAID)."""
        return "4" + self.wbaid


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    name_ja: str
    name_en: str
    category: SiteCategory
    municipality_code: str  # local government code, e.g. "131041" (Shinjuku)
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    url_ja: str | None = None  # venue URLs: https only
    url_en: str | None = None
    venue_override: tuple[int, int] | None = None  # (group, type) when the category's default is wrong

    def __post_init__(self) -> None:
        if not self.id:
            raise ModelError("site.id", "is required")
        if not re.fullmatch(r"\d{6}", self.municipality_code):
            raise ModelError("site.municipality_code", "must be the 6-digit local government code")
        for name in ("name_ja", "name_en"):
            try:
                LangText("jpn" if name == "name_ja" else "eng", getattr(self, name))
            except AnqpError as exc:
                raise ModelError(f"site.{name}", str(exc)) from None
        for name in ("url_ja", "url_en"):
            url = getattr(self, name)
            if url is not None and not re.fullmatch(r"https://[^\s/]+(/\S*)?", url):
                raise ModelError(f"site.{name}", "venue URLs must be https:// URLs")
        lat_bad = self.lat is not None and not -90 <= self.lat <= 90
        if lat_bad or (self.lon is not None and not -180 <= self.lon <= 180):
            raise ModelError("site.lat", "coordinates out of range")
        try:
            _ = self.venue
        except VenueError as exc:
            raise ModelError("site.venue_override", str(exc)) from None

    @property
    def venue(self) -> Venue:
        return Venue(*self.venue_override) if self.venue_override else venue_for(self.category)


@dataclass(frozen=True, slots=True)
class Radio:
    name: str  # the radio's name on the platform (OpenWrt ``radio0``; hostapd: the file name)
    band: Band
    channel: int
    interface: str  # first BSS's interface (``wlan0``)
    bssids: tuple[str, ...] = ()  # per BSS in plan order; empty = the driver assigns them
    disaster_interface: str = ""  # the secondary BSS's interface; default ``<interface>-1``
    owe_interface: str = ""  # the OWE twin's interface (OWE transition); default ``<interface>-2``
    bridge: str = "br-lan"  # proxy_arp (HS2.0) needs the BSSes in a bridge

    def __post_init__(self) -> None:
        for name in ("interface", "disaster_interface", "owe_interface", "bridge"):
            value = getattr(self, name)
            if (value or name == "interface") and not _IFNAME.match(value):
                raise ModelError(f"radio.{name}", "must be a Linux interface name (1-15 of A-Za-z0-9_.-)")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", self.name):
            raise ModelError("radio.name", "must be 1-32 of A-Za-z0-9_-")
        for i, mac in enumerate(self.bssids):
            try:
                check_mac(mac, "BSSID")
            except AnqpError as exc:
                raise ModelError(f"radio.bssids[{i}]", str(exc)) from None
        if not 1 <= self.channel <= 233:
            raise ModelError("radio.channel", "must be a channel number")

    @property
    def secondary_interface(self) -> str:
        return self.disaster_interface or f"{self.interface[:13]}-1"

    @property
    def owe_twin_interface(self) -> str:
        return self.owe_interface or f"{self.interface[:13]}-2"


@dataclass(frozen=True, slots=True)
class AccessPoint:
    id: str
    site_id: str
    nas_identifier: str  # per AP; each BSS gets ``<this>-<radio>-<n>``
    radios: tuple[Radio, ...]
    platform: Platform = Platform.HOSTAPD
    rcoi_case: Case = "upper"  # some vendors want lower-case RCOIs
    hessid: str | None = None  # default: the first BSSID of the first radio, when known
    ctrl_interface: str = "/var/run/hostapd"

    def __post_init__(self) -> None:
        if not self.id:
            raise ModelError("ap.id", "is required")
        if not _NASID.match(self.nas_identifier):
            raise ModelError("ap.nas_identifier", "must be 1-40 of A-Za-z0-9_.:- (unique per AP)")
        if not self.radios:
            raise ModelError("ap.radios", "at least one radio")
        names = [r.name for r in self.radios]
        if len(set(names)) != len(names):
            raise ModelError("ap.radios", "radio names must be unique")
        if self.hessid is not None:
            try:
                check_mac(self.hessid, "HESSID")
            except AnqpError as exc:
                raise ModelError("ap.hessid", str(exc)) from None


@dataclass(frozen=True, slots=True)
class DisasterState:
    """Whether this AP carries ``00000JAPAN``: on from the incident's start until ``until`` (UTC)."""

    until: datetime.datetime | None = None
    reason: str = ""
    incident_id: str | None = None
    owe: bool | None = None  # None: the operator's default

    def __post_init__(self) -> None:
        if self.until is not None and self.until.tzinfo is None:
            raise ModelError("disaster.until", "must carry a time zone (UTC)")

    def active(self, now: datetime.datetime) -> bool:
        return self.until is not None and now < self.until


NO_DISASTER = DisasterState()


def _check_ssid(name: str, ssid: str) -> None:
    if not 1 <= len(ssid.encode()) <= 32:
        raise ModelError(name, "an SSID is 1-32 octets")
    if any(ord(c) < 0x20 for c in ssid):
        raise ModelError(name, "no control characters in an SSID")
