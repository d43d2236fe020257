"""Benchmark: the ANP -> activity -> store path for 20,000 APs sending interims every 10 minutes.

    .venv/bin/python bench/ops_activity.py [--aps 20000] [--sessions 2] [--interval 60] [--postgres]

Not a test; prints figures and never fails on speed. One simulated 10-minute window (virtual time, no
sleeping): every AP has ``--sessions`` accounting sessions, each sends one Interim-Update in the window
at a random moment, and every AP sends one Access-Request answered with an Accept. Measured, CPU time of
this process (``time.process_time``, all threads), with the harness's prebuilt inputs frozen out of the
garbage collector (``gc.freeze``) so that collections walk only what the path itself allocates:

1. ``adapter``: ``ActivityRecorder.observe_accounting`` / ``observe_reply`` on prebuilt RADIUS packets
   (attribute reads, keyed hashes of User-Name and Acct-Session-Id, the accumulator), per event;
2. ``accumulator``: ``Accumulator.add`` alone on prebuilt events, per event;
3. ``aggregation``: ``tsunagaru.ops.usage.aggregate`` over the window's sessions (5 dimensions), per session;
4. ``store``: the window's batches written by ``SqlActivityWriter`` to SQLite (a file in a temp dir,
   WAL) and with ``--postgres`` to a private PostgreSQL (tests/support/pgserver.py): rows upserted per
   second of wall time, and the rate needed to keep up (rows per window / 600 s).

Every loop is bounded by the counts above; the script stops the PostgreSQL server it started.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tsunagaru.anp.activity import ActivityRecorder
from tsunagaru.anp.clients import Client
from tsunagaru.anp.core import Reply, SpoolAccounting
from tsunagaru.ops.activity import AcctStatus, Accumulator, Batch, Event, IdentityHasher, Kind
from tsunagaru.ops.idp_peers import PeerBatch
from tsunagaru.ops.usage import Placement, aggregate
from tsunagaru.radius import Code, Packet
from tsunagaru.store import Store
from tsunagaru.store.ops_writer import SqlActivityWriter

T0 = 1_764_590_400.0
WINDOW = 600.0


def u32(n: int) -> bytes:
    return n.to_bytes(4, "big")


class Clock:
    now = T0

    def __call__(self) -> float:
        return self.now


class Keep:
    def __init__(self) -> None:
        self.batches: list[Batch] = []

    def write(self, batch: Batch) -> None:
        self.batches.append(batch)

    def write_peers(self, batch: PeerBatch) -> None:
        """The recorder also hands over peer snapshots: not what this bench measures."""


def workload(aps: int, sessions: int, seed: int = 7) -> list[tuple[float, str, Packet]]:
    """(time, kind, packet) for one window, sorted by time; kind 'acct' or 'auth'."""
    rng = random.Random(seed)
    items: list[tuple[float, str, Packet]] = []
    for ap in range(aps):
        nas = f"ap-{ap:05d}".encode()
        for s in range(sessions):
            octets = rng.randrange(1, 1 << 30)
            pkt = Packet(Code.ACCOUNTING_REQUEST, s, attributes=(
                (1, f"user{ap * sessions + s}@idp{ap % 7}.example".encode()), (32, nas), (40, u32(3)),
                (44, f"{ap:05d}-{s}".encode()), (42, u32(octets)), (43, u32(octets * 3 % (1 << 32))),
                (46, u32(rng.randrange(60, 7200))), (89, f"cui-{ap}-{s}".encode())))
            items.append((T0 + rng.random() * WINDOW, "acct", pkt))
        items.append((T0 + rng.random() * WINDOW, "auth", Packet(Code.ACCESS_REQUEST, 1, attributes=((32, nas),))))
    items.sort(key=lambda i: i[0])
    return items


def bench_adapter(items: list[tuple[float, str, Packet]], interval: int) -> tuple[float, list[Batch]]:
    keep, clock = Keep(), Clock()
    rec = ActivityRecorder(keep, IdentityHasher(b"bench-key-0123456789abcdef"), interval_s=interval, clock=clock)
    client = Client("ctrl", ipaddress.ip_network("127.0.0.0/8"), b"x")
    accept = Reply(b"", "accept")
    cpu = time.process_time()
    for at, kind, pkt in items:
        clock.now = at
        if kind == "acct":
            rec.observe_accounting(SpoolAccounting(pkt, client, "idp.example", b""))
        else:
            rec.observe_reply(pkt, client, accept, "idp.example")
    per_event = (time.process_time() - cpu) / len(items)
    batches = rec.accumulator.take(T0 + WINDOW + interval, force=True)
    rec._executor.shutdown(wait=True)
    return per_event, batches


def bench_accumulator(items: list[tuple[float, str, Packet]], interval: int) -> float:
    events = [Event(f"ap{i % 20000}", at, Kind.ACCOUNTING, acct_status=AcctStatus.INTERIM, octets_in=i,
                    octets_out=i, realm="idp.example", session_key=f"s{i}", user_id=f"u{i}")
              for i, (at, _, _) in enumerate(items)]
    gc.freeze()
    acc = Accumulator(interval_s=interval)
    cpu = time.process_time()
    for e in events:
        acc.add(e)
    acc.take(T0 + WINDOW + interval, force=True)
    return (time.process_time() - cpu) / len(events)


def bench_aggregation(batches: list[Batch]) -> tuple[float, int, int]:
    sessions = [s for b in batches for s in b.sessions]
    placements = {s.ap_key: Placement(f"site-{hash(s.ap_key) % 3000}", "131041", "city") for s in sessions}
    cpu = time.process_time()
    rows = aggregate(sessions, placements)
    return (time.process_time() - cpu) / max(1, len(sessions)), len(sessions), len(rows)


def bench_store(url: str, batches: list[Batch]) -> dict[str, float]:
    store = Store.open(url)
    writer = SqlActivityWriter(store)
    rows = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        stats = writer.write(batch)
        rows += stats.activity_rows + stats.detail_rows + stats.session_rows
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    store.dispose()
    return {"rows": rows, "wall_s": wall, "rows_per_s": rows / wall, "cpu_us_per_row": cpu / rows * 1e6,
            "needed_rows_per_s": rows / WINDOW, "headroom": (rows / wall) / (rows / WINDOW)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aps", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=2, help="accounting sessions per AP (one interim each)")
    parser.add_argument("--interval", type=int, default=60, help="activity interval in seconds")
    parser.add_argument("--postgres", action="store_true", help="also write to a private PostgreSQL")
    args = parser.parse_args()

    items = workload(args.aps, args.sessions)
    # The harness's own 60,000 prebuilt packets would otherwise be walked by every full collection that the
    # path's allocations trigger, a cost the ANP (which holds no such list) does not have.
    gc.freeze()
    print(f"workload: {args.aps} APs x {args.sessions} sessions, one window of {WINDOW:.0f} s: {len(items)} events "
          f"({len(items) / WINDOW:.0f}/s)")
    adapter, batches = bench_adapter(items, args.interval)
    print(f"adapter (packet -> event -> accumulator): {adapter * 1e6:.2f} us CPU per event "
          f"({adapter * len(items) / WINDOW * 100:.3f} % of one core at this load)")
    print(f"accumulator alone: {bench_accumulator(items, args.interval) * 1e6:.2f} us CPU per event")
    agg, n_sessions, n_rows = bench_aggregation(batches)
    print(f"aggregation: {agg * 1e6:.2f} us CPU per session ({n_sessions} sessions -> {n_rows} hourly rows)")
    print(f"batches: {len(batches)}, activity rows {sum(len(b.records) for b in batches)}, "
          f"session rows {sum(len(b.sessions) for b in batches)}")
    with tempfile.TemporaryDirectory() as tmp:
        r = bench_store(f"sqlite:///{tmp}/bench.sqlite", batches)
    print(f"sqlite: {r['rows']:.0f} rows in {r['wall_s']:.2f} s = {r['rows_per_s']:.0f} rows/s "
          f"({r['cpu_us_per_row']:.1f} us CPU/row); needed {r['needed_rows_per_s']:.0f} rows/s: "
          f"headroom {r['headroom']:.0f}x")
    if args.postgres:
        from tests.support.pgserver import postgres_server

        with postgres_server() as server, server.database() as url:
            r = bench_store(url, batches)
        print(f"postgresql: {r['rows']:.0f} rows in {r['wall_s']:.2f} s = {r['rows_per_s']:.0f} rows/s "
              f"(client CPU {r['cpu_us_per_row']:.1f} us/row); needed {r['needed_rows_per_s']:.0f} rows/s: "
              f"headroom {r['headroom']:.0f}x")


if __name__ == "__main__":
    main()
