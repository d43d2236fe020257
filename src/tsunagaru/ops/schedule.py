"""Which periodic job is due, and what each has done: the pure part of the job scheduler.

The jobs (renewal sweep and reminders, usage aggregates, retention purge, alert evaluation) run in
``tsunagaru web serve`` through :class:`tsunagaru.ops.jobs.Scheduler`; this module holds their timing and
counters with time passed in, so a test can walk hours in a loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    every: timedelta


@dataclass(slots=True)
class JobStats:
    """Counters of one job since start: runs, failures, the last outcome (read by tests and the log)."""

    runs: int = 0
    failures: int = 0
    last_started: datetime | None = None
    last_ok: datetime | None = None
    last_result: str = ""
    last_error: str = ""
    last_seconds: float = 0.0
    history: list[str] = field(default_factory=list)  # the last few outcomes, newest last (bounded)

    def note(self, outcome: str, keep: int = 10) -> None:
        self.history.append(outcome)
        del self.history[:-keep]


def due(specs: Iterable[JobSpec], last_started: Mapping[str, datetime | None], now: datetime) -> list[str]:
    """Names of the jobs to run at ``now``, in the given order: never run, or started ``every`` ago or more.

    A clock stepped backwards (``last`` in the future) makes a job due too, rather than silent for as long
    as the step."""
    names = []
    for spec in specs:
        last = last_started.get(spec.name)
        if last is None or now - last >= spec.every or last > now:
            names.append(spec.name)
    return names


def next_wake(specs: Iterable[JobSpec], last_started: Mapping[str, datetime | None], now: datetime,
              most: timedelta) -> timedelta:
    """How long the scheduler may sleep: until the next job is due, at most ``most``, at least zero."""
    wait = most
    for spec in specs:
        last = last_started.get(spec.name)
        if last is None or last > now:
            return timedelta(0)
        wait = min(wait, last + spec.every - now)
    return max(wait, timedelta(0))


def recent_hours(now: datetime, count: int) -> list[datetime]:
    """The starts of the ``count`` hours up to ``now`` (UTC), oldest first: what the usage job recomputes."""
    start = now.replace(minute=0, second=0, microsecond=0)
    return [start - timedelta(hours=i) for i in range(count - 1, -1, -1)]
