"""The activity accumulator: one record per AP per interval, bounded, hashed ids; properties by hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagaru.ops.activity import (
    OTHER_REALM,
    OTHER_REASON,
    AcctStatus,
    Accumulator,
    Event,
    IdentityHasher,
    Kind,
)

T0 = 1_764_590_400.0  # 2025-12-01T12:00:00Z, on a minute boundary
KEY = b"k" * 32


def acct(ap: str, at: float, status: AcctStatus, sess: str = "s1", octets: tuple[int, int] = (0, 0),
         user: str | None = "u1", t: int = 0) -> Event:
    return Event(ap, at, Kind.ACCOUNTING, acct_status=status, octets_in=octets[0], octets_out=octets[1],
                 session_time_s=t, realm="idp.example", session_key=sess, user_id=user)


def test_one_record_per_ap_per_interval() -> None:
    acc = Accumulator(interval_s=60)
    acc.add(Event("ap1", T0 + 1, Kind.ACCEPT, realm="idp.example"))
    acc.add(Event("ap1", T0 + 2, Kind.REJECT, reject_reason=10, realm="idp.example"))
    acc.add(Event("ap1", T0 + 3, Kind.REJECT, reject_reason=None))
    acc.add(Event("ap1", T0 + 4, Kind.CHALLENGE, realm="idp.example"))
    acc.add(Event("ap2", T0 + 5, Kind.STATUS))
    assert acc.take(T0 + 59) == []  # the interval is still open
    (batch,) = acc.take(T0 + 60)
    assert batch.interval_start == T0 and batch.overflow_events == 0
    r1, r2 = batch.records
    assert (r1.ap_key, r1.accepts, r1.rejects, r1.challenges, r1.last_request) == \
        ("ap1", 1, ((OTHER_REASON, 1), (10, 1)), 1, T0 + 4)
    assert r1.realms == (("idp.example", 2),) and r1.reject_count == 2
    assert (r2.ap_key, r2.status_server) == ("ap2", 1)
    assert acc.take(T0 + 120) == []


def test_new_interval_closes_the_last_and_late_events_join_the_current() -> None:
    acc = Accumulator(interval_s=60)
    acc.add(Event("ap1", T0 + 10, Kind.ACCEPT))
    acc.add(Event("ap1", T0 + 70, Kind.ACCEPT))
    acc.add(Event("ap1", T0 + 50, Kind.ACCEPT))  # late: counted in the interval in progress
    batches = acc.take(T0 + 70, force=True)
    assert [(b.interval_start, b.records[0].accepts, b.records[0].last_request) for b in batches] == \
        [(T0, 1, T0 + 10), (T0 + 60, 2, T0 + 70)]


def test_accounting_bytes_are_per_interval_deltas() -> None:
    acc = Accumulator(interval_s=600)
    acc.add(acct("ap1", T0, AcctStatus.START))
    acc.add(acct("ap1", T0 + 300, AcctStatus.INTERIM, octets=(1000, 5000), t=300))
    acc.add(acct("ap1", T0 + 900, AcctStatus.INTERIM, octets=(1500, 9000), t=900))
    acc.add(acct("ap1", T0 + 1300, AcctStatus.STOP, octets=(1600, 9100), t=1300))
    b1, b2, b3 = acc.take(T0 + 2000)
    r = [b.records[0] for b in (b1, b2, b3)]
    assert [(x.acct_starts, x.acct_interims, x.acct_stops) for x in r] == [(1, 1, 0), (0, 1, 0), (0, 0, 1)]
    assert [(x.octets_in, x.octets_out) for x in r] == [(1000, 5000), (500, 4000), (100, 100)]
    s = b3.sessions[0]
    assert (s.stopped, s.octets_in, s.octets_out, s.session_time_s, s.user_id) == (True, 1600, 9100, 1300, "u1")
    assert b1.sessions[0].started and not b1.sessions[0].stopped


def test_counter_reset_counts_the_new_value() -> None:
    acc = Accumulator(interval_s=60)
    acc.add(acct("ap1", T0, AcctStatus.INTERIM, octets=(1000, 1000)))
    acc.add(acct("ap1", T0 + 1, AcctStatus.INTERIM, octets=(10, 20)))
    (b,) = acc.take(T0 + 60)
    assert (b.records[0].octets_in, b.records[0].octets_out) == (1010, 1020)


def test_bounds() -> None:
    acc = Accumulator(interval_s=60, max_aps=2, max_sessions=1, max_baselines=1)
    for i in range(5):
        acc.add(Event(f"ap{i}", T0, Kind.ACCEPT))
    for i in range(20):
        acc.add(Event("ap0", T0, Kind.REJECT, reject_reason=100 + i, realm=f"r{i}.example"))
    acc.add(acct("ap0", T0, AcctStatus.START, sess="a"))
    acc.add(acct("ap0", T0, AcctStatus.START, sess="b"))
    (b,) = acc.take(T0 + 60)
    assert len(b.records) == 2 and b.overflow_events == 3
    rec = b.records[0]
    assert len(rec.rejects) == 16 and dict(rec.rejects)[OTHER_REASON] == 5
    assert len(rec.realms) == 8 and dict(rec.realms)[OTHER_REALM] == 15  # 13 rejects and 2 accounting
    assert len(b.sessions) == 1 and b.overflow_sessions == 1
    assert len(acc._baseline) == 1


def test_ready_batches_are_bounded() -> None:
    acc = Accumulator(interval_s=1)
    for i in range(40):
        acc.add(Event("ap", T0 + i, Kind.ACCEPT))
    assert len(acc.take(T0 + 39)) == 16 and acc.dropped_batches == 23


def test_identity_hashes() -> None:
    h = IdentityHasher(KEY)
    cui = h.user_id(b"opaque-cui", b"anonymous@idp.example")
    assert cui and cui.startswith("c") and len(cui) == 33 and "opaque" not in cui
    assert h.user_id(b"\x00", b"alice@idp.example") == h.user_id(None, b"ALICE@idp.example")
    assert h.user_id(None, b"anonymous@idp.example") is None
    assert h.user_id(None, b"@idp.example") is None
    assert h.user_id(None, None) is None
    assert h.user_id(None, b"alice@idp.example") != IdentityHasher(b"x" * 32).user_id(None, b"alice@idp.example")
    assert h.session_key("ap1", b"0001") != h.session_key("ap2", b"0001")
    with pytest.raises(ValueError):
        IdentityHasher(b"short")


events_st = st.lists(st.builds(
    Event, st.sampled_from(["a", "b", "c"]), st.floats(T0, T0 + 600), st.sampled_from(list(Kind)),
    reject_reason=st.none() | st.integers(0, 60), realm=st.none() | st.sampled_from(["x", "y"]),
    acct_status=st.sampled_from([1, 2, 3, 7])), max_size=60)


@given(events_st, st.sampled_from([1, 60, 600]))
def test_nothing_lost_and_one_record_per_ap_interval(events: list[Event], interval: int) -> None:
    events.sort(key=lambda e: e.at)
    acc = Accumulator(interval_s=interval)
    batches = []
    for e in events:
        acc.add(e)
        batches += acc.take(e.at)
    batches += acc.take(T0 + 10_000, force=True)
    assert acc.dropped_batches == 0
    records = [r for b in batches for r in b.records]
    assert len({(r.ap_key, r.interval_start) for r in records}) == len(records)
    total = sum(r.accepts + r.reject_count + r.challenges + r.status_server + r.acct_starts + r.acct_interims
                + r.acct_stops for r in records)
    other_acct = sum(1 for e in events if e.kind is Kind.ACCOUNTING and e.acct_status == 7)
    assert total + other_acct == len(events)
    for r in records:
        assert r.interval_start % interval == 0 and r.interval_start <= r.last_request < r.interval_start + interval
