"""The job scheduler with time passed in: what is due, how long it sleeps, supervision of a failing job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tsunagaru.ops.jobs import Scheduler
from tsunagaru.ops.schedule import JobSpec, due, next_wake, recent_hours

T0 = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)
A, B = JobSpec("a", timedelta(minutes=1)), JobSpec("b", timedelta(hours=1))


def test_due_and_next_wake() -> None:
    assert due([A, B], {}, T0) == ["a", "b"]  # never run: due at once
    last = {"a": T0, "b": T0}
    assert due([A, B], last, T0 + timedelta(seconds=59)) == []
    assert due([A, B], last, T0 + timedelta(minutes=1)) == ["a"]
    assert due([A, B], last, T0 - timedelta(minutes=5)) == ["a", "b"]  # the clock stepped back
    assert next_wake([A, B], last, T0 + timedelta(seconds=20), timedelta(seconds=30)) == timedelta(seconds=30)
    assert next_wake([A, B], last, T0 + timedelta(seconds=50), timedelta(seconds=30)) == timedelta(seconds=10)
    assert next_wake([A, B], {}, T0, timedelta(seconds=30)) == timedelta(0)


def test_recent_hours() -> None:
    assert recent_hours(T0, 3) == [datetime(2026, 12, 1, 22, tzinfo=UTC), datetime(2026, 12, 1, 23, tzinfo=UTC),
                                   datetime(2026, 12, 2, 0, tzinfo=UTC)]


def test_a_failing_job_is_logged_counted_and_does_not_stop_the_others() -> None:
    calls: list[tuple[str, datetime]] = []

    def bad(now: datetime) -> str:
        calls.append(("a", now))
        raise RuntimeError("database is locked")

    def good(now: datetime) -> str:
        calls.append(("b", now))
        return "fine"

    s = Scheduler({A: bad, JobSpec("b", timedelta(minutes=1)): good})
    for minute in range(5):  # five minutes walked in a loop, no waiting
        s.run_due(T0 + timedelta(minutes=minute))
    assert [c[0] for c in calls] == ["a", "b"] * 5
    assert s.stats["a"].runs == 5 and s.stats["a"].failures == 5 and "database is locked" in s.stats["a"].last_error
    assert s.stats["b"].runs == 5 and s.stats["b"].failures == 0 and s.stats["b"].last_result == "fine"
    assert s.stats["b"].last_ok == T0 + timedelta(minutes=4)
    assert s.stats["a"].history == ["failed"] * 5


def test_the_thread_starts_and_stops() -> None:
    ran: list[datetime] = []
    s = Scheduler({A: lambda now: ran.append(now) or "ok"}, most_sleep=0.5).start()
    import time

    deadline = time.monotonic() + 5
    while not ran and time.monotonic() < deadline:
        time.sleep(0.02)
    s.stop(timeout=5)
    assert ran and s._thread is not None and not s._thread.is_alive()
