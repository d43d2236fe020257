"""The periodic jobs of operations and the thread that runs them inside ``tsunagaru web serve``.

Jobs: the portal's renewal sweep and reminders (``enrol-sweep``), the hourly usage aggregates of the last
few hours (``usage``: ``refresh_hours``), the retention purge of sessions and activity (``purge``), and the
health rules into the stored alert history (``alerts``: APs, sites and IdPs). Why in ``web serve`` and not
a systemd timer: the web app already holds the store, the portal's mailer and its settings, a deployment
then has one thing to run and the demo runs the same code; a second web replica sets ``[jobs] run = false``
so that jobs run once (every job is also safe to run twice: the purge and the refresh are idempotent, the
sweep marks what it mailed, the alert job keeps one open alert per subject).

Each job is supervised: a failure is logged and counted and the job runs again at its next turn; one
job never stops another. They run in one daemon thread, never on the web app's event loop, one at a time,
each over a bounded amount of work (the registry's APs, ``usage_hours`` hours, one purge statement per
table). The time is passed in to every job (``now``), so tests drive them without waiting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tsunagaru import logs
from tsunagaru.ops.health import Thresholds, idp_alert_states, idp_fleet
from tsunagaru.ops.schedule import JobSpec, JobStats, due, next_wake, recent_hours
from tsunagaru.ops.usage import Placement
from tsunagaru.store import Store

log = logging.getLogger("tsunagaru.ops.jobs")

Job = Callable[[datetime], str]  # does the work for ``now``; returns a short outcome for the log


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class JobSettings:
    """``[jobs]`` of web.toml (see :mod:`tsunagaru.web.config`)."""

    run: bool = True
    sweep_minutes: float = 60.0
    usage_minutes: float = 10.0
    usage_hours: int = 3  # hours recomputed each time: sessions go on being reported after their start hour
    purge_hours: float = 24.0
    retention_days: float = 90.0  # accounting sessions (hashed ids); then only the hourly aggregates
    activity_retention_days: float = 7.0  # per-interval activity
    alerts_minutes: float = 1.0


class Scheduler:
    """Runs due jobs one at a time in a daemon thread; :meth:`run_due` is the same step for tests."""

    def __init__(self, jobs: Mapping[JobSpec, Job], clock: Callable[[], datetime] = _utcnow,
                 most_sleep: float = 30.0) -> None:
        self.jobs = dict(jobs)
        self.clock = clock
        self.most_sleep = timedelta(seconds=most_sleep)
        self.stats: dict[str, JobStats] = {spec.name: JobStats() for spec in self.jobs}
        self._by_name = {spec.name: job for spec, job in self.jobs.items()}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _last(self) -> dict[str, datetime | None]:
        return {name: s.last_started for name, s in self.stats.items()}

    def run_due(self, now: datetime) -> list[str]:
        """Run every job due at ``now`` (supervised); returns the names run."""
        names = due(self.jobs, self._last(), now)
        for name in names:
            self._run(name, now)
        return names

    def _run(self, name: str, now: datetime) -> None:
        stats = self.stats[name]
        stats.runs += 1
        stats.last_started = now
        began = time.perf_counter()
        try:
            outcome = self._by_name[name](now)
        except Exception as exc:  # supervised: logged, counted, retried at the next turn
            stats.failures += 1
            stats.last_error = f"{type(exc).__name__}: {exc}"[:300]
            stats.note("failed")
            log.exception("job %s failed (failure %d of %d runs)", name, stats.failures, stats.runs)
        else:
            stats.last_ok = now
            stats.last_result = outcome
            stats.note("ok")
            logs.event(log, "job done", logging.INFO, job=name, result=outcome)
        finally:
            stats.last_seconds = time.perf_counter() - began

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self._loop, name="tsunagaru-jobs", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = self.clock()
            self.run_due(now)
            wait = next_wake(self.jobs, self._last(), self.clock(), self.most_sleep)
            self._stop.wait(max(wait.total_seconds(), 0.5))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the job running now (if any) ends; waits at most ``timeout`` seconds."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


# -- the jobs ------------------------------------------------------------------------------------------


def placements(store: Store, keys: set[str]) -> dict[str, Placement]:
    """Activity key (``ap-ID``, ``ap-ID/NAS-ID``, ``CLIENT/NAS-ID``) -> the AP's site, municipality, tenant."""
    from tsunagaru.store.registry_tables import AccessPoint, Site
    from tsunagaru.web.dashboard.fleet import ap_ids

    found: dict[str, Placement] = {}
    with store.session() as db:
        ids = ap_ids(db, keys)
        wanted = sorted({int(i) for i in ids.values()})
        for start in range(0, len(wanted), 500):  # bounded IN lists
            rows = db.execute(select(AccessPoint.id, Site.id, Site.municipality_code, Site.operator_id)
                              .join(Site, AccessPoint.site_id == Site.id)
                              .where(AccessPoint.id.in_(wanted[start:start + 500])))
            for ap_id, site_id, code, org in rows:
                found[str(ap_id)] = Placement(str(site_id), code or "", str(org or code or "city"))
    return {key: found[i] for key, i in ids.items() if i in found}


def usage_job(store: Store, hours: int) -> Job:
    def run(now: datetime) -> str:
        from tsunagaru.store.ops_tables import AccountingSessionRow
        from tsunagaru.store.ops_writer import refresh_hours

        slots = recent_hours(now, hours)
        with store.session() as db:
            keys = set(db.scalars(select(AccountingSessionRow.ap_key).distinct()
                                  .where(AccountingSessionRow.first_at >= slots[0])))
        written = refresh_hours(store, slots, placements(store, keys))
        return f"{written} rows over {len(slots)} hours"
    return run


def purge_job(store: Store, retention: timedelta, activity_retention: timedelta) -> Job:
    def run(now: datetime) -> str:
        from tsunagaru.store.ops_writer import purge

        done = purge(store, now, retention, activity_retention)
        return f"{done.sessions} sessions, {done.activity} activity rows, {done.idp_peers} IdP peer rows"
    return run


DEFAULT_THRESHOLDS = Thresholds()


def alerts_job(store: Store, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Job:
    """APs and sites (the fleet) and IdPs (``idp:REALM``, from the ANP nodes' peer rows) into the history."""
    def run(now: datetime) -> str:
        from tsunagaru.ops.alert_history import store_states
        from tsunagaru.store.peer_status import latest_peers
        from tsunagaru.web.dashboard.fleet import compute

        with store.session() as db:
            fleet = compute(db, now, thresholds)
            states = fleet.health.alert_states()
            states.update(idp_alert_states(idp_fleet(latest_peers(db), now, thresholds)))
            done = store_states(db, states, fleet.site_of, now)
        return f"{done.started} started, {done.ended} ended, {done.open} open"
    return run


def sweep_job(sweep: Callable[[datetime], tuple[int, int]]) -> Job:
    def run(now: datetime) -> str:
        ended, mailed = sweep(now)
        return f"{ended} credentials ended, {mailed} reminders mailed"
    return run


def build(store: Store, settings: JobSettings, sweep: Callable[[datetime], tuple[int, int]] | None = None,
          clock: Callable[[], datetime] = _utcnow) -> Scheduler:
    """The scheduler of ``settings``; ``sweep`` is the portal's (``EnrolService.sweep``) when it is attached."""
    jobs: dict[JobSpec, Job] = {}
    if sweep is not None:
        jobs[JobSpec("enrol-sweep", timedelta(minutes=settings.sweep_minutes))] = sweep_job(sweep)
    jobs[JobSpec("alerts", timedelta(minutes=settings.alerts_minutes))] = alerts_job(store)
    jobs[JobSpec("usage", timedelta(minutes=settings.usage_minutes))] = usage_job(store, settings.usage_hours)
    jobs[JobSpec("purge", timedelta(hours=settings.purge_hours))] = purge_job(
        store, timedelta(days=settings.retention_days), timedelta(days=settings.activity_retention_days))
    return Scheduler(jobs, clock)
