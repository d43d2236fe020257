"""Pre-fork ANP workers each write the activity of the same AP and interval into one store: their upserts
add up (counters summed, the latest request kept), with the processes writing at the same time."""

from __future__ import annotations

import multiprocessing
from datetime import UTC
from pathlib import Path

from sqlalchemy import select

from tsunagaru.ops.activity import Accumulator, Event, Kind
from tsunagaru.store import Store
from tsunagaru.store.ops_tables import ActivityRealmRow, ActivityRow
from tsunagaru.store.ops_writer import SqlActivityWriter

T0 = 1_764_590_400.0
BATCHES = 15
PER_BATCH = 4  # accepts of ap-1 per batch


def _worker(url: str, index: int, failures: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = Store.open(url)
    writer = SqlActivityWriter(store)
    try:
        for _ in range(BATCHES):
            acc = Accumulator(interval_s=60)
            for k in range(PER_BATCH):
                acc.add(Event("ap-1", T0 + 1 + index + k, Kind.ACCEPT, realm="idp.example"))
            acc.add(Event("ap-1", T0 + 10 + index, Kind.REJECT, reject_reason=10, realm="idp.example"))
            (batch,) = acc.take(T0 + 60)
            writer.write(batch)
    except Exception as exc:  # reported to the test, which fails on it
        failures.put(f"worker {index}: {type(exc).__name__}: {exc}")
    finally:
        store.dispose()


def test_workers_writing_the_same_ap_add_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    Store.open(url).dispose()  # created and migrated once, as the first worker does
    ctx = multiprocessing.get_context("fork")
    failures = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, i, failures)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert failures.empty(), failures.get()
    store = Store.open(url)
    try:
        with store.session() as db:
            row = db.scalars(select(ActivityRow)).one()
            assert (row.accepts, row.rejects) == (2 * BATCHES * PER_BATCH, 2 * BATCHES)
            assert row.last_request.replace(tzinfo=UTC).timestamp() == T0 + 11  # the later of the two workers' latest
            realm = db.scalars(select(ActivityRealmRow)).one()
            assert realm.count == 2 * BATCHES * (PER_BATCH + 1)
    finally:
        store.dispose()
