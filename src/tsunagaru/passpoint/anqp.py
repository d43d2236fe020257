"""The other ANQP / HS2.0 values hostapd advertises, each with its hostapd syntax and a parser the linter
uses: language-tagged names, domain names, 3GPP cell networks, IP address type availability, WAN
metrics, connection capabilities, HESSID. Syntax from hostapd 2.10's example hostapd.conf.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

_LANG = re.compile(r"^[a-z]{2,3}$")
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$|^[a-z0-9-]+\.test$")
_MCC, _MNC = re.compile(r"^\d{3}$"), re.compile(r"^\d{2,3}$")
MAX_NAME_OCTETS = 252  # hostapd: a name duple holds at most 252 octets of text


class AnqpError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class LangText:
    """``LANG:text`` with an ISO 639-2 code (``jpn``, ``eng``)."""

    lang: str
    text: str

    def __post_init__(self) -> None:
        if not _LANG.match(self.lang):
            raise AnqpError(f"language code {self.lang!r} must be 2-3 lower-case letters (ISO 639: jpn, eng)")
        if not self.text or len(self.text.encode()) > MAX_NAME_OCTETS:
            raise AnqpError(f"{self.lang} text must be 1-{MAX_NAME_OCTETS} octets of UTF-8")
        if "\n" in self.text or "\r" in self.text:
            raise AnqpError(f"{self.lang} text must be one line")

    def hostapd(self) -> str:
        return f"{self.lang}:{self.text}"


def parse_lang_text(value: str) -> LangText:
    lang, sep, text = value.partition(":")
    if not sep:
        raise AnqpError("expected LANG:text with an ISO 639 language code")
    return LangText(lang, text)


def check_domain(name: str) -> str:
    if not _DOMAIN.match(name):
        raise AnqpError(f"domain name {name!r} is not a lower-case DNS name")
    return name


def check_mac(value: str, what: str) -> str:
    if not _MAC.match(value):
        raise AnqpError(f"{what} {value!r} must be a MAC address like 02:00:00:00:00:01 (lower case)")
    return value


@dataclass(frozen=True, slots=True)
class CellNetwork:
    mcc: str
    mnc: str

    def __post_init__(self) -> None:
        if not _MCC.match(self.mcc) or not _MNC.match(self.mnc):
            raise AnqpError(f"3GPP network {self.mcc},{self.mnc}: MCC is 3 digits, MNC 2-3 digits")


def cell_networks_hostapd(nets: tuple[CellNetwork, ...]) -> str:
    return ";".join(f"{n.mcc},{n.mnc}" for n in nets)


class Ipv4Availability(IntEnum):
    NOT_AVAILABLE = 0
    PUBLIC = 1
    PORT_RESTRICTED = 2
    SINGLE_NAT = 3
    DOUBLE_NAT = 4
    PORT_RESTRICTED_SINGLE_NAT = 5
    PORT_RESTRICTED_DOUBLE_NAT = 6
    UNKNOWN = 7


class Ipv6Availability(IntEnum):
    NOT_AVAILABLE = 0
    AVAILABLE = 1
    UNKNOWN = 2


def ipaddr_type_hostapd(v4: Ipv4Availability, v6: Ipv6Availability) -> str:
    return f"{(int(v4) & 0x3F) << 2 | (int(v6) & 0x3):02x}"


@dataclass(frozen=True, slots=True)
class WanMetrics:
    """``hs20_wan_metrics``: link status 1 up; speeds in kbit/s (0 unknown); loads /255; LMD in 0.1 s."""

    link_status: int = 1
    symmetric: bool = False
    at_capacity: bool = False
    downlink_kbps: int = 0
    uplink_kbps: int = 0
    downlink_load: int = 0
    uplink_load: int = 0
    lmd: int = 0

    def __post_init__(self) -> None:
        if self.link_status not in (1, 2, 3):
            raise AnqpError("WAN link status is 1 (up), 2 (down) or 3 (test)")
        if not (0 <= self.downlink_kbps < 2**32 and 0 <= self.uplink_kbps < 2**32):
            raise AnqpError("WAN speeds are 0..4294967295 kbit/s")
        if not (0 <= self.downlink_load <= 255 and 0 <= self.uplink_load <= 255 and 0 <= self.lmd <= 65535):
            raise AnqpError("WAN loads are 0..255 and the measurement duration 0..65535")

    def hostapd(self) -> str:
        info = self.link_status | (0x4 if self.symmetric else 0) | (0x8 if self.at_capacity else 0)
        return (f"{info:02x}:{self.downlink_kbps}:{self.uplink_kbps}:{self.downlink_load}:{self.uplink_load}:"
                f"{self.lmd}")


class PortStatus(IntEnum):
    CLOSED = 0
    OPEN = 1
    UNKNOWN = 2


@dataclass(frozen=True, slots=True)
class ConnCapability:
    """``hs20_conn_capab=<IP protocol>:<port>:<status>`` (1 ICMP, 6 TCP, 17 UDP)."""

    protocol: int
    port: int
    status: PortStatus = PortStatus.OPEN

    def __post_init__(self) -> None:
        if self.protocol not in (1, 6, 17, 50) or not 0 <= self.port <= 65535:
            raise AnqpError(f"connection capability {self.protocol}:{self.port}: protocol 1/6/17/50, port 0-65535")

    def hostapd(self) -> str:
        return f"{self.protocol}:{self.port}:{int(self.status)}"


#: What a phone needs open to be useful (Wi-Fi Alliance HS2.0 tech spec, "Connection Capability"):
#: web, VPNs (ESP, IKE, NAT-T), ICMP.
DEFAULT_CONN_CAPABILITIES = (
    ConnCapability(1, 0), ConnCapability(6, 80), ConnCapability(6, 443), ConnCapability(17, 500),
    ConnCapability(17, 4500), ConnCapability(50, 0),
)
