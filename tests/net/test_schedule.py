"""The sans-IO schedules, driven by ``now`` without sleeping."""

from __future__ import annotations

import pytest

from tsunagaru.net import IdentifierPool, ReplyCache, Retransmit, Step


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
    cache = ReplyCache(lifetime=5.0, max_entries=2)
    key = (("127.0.0.1", 1), 9, bytes(16))
    assert cache.lookup(key, 0.0) == (False, None)
    cache.start(key, 0.0)
    assert cache.lookup(key, 1.0) == (True, None)  # still being answered: drop the copy
    cache.finish(key, b"reply", 1.0)
    assert cache.lookup(key, 2.0) == (True, b"reply")
    assert cache.lookup(key, 6.1) == (False, None)
    for n in range(5):
        cache.start((("h", n), n, b""), 10.0)
    assert len(cache) == 2  # bounded


def test_reply_cache_forgets_unanswered_requests() -> None:
    cache = ReplyCache()
    key = (("h", 1), 1, b"")
    cache.start(key, 0.0)
    cache.finish(key, None, 0.0)
    assert cache.lookup(key, 0.1) == (False, None)
