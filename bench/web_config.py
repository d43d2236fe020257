"""The AP config endpoint under load: 20,000 APs, p50/p95 latency and polls per second on one core.

    .venv/bin/python bench/web_config.py [--aps 20000] [--cold 2000] [--steady 10000] [--clients 8]

A SQLite store gets 20,000 APs (two radios each) on 2,000 sites with one token each (inserted in bulk,
not through the services: the setup is not what is measured). ``tsunagaru web serve`` runs in its own
process pinned to CPU 0 (one uvicorn worker, one core); the load comes from ``--clients`` processes
pinned to the other CPU, each with one keep-alive HTTP/1.1 connection, bounded by a request count.

Phases, each measured by client-side latency (p50/p95/p99) and by the server's CPU time (utime+stime
from /proc), which gives polls per CPU-second of the one core:
  cold     first poll of distinct APs: render (plan + hostapd.conf), ETag, write served version -> 200
  steady   polls with the ETag the AP has, polled just before -> 304, no write
  write    the same 304 with a write of the poll time on every request (ap_poll_write_every = 0; in
           production every second poll writes, so steady state lies between steady and write)
Results go to stdout and bench/results/web-config-<time>.json. The goal: p95 < 20 ms, >= 1,000 polls/s.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import multiprocessing as mp
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import insert  # noqa: E402

from tests.support.procs import free_port, stop, wait_tcp  # noqa: E402
from tsunagaru.sites.scope import Principal, Role  # noqa: E402
from tsunagaru.sites.seed import seed_municipalities  # noqa: E402
from tsunagaru.store import Store  # noqa: E402
from tsunagaru.store.registry_tables import AccessPoint, Site  # noqa: E402
from tsunagaru.store.web_tables import ApToken  # noqa: E402

OPERATOR = ROOT / "tests" / "web" / "operator.toml"
CODES = ("131016", "131024", "131032", "131041", "131059", "131067", "131075", "131083", "131091", "131105")


def build(db_url: str, aps: int) -> dict[int, str]:
    """The store with ``aps`` APs; returns AP id -> token."""
    store = Store.open(db_url)
    now = datetime.now(UTC)
    tokens: dict[int, str] = {}
    with store.session() as db:
        seed_municipalities(db, Principal("bench", Role.CITY_ADMIN), now=now)
        sites = [{"id": i, "name": f"ベンチ拠点{i}", "name_en": f"Bench site {i}", "category": "phone-booth",
                  "lat": 35.6 + (i % 100) / 1000, "lon": 139.7 + (i % 77) / 1000, "municipality_code": CODES[i % 10],
                  "state": "active", "created_at": now, "updated_at": now} for i in range(1, aps // 10 + 2)]
        db.execute(insert(Site), sites)
        rows, token_rows = [], []
        for i in range(1, aps + 1):
            rows.append({"id": i, "site_id": 1 + (i - 1) // 10, "name": f"bench-ap-{i}", "platform": "hostapd",
                         "radios": [{"band": "2g", "channel": 6}, {"band": "5g", "channel": 36}], "bssids": [],
                         "nas_network": f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}/32",
                         "nas_identifier": f"bench-ap-{i}", "secret_ref": "file:ap-secret", "state": "active",
                         "created_at": now, "updated_at": now})
            token = f"tsa_bench-{i}-" + os.urandom(16).hex()
            tokens[i] = token
            token_rows.append({"token_hash": hashlib.sha256(token.encode()).hexdigest(), "ap_id": i, "created_at": now})
        db.execute(insert(AccessPoint), rows)
        db.execute(insert(ApToken), token_rows)
    store.dispose()
    return tokens


def client(port: int, jobs: list[tuple[int, str, str | None]], out: Any) -> None:
    os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lat: list[float] = []
    etags: dict[int, str] = {}
    codes: dict[int, int] = {}
    for ap_id, token, etag in jobs:
        headers = {"Authorization": f"Bearer {token}"}
        if etag:
            headers["If-None-Match"] = etag
        t0 = time.perf_counter()
        conn.request("GET", f"/api/v1/aps/{ap_id}/config?format=hostapd", headers=headers)
        resp = conn.getresponse()
        resp.read()
        lat.append(time.perf_counter() - t0)
        codes[resp.status] = codes.get(resp.status, 0) + 1
        etags[ap_id] = resp.getheader("ETag") or ""
    out.put((lat, etags, codes))


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def phase(name: str, port: int, pid: int, jobs: list[tuple[int, str, str | None]], clients: int) -> dict[str, Any]:
    chunks = [jobs[i::clients] for i in range(clients)]
    q: mp.Queue[Any] = mp.Queue()
    cpu0, t0 = server_cpu(pid), time.perf_counter()
    procs = [mp.Process(target=client, args=(port, c, q)) for c in chunks]
    for p in procs:
        p.start()
    results = [q.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(60)
    wall, cpu = time.perf_counter() - t0, server_cpu(pid) - cpu0
    lat = sorted(x for r in results for x in r[0])
    codes: dict[int, int] = {}
    for r in results:
        for k, v in r[2].items():
            codes[k] = codes.get(k, 0) + v
    etags = {k: v for r in results for k, v in r[1].items()}
    q_ = statistics.quantiles(lat, n=100)
    out = {"phase": name, "requests": len(lat), "codes": codes, "wall_s": round(wall, 2),
           "server_cpu_s": round(cpu, 2), "polls_per_s_wall": round(len(lat) / wall),
           "polls_per_cpu_s": round(len(lat) / cpu) if cpu else None, "cpu_ms_per_poll": round(cpu / len(lat) * 1e3, 3),
           "p50_ms": round(q_[49] * 1e3, 2), "p95_ms": round(q_[94] * 1e3, 2), "p99_ms": round(q_[98] * 1e3, 2)}
    print(json.dumps(out), flush=True)
    out["_etags"] = etags
    return out


def serve(tmp: Path, db_url: str, write_every: float) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port(socket.SOCK_STREAM)
    conf = tmp / f"web-{write_every}.toml"
    conf.write_text(f'[web]\nlisten = "127.0.0.1:{port}"\ndb = "{db_url}"\npasspoint = "{OPERATOR}"\n'
                    f'secrets_dir = "{tmp / "secrets"}"\nsecret_key_file = "{tmp / "key"}"\n'
                    f'ap_poll_write_every = {write_every}\n')
    log = open(tmp / f"web-{write_every}.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([sys.executable, "-m", "tsunagaru", "web", "serve", "--config", str(conf),
                             "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    wait_tcp(port, proc=proc, timeout=60)
    return proc, port


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--aps", type=int, default=20_000)
    ap.add_argument("--cold", type=int, default=2_000)
    ap.add_argument("--steady", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        (tmp / "secrets").mkdir()
        (tmp / "secrets" / "ap-secret").write_text("a-long-bench-radius-secret\n")
        db_url = f"sqlite:///{tmp / 'bench.sqlite'}"
        t0 = time.perf_counter()
        tokens = build(db_url, args.aps)
        print(json.dumps({"setup": f"{args.aps} APs", "seconds": round(time.perf_counter() - t0, 1)}), flush=True)
        rng = random.Random(1)
        results = []
        proc, port = serve(tmp, db_url, 90)
        try:
            cold_ids = rng.sample(sorted(tokens), args.cold)
            cold = phase("cold", port, proc.pid, [(i, tokens[i], None) for i in cold_ids], args.clients)
            etags = cold.pop("_etags")
            results.append(cold)
            jobs = [(i, tokens[i], etags[i]) for i in (rng.choice(cold_ids) for _ in range(args.steady))]
            steady = phase("steady-304", port, proc.pid, jobs, args.clients)
            steady.pop("_etags")
            results.append(steady)
            # one client, one request at a time: the latency of a poll without queueing behind others
            alone = phase("steady-304-one-client", port, proc.pid, jobs[: args.steady // 5], 1)
            alone.pop("_etags")
            results.append(alone)
        finally:
            stop(proc)
        proc, port = serve(tmp, db_url, 0)
        try:
            jobs = [(i, tokens[i], etags[i]) for i in (rng.choice(cold_ids) for _ in range(args.steady // 2))]
            write = phase("304-with-write", port, proc.pid, jobs, args.clients)
            write.pop("_etags")
            results.append(write)
        finally:
            stop(proc)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"web-config-{int(time.time())}.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
