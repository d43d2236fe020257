"""Redacted identities: a per-installation random key, 64 bits of HMAC (review 16)."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest

from tsunagaru import logs


@pytest.fixture(autouse=True)
def keep_key() -> object:
    saved = logs._key[0]
    yield None
    logs._key[0] = saved


def test_redact_uses_the_installation_key_and_64_bits(tmp_path: Path) -> None:
    path = logs.use_key_file(tmp_path / "log.key")
    key = path.read_bytes()
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    tag = logs.redact("alice@city.example")
    realm, digest = tag.split("#")
    assert realm == "@city.example" and len(digest) == 16  # 64 bits
    assert digest == hmac.new(key, b"alice@city.example", hashlib.sha256).hexdigest()[:16]
    # the old fixed key no longer reproduces it: a list of likely names does not reveal who is who
    assert digest[:8] != hmac.new(b"tsunagaru-log", b"alice@city.example", hashlib.sha256).hexdigest()[:8]
    logs.use_key_file(tmp_path / "log.key")
    assert logs.redact("alice@city.example") == tag  # stable across restarts of one installation


def test_two_installations_hash_apart(tmp_path: Path) -> None:
    logs.use_key_file(tmp_path / "a.key")
    one = logs.redact("alice@city.example")
    logs.use_key_file(tmp_path / "b.key")
    assert logs.redact("alice@city.example") != one


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        logs.use_key(os.urandom(8))
