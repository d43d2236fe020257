"""Validation of realms and of every name and port that comes out of DNS.

Why this is strict: CVE-2021-32642 (radsecproxy) was configuration injection through DNS data -- an SRV
target holding quotes, braces or newlines was pasted into a generated config. We never paste names into
configs, but names also reach logs, TLS SNI and the operator's terminal, so a name is accepted only if
it is a plain ASCII LDH name of legal length, and is returned in one canonical form (lower case, no
final dot). Each refusal carries a reason an operator can read.
"""

from __future__ import annotations

import re

__all__ = [
    "InvalidName",
    "InvalidRealm",
    "rewrite_3gpp",
    "safe_text",
    "validate_host",
    "validate_port",
    "validate_realm",
    "validate_service_name",
]

MAX_NAME = 253  # presentation form without the final dot (RFC 1035: 255 octets on the wire)
MAX_LABEL = 63

_LDH = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
# Service labels of SRV owner names (RFC 2782, RFC 6335): "_radsec", "_tcp".
_SERVICE_LABEL = re.compile(r"_[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_3GPP = re.compile(r"wlan\.mnc([0-9]{3})\.mcc([0-9]{3})\.3gppnetwork\.org")


class InvalidName(ValueError):
    """A name or port from DNS (or given by a caller) is not acceptable; ``reason`` says why."""

    def __init__(self, value: object, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"{safe_text(str(value))}: {reason}")


class InvalidRealm(InvalidName):
    """The realm of a NAI is not RFC 7542 realm syntax: no DNS lookup is made for it."""


def safe_text(value: str, limit: int = 80) -> str:
    """Quote a name for logs and terminals: control characters and non-ASCII come out escaped."""
    shown = value if len(value) <= limit else value[:limit] + "..."
    return ascii(shown)


def _bad_character(text: str, allowed: str) -> str | None:
    for ch in text:
        if not (ch.isascii() and (ch.isalnum() or ch in allowed)):
            return ch
    return None


def _split(value: object, allowed: str, kind: str, error: type[InvalidName]) -> list[str]:
    """Common checks: type, characters, lengths. Returns the lower-case labels."""
    if not isinstance(value, str):
        raise error(value, f"{kind} must be text, not {type(value).__name__}")
    if value == "" or value == ".":
        raise error(value, f"empty {kind}")
    bad = _bad_character(value, allowed)
    if bad is not None:
        raise error(value, f"character {bad!r} is not allowed in a {kind}")
    text = value.lower()
    if len(text) > MAX_NAME:
        raise error(value, f"{kind} is {len(text)} characters long, the limit is {MAX_NAME}")
    labels = text.split(".")
    for label in labels:
        if label == "":
            raise error(value, f"empty label in {kind} (two dots in a row, or a leading dot)")
        if len(label) > MAX_LABEL:
            raise error(value, f"label of {len(label)} characters in {kind}, the limit is {MAX_LABEL}")
    return labels


def _strip_final_dot(value: object) -> object:
    # DNS names from records are absolute; exactly one final dot is the root, anything more is junk.
    if isinstance(value, str) and value.endswith(".") and value != ".":
        return value[:-1]
    return value


def validate_host(value: object) -> str:
    """An SRV target (a host to connect to): LDH labels only, top label not numeric (no IP literals)."""
    labels = _split(_strip_final_dot(value), "-.", "host name", InvalidName)
    for label in labels:
        if not _LDH.fullmatch(label):
            raise InvalidName(value, f"label {label!r} must start and end with a letter or digit")
    if labels[-1].isdigit():
        raise InvalidName(value, "top-level label is all digits (an address is not a host name)")
    return ".".join(labels)


def validate_service_name(value: object) -> str:
    """A NAPTR replacement (the SRV owner name): LDH labels, plus leading ``_service``/``_proto`` labels."""
    labels = _split(_strip_final_dot(value), "-._", "service name", InvalidName)
    seen_host = False
    for label in labels:
        if _SERVICE_LABEL.fullmatch(label) and not seen_host:
            continue
        if not _LDH.fullmatch(label):
            raise InvalidName(value, f"label {label!r} is neither a _service label nor a letter-digit-hyphen"
                                     " label")
        seen_host = True
    if not seen_host:
        raise InvalidName(value, "service name has no host part after its _service labels")
    return ".".join(labels)


def validate_port(value: object) -> int:
    """A port from an SRV record: 1..65535. Port 0 means nothing can be reached, so it is refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidName(value, "port must be an integer")
    if not 1 <= value <= 65535:
        raise InvalidName(value, "port must be within 1..65535")
    return value


def validate_realm(value: object) -> str:
    """The realm part of a NAI (RFC 7542 section 2.2), as a DNS name: at least two LDH labels.

    Internationalised realms must arrive in A-label (``xn--``) form; a trailing dot is refused because
    it is not part of NAI syntax.
    """
    if isinstance(value, str) and value.endswith("."):
        raise InvalidRealm(value, "a realm has no trailing dot")
    if isinstance(value, str) and not value.isascii():
        raise InvalidRealm(value, "non-ASCII realm: give it in A-label (xn--) form")
    labels = _split(value, "-.", "realm", InvalidRealm)
    for label in labels:
        if not _LDH.fullmatch(label):
            raise InvalidRealm(value, f"label {label!r} must start and end with a letter or digit")
    if len(labels) < 2:
        raise InvalidRealm(value, "a realm needs at least two labels (RFC 7542: 1*(label \".\") label)")
    return ".".join(labels)


def rewrite_3gpp(realm: str) -> str | None:
    """The OpenRoaming rule for 3GPP realms: ``wlan.mncXXX.mccYYY.3gppnetwork.org`` is looked up as
    ``wlan.mncXXX.mccYYY.pub.3gppnetwork.org`` (and never under its original name). None if no rewrite.
    """
    match = _3GPP.fullmatch(realm.lower())
    if match is None:
        return None
    mnc, mcc = match.groups()
    return f"wlan.mnc{mnc}.mcc{mcc}.pub.3gppnetwork.org"
