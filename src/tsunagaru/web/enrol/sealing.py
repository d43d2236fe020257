"""Profiles waiting to be downloaded, sealed with a key derived from their link.

A profile holds the device's password or private key. The portal keeps it only until it is fetched once
(or the link expires), and keeps it encrypted (AES-256-GCM from the cryptography package) under a key
derived (HKDF-SHA256) from the link's token, which the store never sees: a copy of the database alone
opens nothing.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"tsunagaru enrol profile link v1"


class SealError(Exception):
    """The sealed bytes do not open with this token (tampered, or another link's)."""


def _key(token: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(token.encode("utf-8"))


def seal(token: str, data: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_key(token)).encrypt(nonce, data, _INFO)


def unseal(token: str, sealed: bytes) -> bytes:
    try:
        return AESGCM(_key(token)).decrypt(sealed[:12], sealed[12:], _INFO)
    except (InvalidTag, ValueError) as exc:
        raise SealError("the profile does not open with this link") from exc
