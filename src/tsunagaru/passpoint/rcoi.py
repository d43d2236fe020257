"""Roaming Consortium OIs: the WBA OpenRoaming 5-octet values with their policy fields, and any other OI.

OpenRoaming OIs are ``PPPPPP a b c 0`` (hex nibbles) after a settlement prefix, as the WBA RCOI
calculator lays them out: ``a`` a bit field (0x8 enhanced identity proofing, 0x2 Silver tier, 0x1 users
identified; 0x4 reserved), ``b`` the identity type (0 all ... B retail), ``c`` 0x8 short-lived
credentials (others reserved), the last nibble 0. ``004096`` is the legacy 3-octet OpenRoaming OI.
hostapd accepts any OI of 3 to 15 octets as hex; vendors differ on case, so formatting takes a case.
Written by hand: the format is a few nibbles, no library covers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Literal

Case = Literal["upper", "lower"]

LEGACY_OPENROAMING = "004096"
_HEX = re.compile(r"^[0-9A-Fa-f]+$")


class RcoiError(ValueError):
    """A malformed RCOI; ``value`` is what was given."""

    def __init__(self, value: str, problem: str) -> None:
        super().__init__(f"RCOI {value!r}: {problem}")
        self.value = value
        self.problem = problem


class Settlement(StrEnum):
    SETTLEMENT_FREE = "5A03BA"
    SETTLED = "BAA2D0"


_PREFIXES = frozenset(s.value for s in Settlement)


class IdentityType(IntEnum):
    ALL = 0x0
    SERVICE_PROVIDER = 0x1
    CLOUD = 0x2
    ENTERPRISE = 0x3
    GOVERNMENT = 0x4
    AUTOMOTIVE = 0x5
    HOSPITALITY = 0x6
    AVIATION = 0x7
    EDUCATION = 0x8
    CABLE = 0x9
    MANUFACTURER = 0xA
    RETAIL = 0xB


class Tier(StrEnum):
    BRONZE = "bronze"
    SILVER = "silver"


ENHANCED_PROOFING, RESERVED_A, SILVER, IDENTIFIED = 0x8, 0x4, 0x2, 0x1
SHORT_LIVED = 0x8

IDENTITY_WORDS = {
    IdentityType.ALL: "all identity types", IdentityType.SERVICE_PROVIDER: "service provider",
    IdentityType.CLOUD: "cloud", IdentityType.ENTERPRISE: "enterprise", IdentityType.GOVERNMENT: "government",
    IdentityType.AUTOMOTIVE: "automotive", IdentityType.HOSPITALITY: "hospitality",
    IdentityType.AVIATION: "aviation", IdentityType.EDUCATION: "education", IdentityType.CABLE: "cable",
    IdentityType.MANUFACTURER: "manufacturer", IdentityType.RETAIL: "retail",
}


@dataclass(frozen=True, slots=True)
class OpenRoamingRcoi:
    """One OpenRoaming OI with its policy fields (the defaults are ``5A03BA0000``)."""

    settlement: Settlement = Settlement.SETTLEMENT_FREE
    tier: Tier = Tier.BRONZE
    users_identified: bool = False
    enhanced_proofing: bool = False
    identity_type: IdentityType = IdentityType.ALL
    short_lived: bool = False

    def hex(self, case: Case = "upper") -> str:
        a = (ENHANCED_PROOFING if self.enhanced_proofing else 0) | (SILVER if self.tier is Tier.SILVER else 0) \
            | (IDENTIFIED if self.users_identified else 0)
        c = SHORT_LIVED if self.short_lived else 0
        text = f"{self.settlement.value}{a:X}{int(self.identity_type):X}{c:X}0"
        return text if case == "upper" else text.lower()

    def words(self) -> list[str]:
        """The policy fields in words, one per line, like the WBA calculator shows them."""
        return [
            "settlement-free" if self.settlement is Settlement.SETTLEMENT_FREE else "settled",
            f"{self.tier.value} tier",
            "users identified" if self.users_identified else "anonymous users allowed",
            "enhanced identity proofing" if self.enhanced_proofing else "baseline identity proofing",
            f"identity type: {IDENTITY_WORDS[self.identity_type]}",
            "short-lived credentials only" if self.short_lived else "long-lived credentials allowed",
        ]


@dataclass(frozen=True, slots=True)
class OtherRcoi:
    """An OI that is not a 5-octet OpenRoaming one (``004096``, eduroam's ``001BC50460``, ...)."""

    value: str  # upper-case hex

    def hex(self, case: Case = "upper") -> str:
        return self.value if case == "upper" else self.value.lower()

    def words(self) -> list[str]:
        if self.value == LEGACY_OPENROAMING:
            return ["legacy 3-octet OpenRoaming OI (settlement-free, all identity types)"]
        return [f"not an OpenRoaming OI ({len(self.value) // 2} octets)"]


Rcoi = OpenRoamingRcoi | OtherRcoi


def parse_rcoi(text: str) -> Rcoi:
    """A hex OI (3-15 octets, either case, ``-``/``:`` separators allowed) -> its typed form."""
    value = text.strip().replace("-", "").replace(":", "")
    if not value or not _HEX.match(value):
        raise RcoiError(text, "must be hexadecimal")
    if len(value) % 2:
        raise RcoiError(text, "must be a whole number of octets (an even count of hex digits)")
    if not 3 <= len(value) // 2 <= 15:
        raise RcoiError(text, f"must be 3 to 15 octets, not {len(value) // 2}")
    value = value.upper()
    prefix = value[:6]
    if len(value) != 10 or prefix not in _PREFIXES:
        if prefix in _PREFIXES:
            raise RcoiError(text, "an OpenRoaming OI (5A03BA/BAA2D0 prefix) must be 5 octets")
        return OtherRcoi(value)
    return _openroaming(text, Settlement(prefix), value[6:])


def _openroaming(text: str, settlement: Settlement, tail: str) -> OpenRoamingRcoi:
    a, b, c, last = (int(n, 16) for n in tail)
    if a & RESERVED_A:
        raise RcoiError(text, "bit 0x4 of the policy nibble is reserved")
    if b > max(IdentityType):
        raise RcoiError(text, f"identity type {b:X} is not assigned (0-B)")
    if c & ~SHORT_LIVED:
        raise RcoiError(text, "only bit 0x8 of the credential nibble is assigned")
    if last:
        raise RcoiError(text, "the last nibble is reserved and must be 0")
    return OpenRoamingRcoi(
        settlement=settlement, tier=Tier.SILVER if a & SILVER else Tier.BRONZE,
        users_identified=bool(a & IDENTIFIED), enhanced_proofing=bool(a & ENHANCED_PROOFING),
        identity_type=IdentityType(b), short_lived=bool(c & SHORT_LIVED),
    )


def is_openroaming(rcoi: Rcoi) -> bool:
    return isinstance(rcoi, OpenRoamingRcoi) or rcoi.value == LEGACY_OPENROAMING
