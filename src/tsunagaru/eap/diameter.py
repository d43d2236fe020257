"""Diameter-style AVPs as TTLS carries them inside the tunnel (RFC 5281 10.1), bounded both ways."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from tsunagaru.eap.packet import MalformedEap, Reader

FLAG_V = 0x80
FLAG_M = 0x40
MAX_AVPS = 64

# RADIUS attribute numbers reused as AVP codes (vendor 0) and the Microsoft ones (vendor 311).
USER_NAME = 1
USER_PASSWORD = 2
REPLY_MESSAGE = 18
EAP_MESSAGE = 79
MICROSOFT = 311
MS_CHAP_ERROR = 2
MS_CHAP_CHALLENGE = 11
MS_CHAP2_RESPONSE = 25
MS_CHAP2_SUCCESS = 26


@dataclass(frozen=True, slots=True)
class Avp:
    code: int
    data: bytes
    vendor: int = 0
    mandatory: bool = True

    def to_bytes(self) -> bytes:
        flags = (FLAG_V if self.vendor else 0) | (FLAG_M if self.mandatory else 0)
        header = 12 if self.vendor else 8
        length = header + len(self.data)
        if length >= 1 << 24:
            raise MalformedEap("AVP too long")
        out = struct.pack("!IB", self.code, flags) + length.to_bytes(3, "big")
        if self.vendor:
            out += struct.pack("!I", self.vendor)
        return out + self.data + b"\x00" * (-length % 4)


def parse_avps(data: bytes, limit: int = MAX_AVPS) -> list[Avp]:
    """All AVPs in ``data``; lengths are checked and the count is capped."""
    r = Reader(data)
    out: list[Avp] = []
    while r.remaining():
        if len(out) >= limit:
            raise MalformedEap(f"more than {limit} AVPs")
        code = r.u32("AVP code")
        flags = r.u8("AVP flags")
        length = r.u24("AVP length")
        header = 12 if flags & FLAG_V else 8
        if length < header:
            raise MalformedEap(f"AVP {code} length {length} is shorter than its header")
        vendor = r.u32("AVP vendor") if flags & FLAG_V else 0
        value = r.take(length - header, f"AVP {code} data")
        r.take(min(-length % 4, r.remaining()), "AVP padding")
        out.append(Avp(code, value, vendor, bool(flags & FLAG_M)))
    return out


def encode_avps(avps: Iterable[Avp]) -> bytes:
    return b"".join(a.to_bytes() for a in avps)


def find(avps: list[Avp], code: int, vendor: int = 0) -> bytes | None:
    for a in avps:
        if a.code == code and a.vendor == vendor:
            return a.data
    return None


def eap_payload(avps: list[Avp]) -> bytes | None:
    """All EAP-Message AVPs joined (a long EAP packet may be split like RADIUS's)."""
    parts = [a.data for a in avps if a.code == EAP_MESSAGE and a.vendor == 0]
    return b"".join(parts) if parts else None
