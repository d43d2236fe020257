"""Sans-IO pieces driven by ``now`` without sleeping: the shared replay cache, and the test client's schedules."""

from __future__ import annotations

import pytest

from tests.support.radius_udp import IdentifierPool, Retransmit, Step
from tsunagaru.anp.admit import DuplicateCache
from tsunagaru.net.replay import ReplyCache, Seen


def test_retransmit_schedule() -> None:
    r = Retransmit(timeout=2.0, retries=2, started=100.0)
    assert r.step(101.9) is Step.WAIT
    assert r.step(102.0) is Step.RESEND and r.deadline == 104.0
    assert r.step(104.5) is Step.RESEND and r.sent == 3
    assert r.step(106.4) is Step.WAIT
    assert r.step(106.5) is Step.GIVE_UP
    with pytest.raises(ValueError):
        Retransmit(timeout=0, retries=1, started=0)


def test_identifier_pool_wraps_and_refuses_a_257th() -> None:
    pool = IdentifierPool(next_id=255)
    ids = [pool.take() for _ in range(256)]
    assert ids[:2] == [255, 0] and sorted(ids) == list(range(256))
    with pytest.raises(RuntimeError):
        pool.take()
    pool.release(7)
    assert pool.take() == 7


def test_reply_cache_answers_duplicates_then_expires() -> None:
    cache: ReplyCache[tuple[str, int], bytes] = ReplyCache(lifetime=5.0, max_entries=2)
    key = ("127.0.0.1", 9)
    assert cache.begin(key, 0.0) is None
    assert cache.begin(key, 1.0) == Seen(None)  # still being answered: drop the copy
    cache.answered(key, b"reply", 1.0)
    assert cache.begin(key, 2.0) == Seen(b"reply")
    assert cache.begin(key, 6.1) is None  # expired: a new request
    for n in range(5):
        cache.begin(("h", n), 10.0)
    assert len(cache) == 2  # bounded


def test_reply_cache_forgets_unanswered_requests() -> None:
    cache: ReplyCache[int, bytes] = ReplyCache()
    cache.begin(1, 0.0)
    cache.forget(1)
    assert cache.begin(1, 0.1) is None


def test_the_anp_uses_the_same_cache() -> None:
    """Review 32: three caches; the ANP's admission and the IdP's EAP front now share this one."""
    assert DuplicateCache is ReplyCache[tuple[str, int, int, bytes], bytes] or issubclass(
        getattr(DuplicateCache, "__origin__", DuplicateCache), ReplyCache)
    cache = DuplicateCache()
    assert (cache.lifetime, cache.max_entries) == (30.0, 65536)
