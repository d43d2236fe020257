"""CPU of the ANP's peer table (``tsunagaru.ops.idp_peers``) on the event loop, next to the per-AP activity
accumulator that every request already feeds, in one run.

    .venv/bin/python bench/idp_peers.py [--requests 500000] [--peers 256]

Per request the proxy calls ``PeerTable.observe`` once per attempt; every second ``sample`` asks the pool
for each entry's state (here a dict lookup standing in for ``PeerPool.known_state``); once per interval
``take`` builds the snapshot. Reported: CPU (process time) per call, and observe's cost as a ratio of
``Accumulator.add``'s for the same number of requests.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from tsunagaru.ops.activity import Accumulator, Event, Kind
from tsunagaru.ops.idp_peers import Found, Outcome, PeerTable


def cpu(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    start = time.process_time()
    fn(n)
    return (time.process_time() - start) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=500_000)
    ap.add_argument("--peers", type=int, default=256)
    args = ap.parse_args()
    realms = [f"realm{i}.example" for i in range(args.peers - 1)]
    hosts = [f"192.0.2.{i % 250}" for i in range(args.peers - 1)]
    table = PeerTable("bench", 300, max_rows=args.peers)
    acc = Accumulator(interval_s=300)

    def observe(n: int) -> None:
        for i in range(n):
            k = i % len(realms)
            table.observe(realms[k], hosts[k], 2083, None, Found.SRV, Outcome.REPLY, float(i))

    events = [Event(f"ap-{i % 3000}", 1_800_000_000.0 + i * 1e-4, Kind.ACCEPT, realm=realms[i % len(realms)])
              for i in range(args.requests)]

    def add(n: int) -> None:
        for e in events[:n]:
            acc.add(e)

    states = {(h, 2083): "up" for h in hosts}

    def sample(n: int) -> None:
        for i in range(n):
            table.sample(lambda h, p, name: states.get((h, p)), float(i))

    def take(n: int) -> None:
        for i in range(n):
            table.take(1_800_000_000.0 + 300 * (i + 1), float(i), force=True)

    out = {"observe_us": cpu(observe, args.requests) * 1e6, "accumulator_add_us": cpu(add, args.requests) * 1e6,
           "sample_us": cpu(sample, 2000) * 1e6, "take_us": cpu(take, 200) * 1e6, "entries": len(table),
           "requests": args.requests, "loadavg": os.getloadavg()}
    out["observe_over_add"] = out["observe_us"] / out["accumulator_add_us"]
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}, indent=1))


if __name__ == "__main__":
    main()
