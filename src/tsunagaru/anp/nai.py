"""Outer-identity (NAI, RFC 7542) checks and realm extraction, for routing decisions.

The ANP routes on the realm of the outer identity only; it never needs the user part, and logs must
not show it (see :func:`tsunagaru.logs.redact`).
"""

from __future__ import annotations

import re
from typing import Final

MAX_NAI = 253
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# RFC 7542 2.2 utf8-atext minus what we refuse in a user part: controls, space, and the separators.
_BAD_USER = re.compile(r"[\x00-\x20\x7f@\\\"(),:;<>\[\]]")
# Realms already found valid, as received -> normalised: an ANP sees few realms many times, and checking
# every label with a regex was ~3 % of its CPU per request. Bounded (realms come from the network).
_VALID_REALMS: dict[str, str] = {}
MAX_KNOWN_REALMS = 4096


class NaiError(ValueError):
    """The outer User-Name is not a routable NAI; ``reason`` is safe to log (no user part)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Nai:
    """``user@realm``, a value (one per request: a plain slotted class, cheaper than a frozen dataclass)."""

    __slots__ = ("realm", "user")

    def __init__(self, user: str, realm: str) -> None:
        self.user: Final = user
        self.realm: Final = realm  # lower case, without a trailing dot

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Nai) and (self.user, self.realm) == (other.user, other.realm)

    def __hash__(self) -> int:
        return hash((self.user, self.realm))

    def __repr__(self) -> str:
        return f"Nai(user={self.user!r}, realm={self.realm!r})"


def parse_nai(raw: bytes) -> Nai:
    """Split ``user@realm``; the realm must be a DNS-like name with at least two labels."""
    if not raw:
        raise NaiError("User-Name is empty")
    if len(raw) > MAX_NAI:
        raise NaiError(f"User-Name is {len(raw)} octets, over {MAX_NAI}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NaiError("User-Name is not UTF-8") from None
    if text.count("@") != 1:
        raise NaiError("User-Name has no realm" if "@" not in text else "User-Name has more than one @")
    user, realm = text.split("@")
    if _BAD_USER.search(user):
        raise NaiError("user part has forbidden characters")
    return Nai(user, _valid_realm(realm))


def _valid_realm(text: str) -> str:
    known = _VALID_REALMS.get(text)
    if known is not None:
        return known
    realm = text.rstrip(".").lower()
    labels = realm.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise NaiError("realm is not a valid domain name")
    if len(_VALID_REALMS) >= MAX_KNOWN_REALMS:
        _VALID_REALMS.clear()
    _VALID_REALMS[text] = realm
    return realm
