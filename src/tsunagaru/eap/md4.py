"""MD4 (RFC 1320), written out because MSCHAPv2 needs it and hashlib may not have it.

MD4 is broken as a hash and OpenSSL 3 moved it to the "legacy" provider, which most distributions do not
load, so ``hashlib.new("md4")`` raises on them. MSCHAPv2 is defined over the NT hash, MD4 of the
UTF-16LE password (RFC 2759), so an IdP that offers it must compute MD4 whatever OpenSSL ships. Speed
does not matter: it runs once when a password is set, over a few dozen octets.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

_MASK = 0xFFFFFFFF
_Func = Callable[[int, int, int], int]


def _f(x: int, y: int, z: int) -> int:
    return (x & y) | (~x & z)


def _g(x: int, y: int, z: int) -> int:
    return (x & y) | (x & z) | (y & z)


def _h(x: int, y: int, z: int) -> int:
    return x ^ y ^ z


# (function, word order, shift per step modulo 4, additive constant) for rounds 1-3 (RFC 1320 3.4).
_ROUNDS: tuple[tuple[_Func, Sequence[int], Sequence[int], int], ...] = (
    (_f, range(16), (3, 7, 11, 19), 0),
    (_g, (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), (3, 5, 9, 13), 0x5A827999),
    (_h, (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15), (3, 9, 11, 15), 0x6ED9EBA1),
)


def _rotl(value: int, shift: int) -> int:
    value &= _MASK
    return ((value << shift) | (value >> (32 - shift))) & _MASK


def _pad(data: bytes) -> bytes:
    """Append 0x80, zeros to 56 mod 64, then the bit length as 64-bit little-endian."""
    zeros = (55 - len(data)) % 64
    return data + b"\x80" + b"\x00" * zeros + struct.pack("<Q", (len(data) * 8) & 0xFFFFFFFFFFFFFFFF)


def _compress(state: tuple[int, int, int, int], block: bytes) -> tuple[int, int, int, int]:
    words = struct.unpack("<16I", block)
    a, b, c, d = state
    for func, order, shifts, const in _ROUNDS:
        for step, k in enumerate(order):
            a = _rotl(a + func(b, c, d) + words[k] + const, shifts[step % 4])
            a, b, c, d = d, a, b, c  # the next step updates the register before this one
    a0, b0, c0, d0 = state
    return (a0 + a) & _MASK, (b0 + b) & _MASK, (c0 + c) & _MASK, (d0 + d) & _MASK


def md4(data: bytes) -> bytes:
    """The 16-octet MD4 digest of ``data``."""
    state = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
    padded = _pad(data)
    for offset in range(0, len(padded), 64):
        state = _compress(state, padded[offset : offset + 64])
    return struct.pack("<4I", *state)
