"""Tracker, watchdog, back-off and idle timer driven with a fake ``now`` (no sleeping)."""

from __future__ import annotations

import pytest

from tsunagaru.radsec import (
    Backoff,
    IdentifiersExhausted,
    IdleTimer,
    PeerState,
    RequestTracker,
    Watchdog,
    WatchdogAction,
    WatchdogConfig,
)


def test_tracker_gives_255_user_identifiers_and_keeps_zero_for_status() -> None:
    tracker: RequestTracker[str] = RequestTracker()
    ids = {tracker.allocate("r", now=0.0, timeout=5.0) for _ in range(255)}
    assert ids == set(range(1, 256))
    with pytest.raises(IdentifiersExhausted):
        tracker.allocate("r", now=0.0, timeout=5.0)
    assert tracker.allocate_status("s", now=0.0, timeout=5.0) == 0
    with pytest.raises(IdentifiersExhausted):
        tracker.allocate_status("s", now=0.0, timeout=5.0)
    assert tracker.in_flight == 255


def test_tracker_completes_and_reuses_identifiers_last() -> None:
    tracker: RequestTracker[str] = RequestTracker()
    first = tracker.allocate("a", now=0.0, timeout=5.0)
    assert tracker.complete(first).value == "a"
    assert tracker.allocate("b", now=0.0, timeout=5.0) != first


def test_tracker_expires_and_quarantines() -> None:
    tracker: RequestTracker[str] = RequestTracker(quarantine=10.0)
    ident = tracker.allocate("a", now=0.0, timeout=5.0)
    assert tracker.next_deadline() == 5.0
    assert tracker.expire(4.9) == []
    expired = tracker.expire(5.0)
    assert [p.value for p in expired] == ["a"]
    assert tracker.is_quarantined(ident) and tracker.peek(ident) is None
    assert tracker.free == 254
    assert tracker.next_deadline() == 15.0
    tracker.expire(15.0)
    assert not tracker.is_quarantined(ident) and tracker.free == 255


def test_watchdog_probes_after_quiet_interval_and_recovers_on_reply() -> None:
    dog = Watchdog(WatchdogConfig(interval=30.0, response_timeout=5.0, down_after=3), now=0.0)
    assert dog.state is PeerState.UP and dog.next_timer() == 30.0
    assert dog.on_timer(29.0) is WatchdogAction.NONE
    assert dog.on_timer(30.0) is WatchdogAction.PROBE
    assert dog.next_timer() == 35.0
    dog.on_reply(31.0)
    assert dog.state is PeerState.UP and dog.next_timer() == 61.0


def test_watchdog_suspect_then_down() -> None:
    dog = Watchdog(WatchdogConfig(interval=30.0, response_timeout=5.0, down_after=3), now=0.0)
    assert dog.on_timer(30.0) is WatchdogAction.PROBE
    assert dog.on_timer(35.0) is WatchdogAction.PROBE  # first miss: probe again
    assert dog.state is PeerState.SUSPECT
    assert dog.on_timer(40.0) is WatchdogAction.PROBE
    assert dog.state is PeerState.SUSPECT
    assert dog.on_timer(45.0) is WatchdogAction.CLOSE
    assert dog.state is PeerState.DOWN and dog.next_timer() is None


def test_watchdog_probes_early_after_a_request_timeout() -> None:
    dog = Watchdog(WatchdogConfig(interval=30.0, response_timeout=5.0), now=0.0)
    dog.on_request_timeout(7.0)
    assert dog.next_timer() == 7.0
    assert dog.on_timer(7.0) is WatchdogAction.PROBE
    dog.on_closed()
    assert dog.state is PeerState.DOWN


def test_backoff_doubles_from_half_a_second_and_caps() -> None:
    backoff = Backoff(initial=0.5, factor=2.0, cap=4.0, jitter=lambda d: d)
    times = [backoff.failed(100.0) - 100.0 for _ in range(6)]
    assert times == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert not backoff.may_attempt(103.9) and backoff.may_attempt(104.0)
    backoff.succeeded()
    assert backoff.failed(0.0) == 0.5 and backoff.attempts == 1


def test_backoff_jitter_is_applied() -> None:
    backoff = Backoff(jitter=lambda d: d * 0.75)
    assert backoff.failed(0.0) == 0.375


def test_idle_timer() -> None:
    idle = IdleTimer(10.0, now=0.0)
    assert not idle.expired(9.9) and idle.expired(10.0)
    idle.touch(5.0)
    assert idle.deadline() == 15.0
    assert IdleTimer(None, now=0.0).deadline() is None


def test_tracker_deadline_is_a_lower_bound_made_exact_by_expire() -> None:
    tracker: RequestTracker[str] = RequestTracker(quarantine=10.0)
    first = tracker.allocate("a", now=0.0, timeout=5.0)
    tracker.allocate("b", now=1.0, timeout=9.0)
    tracker.allocate_status("probe", now=2.0, timeout=20.0)
    assert tracker.in_flight == 2  # the Status-Server probe is not counted
    tracker.complete(first)
    bound = tracker.next_deadline()
    assert bound is not None and bound <= 10.0  # early is allowed, late never
    assert tracker.expire(bound) == []  # an early wake-up finds nothing ...
    assert tracker.next_deadline() == 10.0  # ... and leaves the exact time behind
    assert [p.value for p in tracker.expire(10.0)] == ["b"]
    assert tracker.next_deadline() == 20.0  # the probe; b's identifier is quarantined until 20.0 too
    tracker.complete(0)
    assert tracker.next_deadline() == 20.0  # the quarantine end
    tracker.expire(20.0)
    assert tracker.next_deadline() is None and tracker.in_flight == 0
