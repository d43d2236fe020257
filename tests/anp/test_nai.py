"""Outer-identity parsing: realms normalised and checked, the same answer from the cache of valid realms
as on first sight, and the cache bounded."""

from __future__ import annotations

import pytest

from tsunagaru.anp import nai
from tsunagaru.anp.nai import NaiError, parse_nai


@pytest.mark.parametrize("raw", [b"", b"alice", b"a@b@c.example", b"al ice@idp.example", b"alice@localhost",
                                 b"alice@-bad.example", b"alice@idp..example", b"\xff@idp.example"])
def test_refused(raw: bytes) -> None:
    for _ in range(2):  # the second time too (nothing invalid is cached)
        with pytest.raises(NaiError):
            parse_nai(raw)


def test_realm_normalised_the_same_from_the_cache() -> None:
    first = parse_nai(b"alice@IdP.Example.")
    again = parse_nai(b"bob@IdP.Example.")
    assert (first.user, first.realm) == ("alice", "idp.example")
    assert (again.user, again.realm) == ("bob", "idp.example")
    with pytest.raises(NaiError):  # a bad user part is refused even when its realm is known
        parse_nai(b"b(o)b@IdP.Example.")


def test_the_cache_of_valid_realms_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nai, "MAX_KNOWN_REALMS", 8)
    monkeypatch.setattr(nai, "_VALID_REALMS", {})
    for i in range(100):
        assert parse_nai(f"u@realm-{i}.example".encode()).realm == f"realm-{i}.example"
        assert len(nai._VALID_REALMS) <= 8
