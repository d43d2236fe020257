"""The operations tables on SQLite and PostgreSQL: upserts add up, sessions keep their totals, purge, hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tsunagaru.ops.activity import AcctStatus, Accumulator, Event, Kind
from tsunagaru.ops.usage import Placement
from tsunagaru.store import Store
from tsunagaru.store.ops_tables import (
    AccountingSessionRow,
    ActivityRealmRow,
    ActivityRejectRow,
    ActivityRow,
    UsageHourRow,
)
from tsunagaru.store.ops_writer import (
    Purged,
    SqlActivityWriter,
    open_sessions,
    purge,
    recent_activity,
    refresh_hours,
    sessions_started,
)

T0 = 1_764_590_400.0
START = datetime.fromtimestamp(T0, UTC)


def batch_of(*events: Event, interval: int = 60):  # type: ignore[no-untyped-def]
    acc = Accumulator(interval_s=interval)
    for e in events:
        acc.add(e)
    (batch,) = acc.take(T0 + interval)
    return batch


def acct(at: float, status: AcctStatus, octets: int, t: int, sess: str = "s1") -> Event:
    return Event("ap1", at, Kind.ACCOUNTING, acct_status=status, octets_in=octets, octets_out=2 * octets,
                 session_time_s=t, realm="idp.example", session_key=sess, user_id="u" + "0" * 32)


def test_batches_upsert_and_add_up(store: Store) -> None:
    writer = SqlActivityWriter(store)
    one = batch_of(Event("ap1", T0 + 1, Kind.ACCEPT, realm="idp.example"),
                   Event("ap1", T0 + 2, Kind.REJECT, reject_reason=10, realm="idp.example"),
                   acct(T0 + 3, AcctStatus.START, 0, 0))
    stats = writer.write(one)
    assert (stats.activity_rows, stats.detail_rows, stats.session_rows) == (1, 2, 1)
    # a second ANP process reports the same AP and interval: counters add, the last request is the latest
    writer.write(batch_of(Event("ap1", T0 + 30, Kind.REJECT, reject_reason=10, realm="idp.example"),
                          Event("ap1", T0 + 5, Kind.ACCEPT, realm="other.example")))
    with store.session() as db:
        row = db.scalars(select(ActivityRow)).one()
        assert (row.accepts, row.rejects, row.acct_starts, row.last_request) == (2, 2, 1, START + timedelta(seconds=30))
        assert db.scalars(select(ActivityRejectRow.count)).all() == [2]
        realms = {r.realm: r.count for r in db.scalars(select(ActivityRealmRow))}
        assert realms == {"idp.example": 4, "other.example": 1}


def test_sessions_keep_totals_and_hashes_only(store: Store) -> None:
    writer = SqlActivityWriter(store)
    writer.write(batch_of(acct(T0, AcctStatus.START, 0, 0), acct(T0 + 30, AcctStatus.INTERIM, 500, 30)))
    writer.write(_later_stop())  # the stop, ten intervals later
    with store.session() as db:
        s = db.scalars(select(AccountingSessionRow)).one()
        assert (s.started, s.stopped, s.octets_in, s.octets_out, s.session_time_s) == (True, True, 900, 1800, 600)
        assert s.first_at == START and s.user_id == "u" + "0" * 32
        got = sessions_started(db, START, START + timedelta(hours=1))
        assert [g.session_key for g in got] == ["s1"]
        assert open_sessions(db, START + timedelta(minutes=11)) == []  # stopped


def _later_stop():  # type: ignore[no-untyped-def]
    acc = Accumulator(interval_s=60)
    acc.add(acct(T0 + 600, AcctStatus.STOP, 900, 600))
    (batch,) = acc.take(T0 + 660)
    return batch


def test_hours_purge_and_recent_activity(store: Store) -> None:
    writer = SqlActivityWriter(store)
    writer.write(batch_of(acct(T0, AcctStatus.START, 0, 0), Event("ap1", T0 + 1, Kind.ACCEPT)))
    with store.session() as db:
        assert [s.session_key for s in open_sessions(db, START + timedelta(minutes=20))] == ["s1"]
        assert open_sessions(db, START + timedelta(minutes=26)) == []  # silent too long
    written = refresh_hours(store, [START + timedelta(minutes=5)], {"ap1": Placement("site1", "131041", "city")})
    assert written == 5  # ap, realm, site, municipality, tenant
    assert refresh_hours(store, [START], {"ap1": Placement("site1", "131041", "city")}) == 5  # recomputed, not added
    with store.session() as db:
        assert db.scalars(select(UsageHourRow.sessions)).all() == [1] * 5
        recent = recent_activity(db, START - timedelta(minutes=1))
        assert recent["ap1"].accepts == 1 and recent["ap1"].last_request == START + timedelta(seconds=1)
    assert purge(store, START + timedelta(days=6)) == Purged(0, 0)
    assert purge(store, START + timedelta(days=8)) == Purged(0, 1)  # activity after 7 days
    assert purge(store, START + timedelta(days=89)).sessions == 0
    assert purge(store, START + timedelta(days=91)) == Purged(1, 0)  # sessions after 90
    with store.session() as db:
        assert db.scalars(select(AccountingSessionRow)).all() == []
        assert len(db.scalars(select(UsageHourRow)).all()) == 5  # aggregates stay
