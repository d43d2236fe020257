"""The ANP's activity path: events from requests and replies, batches written in a thread, off the loop."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tsunagaru.anp.activity import ActivityRecorder, default_ap_key
from tsunagaru.anp.clients import Client
from tsunagaru.anp.core import Reply, SpoolAccounting
from tsunagaru.ops.activity import Batch, IdentityHasher
from tsunagaru.radius import Code, Packet
from tsunagaru.radius.reasons import RejectReason
from tsunagaru.store import Store
from tsunagaru.store.ops_tables import AccountingSessionRow, ActivityRow
from tsunagaru.store.ops_writer import SqlActivityWriter

CLIENT = Client("ap-42", ipaddress.ip_network("127.0.0.1/32"), b"secret")
HASHER = IdentityHasher(b"k" * 32)
T0 = 1_764_590_400.0


class Clock:
    def __init__(self) -> None:
        self.now = T0 + 1

    def __call__(self) -> float:
        return self.now


class Collect:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[Batch] = []
        self.threads: set[str] = set()
        self.fail = fail

    def write(self, batch: Batch) -> None:
        self.threads.add(threading.current_thread().name)
        if self.fail:
            raise OSError("disk full")
        self.batches.append(batch)


def u32(n: int) -> bytes:
    return n.to_bytes(4, "big")


def accounting(status: int, octets_in: int = 0, gigawords: int = 0) -> SpoolAccounting:
    request = Packet(Code.ACCOUNTING_REQUEST, 1, attributes=(
        (1, b"alice@idp.example"), (32, b"bss-0\x01"), (40, u32(status)), (44, b"sess-1"),
        (42, u32(octets_in)), (52, u32(gigawords)), (43, u32(7)), (46, u32(60)), (31, b"02-00-00-00-00-01")))
    return SpoolAccounting(request, CLIENT, "idp.example", b"")


def access(realm: str = "idp.example") -> Packet:
    return Packet(Code.ACCESS_REQUEST, 2, attributes=((1, f"anonymous@{realm}".encode()),))


def test_events_from_replies_and_accounting() -> None:
    sink, clock = Collect(), Clock()
    rec = ActivityRecorder(sink, HASHER, interval_s=60, clock=clock)
    rec.observe_reply(access(), CLIENT, Reply(b"", "accept"), "idp.example")
    rec.observe_reply(access(), CLIENT, Reply(b"", "reject", RejectReason.ROAMING_NOT_ALLOWED), "idp.example")
    rec.observe_reply(Packet(Code.STATUS_SERVER, 3), CLIENT, Reply(b"", "status"), "-")
    rec.observe_reply(access(), CLIENT, Reply(b"", "resend"), "idp.example")  # not counted again
    rec.observe_accounting(accounting(1))
    rec.observe_accounting(accounting(3, octets_in=5, gigawords=1))
    clock.now = T0 + 61
    asyncio.run(rec.close())
    (batch,) = sink.batches
    plain, bss = sorted(batch.records, key=lambda r: r.ap_key)
    assert (plain.ap_key, plain.accepts, plain.rejects, plain.status_server) == ("ap-42", 1, ((42, 1),), 1)
    assert plain.realms == (("idp.example", 2),)
    assert (bss.ap_key, bss.acct_starts, bss.acct_interims, bss.octets_in, bss.octets_out) == \
        ("ap-42/bss-0?", 1, 1, (1 << 32) + 5, 7)
    (session,) = batch.sessions
    assert session.user_id == HASHER.user_id(None, b"alice@idp.example")
    text = repr(batch)
    assert "alice" not in text and "sess-1" not in text and "02-00-00" not in text
    assert sink.threads == {"anp-activity_0"}
    assert rec.stats.events == 5 and rec.stats.batches_written == 1


def test_ap_key() -> None:
    assert default_ap_key(CLIENT, access()) == "ap-42"
    pinned = Client("ap-7", ipaddress.ip_network("10.0.0.0/8"), b"s", nas_identifier=re.compile("bss-0"))
    assert default_ap_key(pinned, Packet(Code.ACCESS_REQUEST, 2, attributes=((32, b"bss-0"),))) == "ap-7"
    long = Packet(Code.ACCESS_REQUEST, 2, attributes=((32, b"x" * 200),))
    assert default_ap_key(CLIENT, long) == "ap-42/" + "x" * 64


def test_a_failing_store_loses_batches_not_the_proxy() -> None:
    sink, clock = Collect(fail=True), Clock()
    rec = ActivityRecorder(sink, HASHER, interval_s=60, clock=clock)
    rec.observe_reply(access(), CLIENT, Reply(b"", "accept"), "idp.example")
    asyncio.run(rec.close())
    assert rec.stats.batches_failed == 1 and rec.stats.batches_written == 0


def test_run_ticks_and_writes_to_sqlite(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    clock = Clock()
    rec = ActivityRecorder(SqlActivityWriter(store), HASHER, interval_s=60, clock=clock)

    async def main() -> None:
        task = asyncio.create_task(rec.run(tick_s=0.01))
        rec.observe_accounting(accounting(1))
        rec.observe_reply(access(), CLIENT, Reply(b"", "accept"), "idp.example")
        clock.now = T0 + 65  # the interval closes; the next tick hands it to the writer thread
        for _ in range(500):  # bounded wait for the thread
            await asyncio.sleep(0.01)
            if rec.stats.batches_written:
                break
        task.cancel()
        await rec.close()

    asyncio.run(main())
    with store.session() as db:
        assert sorted(db.scalars(select(ActivityRow.ap_key))) == ["ap-42", "ap-42/bss-0?"]
        session = db.scalars(select(AccountingSessionRow)).one()
        assert session.session_key.startswith("s") and session.user_id and "alice" not in session.user_id
    store.dispose()


attr_st = st.lists(st.tuples(st.sampled_from([1, 31, 32, 40, 42, 43, 44, 46, 52, 53, 89]),
                             st.binary(max_size=40)), max_size=12)


@settings(max_examples=300)
@given(attr_st, st.sampled_from(["accept", "reject", "challenge", "status", "resend", "accounting"]))
def test_any_attributes_make_an_event_or_nothing(attrs: list[tuple[int, bytes]], outcome: str) -> None:
    rec = ActivityRecorder(Collect(), HASHER, interval_s=60, clock=Clock())
    packet = Packet(Code.ACCOUNTING_REQUEST, 1, attributes=tuple(attrs))
    rec.observe_accounting(SpoolAccounting(packet, CLIENT, None, b""))
    rec.observe_reply(packet, CLIENT, Reply(b"", outcome), None)
    (batch,) = rec.accumulator.take(T0 + 120)
    assert all(len(r.ap_key) <= 6 + 64 + 8 for r in batch.records)
    rec._executor.shutdown()
