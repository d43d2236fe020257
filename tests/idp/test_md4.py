"""MD4 against the RFC 1320 appendix A.5 test suite, and the NT hash built on it."""

from __future__ import annotations

import pytest

from tsunagaru.eap.md4 import md4
from tsunagaru.idp.passwords import nt_hash

RFC1320_SUITE = [
    (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
    (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
    (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
    (b"message digest", "d9130a8164549fe818874806e1c7014b"),
    (b"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"),
    (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "043f8582f241db351ce627e153e7f0e4"),
    (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),  # 80 octets: two blocks
]


@pytest.mark.parametrize(("message", "digest"), RFC1320_SUITE)
def test_rfc1320_vectors(message: bytes, digest: str) -> None:
    assert md4(message).hex() == digest


@pytest.mark.parametrize("length", [54, 55, 56, 57, 63, 64, 65, 119, 120])
def test_lengths_around_the_padding_boundary_are_stable(length: int) -> None:
    # A 55-octet message fits one block and 56 needs two: both must hash, deterministically, to 16 octets.
    digest = md4(b"x" * length)
    assert len(digest) == 16
    assert digest == md4(b"x" * length)
    assert digest != md4(b"x" * (length + 1))


def test_nt_hash_of_password() -> None:
    # The widely published NT hash of "password" (RFC 2759's NtPasswordHash).
    assert nt_hash("password").hex().upper() == "8846F7EAEE8FB117AD06BDD830B7586C"


def test_nt_hash_is_over_utf16le() -> None:
    assert nt_hash("パスワード") == md4("パスワード".encode("utf-16-le"))
    # RFC 2759 section 9.2 example: password "clientPass".
    assert nt_hash("clientPass").hex().upper() == "44EBBA8D5312B8D611474411F56989AE"
