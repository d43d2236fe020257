"""The EAP packet (RFC 3748 section 4) as a frozen value, with one bounded decoder.

Every parser in this package raises :class:`MalformedEap` and nothing else, so the session and the
RADIUS front catch exactly one error type at their boundary (dnspython's ``FormError`` idea).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

HEADER = struct.Struct("!BBH")
MAX_EAP_LEN = 65535


class MalformedEap(Exception):
    """A packet, framing or TLV that breaks its format; ``reason`` says how (for logs, never for peers)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EapCode(IntEnum):
    REQUEST = 1
    RESPONSE = 2
    SUCCESS = 3
    FAILURE = 4


class EapType(IntEnum):
    IDENTITY = 1
    NOTIFICATION = 2
    NAK = 3
    MD5_CHALLENGE = 4
    TLS = 13
    TTLS = 21
    PEAP = 25
    MSCHAPV2 = 26
    TLV = 33  # PEAP's EAP-TLV (Result, Crypto-Binding), carried inside the tunnel
    EXPANDED = 254


@dataclass(frozen=True, slots=True)
class EapPacket:
    """One EAP packet. ``type`` is None for Success and Failure; ``data`` is the Type-Data."""

    code: int
    identifier: int
    type: int | None = None
    data: bytes = b""

    @classmethod
    def from_bytes(cls, raw: bytes) -> EapPacket:
        """Decode one packet; octets past Length are padding (RFC 3748 4.1) and ignored."""
        if len(raw) < HEADER.size:
            raise MalformedEap(f"EAP packet of {len(raw)} octets is shorter than its 4-octet header")
        code, identifier, length = HEADER.unpack_from(raw)
        if length < HEADER.size or length > len(raw):
            raise MalformedEap(f"EAP length {length} outside 4..{len(raw)}")
        if code in (EapCode.SUCCESS, EapCode.FAILURE):
            if length != HEADER.size:
                raise MalformedEap(f"EAP code {code} must be 4 octets, not {length}")
            return cls(code, identifier)
        if code not in (EapCode.REQUEST, EapCode.RESPONSE):
            raise MalformedEap(f"unknown EAP code {code}")
        if length < HEADER.size + 1:
            raise MalformedEap("EAP Request/Response without a Type octet")
        return cls(code, identifier, raw[4], bytes(raw[5:length]))

    def to_bytes(self) -> bytes:
        if self.type is None:
            return HEADER.pack(self.code, self.identifier, HEADER.size)
        length = HEADER.size + 1 + len(self.data)
        if length > MAX_EAP_LEN:
            raise MalformedEap(f"EAP packet would be {length} octets")
        return HEADER.pack(self.code, self.identifier, length) + bytes((self.type,)) + self.data


def request(identifier: int, eap_type: int, data: bytes = b"") -> EapPacket:
    return EapPacket(EapCode.REQUEST, identifier & 0xFF, eap_type, data)


def success(identifier: int) -> EapPacket:
    return EapPacket(EapCode.SUCCESS, identifier & 0xFF)


def failure(identifier: int) -> EapPacket:
    return EapPacket(EapCode.FAILURE, identifier & 0xFF)


def nak_types(data: bytes) -> tuple[int, ...]:
    """The types a legacy Nak proposes (RFC 3748 5.3.1); 0 means "none of them"."""
    if not data:
        raise MalformedEap("Nak without a desired type")
    return tuple(t for t in data if t != 0)


def expanded(data: bytes) -> tuple[int, int, bytes]:
    """Vendor-Id, Vendor-Type and the rest of an Expanded Type (254) payload (RFC 3748 5.7)."""
    r = Reader(data)
    return r.u24("Vendor-Id"), r.u32("Vendor-Type"), r.rest()


def expanded_nak_types(data: bytes) -> tuple[int, ...]:
    """The standard types an Expanded Nak (RFC 3748 5.3.2) proposes; vendor-specific ones are dropped."""
    if not data or len(data) % 8:
        raise MalformedEap("Expanded Nak entries must be 8 octets each")
    out: list[int] = []
    for i in range(0, len(data), 8):
        vendor, vendor_type, _ = expanded(data[i + 1 : i + 8])
        if data[i] != EapType.EXPANDED:
            raise MalformedEap("Expanded Nak entry without type 254")
        if vendor == 0 and 0 < vendor_type < EapType.EXPANDED:
            out.append(vendor_type)
    return tuple(out)


def identity_text(data: bytes, limit: int = 253) -> str:
    """The identity of an Identity response: UTF-8, NUL-terminated text is allowed (RFC 3748 5.1)."""
    data = data.split(b"\x00", 1)[0]
    if len(data) > limit:
        raise MalformedEap(f"identity of {len(data)} octets is over {limit}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedEap("identity is not UTF-8") from exc


class Reader:
    """A bounded cursor over bytes: every read checks the remaining length first (one reader for all TLVs)."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end

    def remaining(self) -> int:
        return self.end - self.pos

    def take(self, n: int, what: str = "field") -> bytes:
        if n < 0 or n > self.end - self.pos:
            raise MalformedEap(f"{what} needs {n} octets, {self.end - self.pos} remain")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return bytes(out)

    def u8(self, what: str = "octet") -> int:
        return self.take(1, what)[0]

    def u16(self, what: str = "u16") -> int:
        return int.from_bytes(self.take(2, what), "big")

    def u24(self, what: str = "u24") -> int:
        return int.from_bytes(self.take(3, what), "big")

    def u32(self, what: str = "u32") -> int:
        return int.from_bytes(self.take(4, what), "big")

    def rest(self) -> bytes:
        return self.take(self.remaining())
