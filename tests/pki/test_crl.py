"""CrlSource: when to fetch, which list to keep, and how verification uses what it holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from tests.pki.conftest import NOW, Federation
from tsunagaru.pki import CrlSource, MalformedInput, Reason, make_crl, verify_peer
from tsunagaru.pki.crl import RETRY_AFTER_FAILURE

HOUR = timedelta(hours=1)


def test_fetch_schedule_follows_refresh_and_next_update(fed_a: Federation) -> None:
    source = CrlSource("http://crl.example/issuing.crl", refresh=HOUR)
    assert source.due(NOW) and source.stale(NOW)
    crl = make_crl(fed_a.issuing, [], NOW, number=1, lifetime=timedelta(minutes=30))
    assert source.update(crl.public_bytes(Encoding.PEM), NOW)
    assert not source.due(NOW + timedelta(minutes=29))
    assert source.due(NOW + timedelta(minutes=30))  # nextUpdate comes before the refresh interval
    assert source.stale(NOW + timedelta(minutes=31))


def test_older_list_never_replaces_a_newer_one(fed_a: Federation) -> None:
    revoked = make_crl(fed_a.issuing, [(42, NOW)], NOW, number=5)
    replayed = make_crl(fed_a.issuing, [], NOW + HOUR, number=4)
    source = CrlSource("file:issuing.crl")
    assert source.update(revoked.public_bytes(Encoding.DER), NOW)
    assert not source.update(replayed.public_bytes(Encoding.DER), NOW + HOUR)
    assert source.crl == revoked and source.fetched_at == NOW + HOUR


def test_malformed_bytes_schedule_an_early_retry(fed_a: Federation) -> None:
    source = CrlSource("http://crl.example/x.crl", refresh=timedelta(hours=6))
    with pytest.raises(MalformedInput):
        source.update(b"<html>503</html>", NOW)
    assert source.last_error and not source.due(NOW) and source.due(NOW + RETRY_AFTER_FAILURE)
    source.failed(NOW, "connection refused")
    assert source.last_error == "connection refused"


def test_expired_list_is_refetched_soon(fed_a: Federation) -> None:
    source = CrlSource("x", refresh=timedelta(hours=6))
    source.update(
        make_crl(fed_a.issuing, [], NOW - timedelta(days=30), number=1).public_bytes(Encoding.PEM), NOW
    )
    assert source.stale(NOW) and source.due(NOW + RETRY_AFTER_FAILURE)


def test_verification_reads_the_source(fed_a: Federation) -> None:
    leaf = fed_a.member()
    source = CrlSource("x")
    source.update(
        make_crl(fed_a.issuing, [(leaf.cert.serial_number, NOW)], NOW, number=1).public_bytes(Encoding.PEM),
        NOW,
    )
    result = verify_peer(leaf.with_chain, roots=[fed_a.root.cert], direction="server", now=NOW, crls=[source])
    assert result.reason is Reason.REVOKED
    empty = CrlSource("never fetched")
    result = verify_peer(leaf.with_chain, roots=[fed_a.root.cert], direction="server", now=NOW, crls=[empty])
    assert result.ok and any("not checked" in step for step in result.steps)


def test_naive_times_mean_utc(fed_a: Federation) -> None:
    naive = NOW.replace(tzinfo=None)
    source = CrlSource("x", refresh=HOUR)
    source.update(make_crl(fed_a.issuing, [], naive, number=1).public_bytes(Encoding.PEM), naive)
    assert not source.due(naive) and source.due(naive + HOUR) and not source.stale(naive)
    leaf = fed_a.member(now=naive)
    result = verify_peer(
        leaf.with_chain, roots=[fed_a.root.cert], direction="server", now=naive, crls=[source]
    )
    assert result.ok, result.explain()
