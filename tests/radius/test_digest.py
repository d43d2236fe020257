"""MD5 and HMAC-MD5 from CPython's own MD5 (tsunagaru.radius.digest): RFC 2104's vectors, and the same
digests as hashlib/hmac for every key length around the block size, on both implementations."""

from __future__ import annotations

import hashlib
import hmac
import os

import pytest

from tsunagaru.radius import digest

# RFC 2104, appendix (test vectors)
VECTORS = [
    (b"\x0b" * 16, b"Hi There", "9294727a3638bb1c13f48ef8158bfc9d"),
    (b"Jefe", b"what do ya want for nothing?", "750c783e6ab0b503eaa86e310a5db738"),
    (b"\xaa" * 16, b"\xdd" * 50, "56be34521d144c88dbb8c733f0e8b3f6"),
]


@pytest.mark.parametrize(("key", "message", "expected"), VECTORS)
def test_rfc2104_vectors(key: bytes, message: bytes, expected: str) -> None:
    assert digest.hmac_md5(key, message).hex() == expected


@pytest.mark.parametrize("builtin", [True, False], ids=["_md5", "hashlib"])
def test_same_digests_as_hashlib_and_hmac(builtin: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not builtin:  # where _md5 is missing (a FIPS build), hashlib's MD5 is used
        monkeypatch.setattr(digest, "_new", hashlib.md5)
        digest._keyed.cache_clear()
    for n in (0, 1, 6, 16, 63, 64, 65, 200):
        key, message = os.urandom(n), os.urandom(3 * n)
        assert digest.hmac_md5(key, message) == hmac.digest(key, message, "md5")
        assert digest.hmac_md5(key, message) == hmac.digest(key, message, "md5")  # from the cached key
        assert digest.md5(key, message) == hashlib.md5(key + message).digest()
    digest._keyed.cache_clear()
