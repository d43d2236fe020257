"""Writing and reading the operations tables: batches from the ANP, hourly usage, the retention purge.

:class:`SqlActivityWriter` is the ANP's ``ActivityWriter``: one transaction per batch, one upsert per AP
per interval (counters added on conflict), one per session (totals kept at their maximum). Runs in the
ANP's writer thread, never on the event loop. The same SQL serves SQLite and PostgreSQL (both have
``INSERT ... ON CONFLICT DO UPDATE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tsunagaru.ops.activity import Batch, SessionRecord
from tsunagaru.ops.idp_peers import PeerBatch
from tsunagaru.ops.usage import HOUR, Placement, aggregate
from tsunagaru.store.engine import Store
from tsunagaru.store.ops_tables import (
    AccountingSessionRow,
    ActivityRealmRow,
    ActivityRejectRow,
    ActivityRow,
    UsageHourRow,
)

RETENTION = timedelta(days=90)  # accounting sessions (hashed ids), then only the hourly aggregates
ACTIVITY_RETENTION = timedelta(days=7)  # per-interval activity: health and "recent activity" look back hours


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _greatest(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((b > a, b), else_=a)


def upsert(session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str],
            update: Mapping[str, str]) -> None:
    """Insert ``rows``; on a key conflict set each column by its rule: add, max, min, or, keep (the old value
    unless NULL), or anything else: the new value."""
    if not rows:
        return
    bind = session.get_bind()
    ins = postgresql.insert(table) if bind.dialect.name == "postgresql" else sqlite.insert(table)
    new = ins.excluded
    rules: dict[str, Any] = {}
    for name, rule in update.items():
        old = table.c[name]
        if rule == "add":
            rules[name] = old + new[name]
        elif rule == "max":
            rules[name] = _greatest(old, new[name])
        elif rule == "min":
            rules[name] = case((new[name] < old, new[name]), else_=old)
        elif rule == "or":
            rules[name] = old | new[name] if bind.dialect.name == "postgresql" else case((new[name], True), else_=old)
        elif rule == "keep":
            rules[name] = case((old.is_(None), new[name]), else_=old)
        else:
            rules[name] = new[name]
    session.execute(ins.on_conflict_do_update(index_elements=list(keys), set_=rules), list(rows))


_ACTIVITY_RULES = {"interval_s": "set", "last_request": "max", **{c: "add" for c in (
    "accepts", "rejects", "challenges", "status_server", "acct_starts", "acct_interims", "acct_stops", "octets_in",
    "octets_out")}}
_SESSION_RULES = {"first_at": "min", "last_at": "max", "started": "or", "stopped": "or", "octets_in": "max",
                  "octets_out": "max", "session_time_s": "max", "user_id": "keep", "realm": "keep", "ap_key": "set"}


@dataclass(frozen=True, slots=True)
class WriteStats:
    activity_rows: int
    detail_rows: int
    session_rows: int


class SqlActivityWriter:
    def __init__(self, store: Store) -> None:
        self.store = store

    def write_peers(self, batch: PeerBatch) -> int:
        """The upstream peers' snapshot (``tsunagaru.store.peer_status``): the node's rows replaced."""
        from tsunagaru.store.peer_status import write_peers

        with self.store.session() as db:
            return write_peers(db, batch)

    def write(self, batch: Batch) -> WriteStats:
        start = _ts(batch.interval_start)
        activity, rejects, realms = [], [], []
        for r in batch.records:
            activity.append({"ap_key": r.ap_key, "interval_start": start, "interval_s": batch.interval_s,
                             "last_request": _ts(r.last_request), "accepts": r.accepts, "rejects": r.reject_count,
                             "challenges": r.challenges, "status_server": r.status_server,
                             "acct_starts": r.acct_starts, "acct_interims": r.acct_interims,
                             "acct_stops": r.acct_stops, "octets_in": r.octets_in, "octets_out": r.octets_out})
            rejects += [{"ap_key": r.ap_key, "interval_start": start, "reason": k, "count": n} for k, n in r.rejects]
            realms += [{"ap_key": r.ap_key, "interval_start": start, "realm": k, "count": n} for k, n in r.realms]
        sessions = [_session_row(s) for s in batch.sessions]
        with self.store.session() as db:
            upsert(db, ActivityRow.__table__, activity, ("ap_key", "interval_start"), _ACTIVITY_RULES)  # type: ignore[arg-type]
            upsert(db, ActivityRejectRow.__table__, rejects, ("ap_key", "interval_start", "reason"),  # type: ignore[arg-type]
                    {"count": "add"})
            upsert(db, ActivityRealmRow.__table__, realms, ("ap_key", "interval_start", "realm"),  # type: ignore[arg-type]
                    {"count": "add"})
            upsert(db, AccountingSessionRow.__table__, sessions, ("session_key",), _SESSION_RULES)  # type: ignore[arg-type]
        return WriteStats(len(activity), len(rejects) + len(realms), len(sessions))


def _session_row(s: SessionRecord) -> dict[str, Any]:
    return {"session_key": s.session_key, "ap_key": s.ap_key, "user_id": s.user_id, "realm": s.realm,
            "first_at": _ts(s.first_at), "last_at": _ts(s.last_at), "started": s.started, "stopped": s.stopped,
            "octets_in": s.octets_in, "octets_out": s.octets_out, "session_time_s": s.session_time_s}


# -- reading back ---------------------------------------------------------------------------------------


def _record(r: AccountingSessionRow) -> SessionRecord:
    return SessionRecord(r.session_key, r.ap_key, r.user_id, r.realm, r.first_at.timestamp(), r.last_at.timestamp(),
                         r.started, r.stopped, r.octets_in, r.octets_out, r.session_time_s)


def sessions_started(db: Session, start: datetime, end: datetime) -> list[SessionRecord]:
    """Sessions that started in [start, end), as the pure usage code takes them."""
    rows = db.scalars(select(AccountingSessionRow).where(AccountingSessionRow.first_at >= start,
                                                         AccountingSessionRow.first_at < end))
    return [_record(r) for r in rows]


def open_sessions(db: Session, now: datetime, stale_after: timedelta = timedelta(minutes=25)) -> list[SessionRecord]:
    """Sessions not stopped and heard from recently: for ``tsunagaru.ops.usage.connected``."""
    rows = db.scalars(select(AccountingSessionRow).where(AccountingSessionRow.last_at >= now - stale_after,
                                                         AccountingSessionRow.stopped.is_(False)))
    return [_record(r) for r in rows]


@dataclass(frozen=True, slots=True)
class RecentActivity:
    """An AP's activity over a window, shaped for ``tsunagaru.ops.health.ApInputs``."""

    last_request: datetime
    accepts: int
    rejects: int


def recent_activity(db: Session, since: datetime) -> dict[str, RecentActivity]:
    """Per AP: the last request ever seen in the window's rows and the accepts/rejects since ``since``."""
    out: dict[str, RecentActivity] = {}
    rows = db.execute(select(ActivityRow.ap_key, ActivityRow.last_request, ActivityRow.accepts, ActivityRow.rejects)
                      .where(ActivityRow.interval_start >= since))
    for key, last, acc, rej in rows:
        known = out.get(key)
        if known is None:
            out[key] = RecentActivity(last, acc, rej)
        else:
            out[key] = RecentActivity(max(known.last_request, last), known.accepts + acc, known.rejects + rej)
    return out


def refresh_hours(store: Store, hours: Iterable[datetime], placements: Mapping[str, Placement]) -> int:
    """Recompute the hourly aggregates of the given hours from their sessions; returns rows written."""
    written = 0
    with store.session() as db:
        for hour in sorted(set(hours)):
            start = _ts(hour.timestamp() - hour.timestamp() % HOUR)
            rows = aggregate(sessions_started(db, start, start + timedelta(hours=1)), placements)
            db.execute(delete(UsageHourRow).where(UsageHourRow.hour == start))
            db.add_all(UsageHourRow(dimension=r.dimension.value, key=r.key, hour=r.hour, sessions=r.sessions,
                                    users=r.users, octets_in=r.octets_in, octets_out=r.octets_out,
                                    duration_total_s=r.duration_total_s, duration_median_s=r.duration_median_s)
                       for r in rows)
            written += len(rows)
    return written


@dataclass(frozen=True, slots=True)
class Purged:
    sessions: int
    activity: int
    idp_peers: int = 0


def purge(store: Store, now: datetime, retention: timedelta = RETENTION,
          activity_retention: timedelta = ACTIVITY_RETENTION) -> Purged:
    """Delete sessions and per-interval activity older than their retentions, and the peer rows of ANP nodes
    that stopped (``PEER_RETENTION``); hourly aggregates stay."""
    from tsunagaru.store.peer_status import purge_peers

    with store.session() as db:
        old = now - retention
        sessions = _count(db.execute(delete(AccountingSessionRow).where(AccountingSessionRow.last_at < old)))
        cutoff = now - activity_retention
        activity = _count(db.execute(delete(ActivityRow).where(ActivityRow.interval_start < cutoff)))
        db.execute(delete(ActivityRejectRow).where(ActivityRejectRow.interval_start < cutoff))
        db.execute(delete(ActivityRealmRow).where(ActivityRealmRow.interval_start < cutoff))
        peers = purge_peers(db, now)
    return Purged(sessions, activity, peers)


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)  # a DELETE's CursorResult
