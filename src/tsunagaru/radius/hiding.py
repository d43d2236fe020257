"""Attribute hiding: User-Password (RFC 2865 5.2), Tunnel-Password (RFC 2868 3.5), MS-MPPE keys (RFC 2548).

A proxy decrypts these with the secret of the hop it came from and encrypts them again for the next
hop, so both directions are here and neither needs a packet object.
"""

from __future__ import annotations

import os

from tsunagaru.radius.digest import md5
from tsunagaru.radius.errors import MalformedPacket

MAX_PASSWORD = 128


def _xor_chain(secret: bytes, seed: bytes, data: bytes, *, decrypt: bool) -> bytes:
    out = bytearray()
    prev = seed
    for i in range(0, len(data), 16):
        block = data[i : i + 16]
        pad = md5(secret, prev)
        n = len(block)  # always 16 (callers pad); one integer XOR instead of 16 in a generator
        res = (int.from_bytes(block, "big") ^ int.from_bytes(pad[:n], "big")).to_bytes(n, "big")
        out += res
        prev = block if decrypt else res
    return bytes(out)


def _pad16(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 16 or (16 if not data else 0))


def hide_user_password(password: bytes, secret: bytes, request_authenticator: bytes) -> bytes:
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"User-Password is {len(password)} octets, over {MAX_PASSWORD}")
    return _xor_chain(secret, request_authenticator, _pad16(password), decrypt=False)


def reveal_user_password(hidden: bytes, secret: bytes, request_authenticator: bytes) -> bytes:
    if not hidden or len(hidden) % 16 or len(hidden) > MAX_PASSWORD:
        raise MalformedPacket(f"User-Password of {len(hidden)} octets is not 16..128 in steps of 16")
    return _xor_chain(secret, request_authenticator, hidden, decrypt=True).rstrip(b"\x00")


def salt_encrypt(
    plain: bytes, secret: bytes, request_authenticator: bytes, *, salt: bytes | None = None
) -> bytes:
    """Salt-encrypt ``plain`` (RFC 2548 2.4.2 / RFC 2868 3.5): salt(2) || encrypted(len || plain || pad).

    The tag octet of Tunnel-Password is not included; the caller prefixes it.
    """
    if salt is None:
        salt = os.urandom(2)
    if len(salt) != 2:
        raise ValueError("salt must be 2 octets")
    salt = bytes((salt[0] | 0x80, salt[1]))  # the most significant bit must be set
    if len(plain) > 239:
        raise ValueError("salt-encrypted value too long")
    data = bytes((len(plain),)) + plain
    data += b"\x00" * (-len(data) % 16)
    return salt + _xor_chain(secret, request_authenticator + salt, data, decrypt=False)


def salt_decrypt(value: bytes, secret: bytes, request_authenticator: bytes) -> bytes:
    if len(value) < 18 or (len(value) - 2) % 16:
        raise MalformedPacket(f"salt-encrypted value of {len(value)} octets is malformed")
    salt, body = value[:2], value[2:]
    if not salt[0] & 0x80:
        raise MalformedPacket("salt lacks its most significant bit")
    data = _xor_chain(secret, request_authenticator + salt, body, decrypt=True)
    n = data[0]
    if n > len(data) - 1:
        raise MalformedPacket("salt-encrypted length octet exceeds the data (wrong secret?)")
    return data[1 : 1 + n]


def recrypt(
    value: bytes,
    old_secret: bytes,
    old_auth: bytes,
    new_secret: bytes,
    new_auth: bytes,
    *,
    tagged: bool = False,
) -> bytes:
    """Decrypt a salt-encrypted value from one hop and encrypt it for the next (Tunnel-Password: tagged)."""
    prefix, body = (value[:1], value[1:]) if tagged else (b"", value)
    return prefix + salt_encrypt(salt_decrypt(body, old_secret, old_auth), new_secret, new_auth)
