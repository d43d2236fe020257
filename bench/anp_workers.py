"""ANP throughput with pre-fork workers: ``anp run --workers 2`` against ``--workers 1``, alternated rounds.

Not a test: run ``.venv/bin/python bench/anp_workers.py [--requests 20000] [--rounds 2]``.
Path (as in bench/anp_proxy.py, whose helpers this reuses): radclient (PAP,
/work/shared/bench-peers/load-pap.sh in ``count`` mode) -> the ANP on 127.0.0.1 (RADIUS/UDP) -> RadSec
-> FreeRADIUS 3.2. Each step starts a fresh ANP with the step's worker count and stops it after, so the
two settings see the same warm FreeRADIUS. Several radclient processes (``--procs``, default 8): each
sends from one socket, so SO_REUSEPORT spreads them over the workers by their 4-tuple; the split is
read from each worker's prometheus_client multiprocess file and reported (with 8 flows on 2 workers
it is rarely even). CPU per request is the sum over every ANP process watched (the parent and each
worker; the parent only supervises and serves /metrics). Reports the 1-minute load average at the start
and end of each step: eight agents share this box's two cores, so the ratio says what a second worker
buys here, not on an idle machine. Writes bench/results/anp-workers-<time>/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.anp_proxy import BENCH_CLIENT, load, ping  # noqa: E402
from tests.support.anp_freeradius import freeradius_eap_idp  # noqa: E402
from tests.support.anp_stack import TSUNAGARU, AnpPorts, anp_ports, anp_toml, make_state  # noqa: E402
from tests.support.procs import running, wait_log  # noqa: E402
from tests.support.workers import per_process, worker_pids  # noqa: E402
from tsunagaru.demo_state import REALM, DemoState  # noqa: E402


@contextlib.contextmanager
def anp(folder: Path, toml: str, workers: int, log_level: str) -> Iterator[dict[str, int]]:
    """The ANP with ``workers`` workers until the block ends; yields {process name: pid} to watch."""
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "anp.toml"
    conf.write_text(toml)
    log = folder / f"anp-{workers}w-{time.monotonic_ns()}.log"
    argv = [str(TSUNAGARU), "anp", "run", "--config", str(conf), "--log-level", log_level, "--workers", str(workers)]
    with running(argv, log, cwd=folder) as proc:
        wait_log(log, "workers ready" if workers > 1 else "anp listening", timeout=60, proc=proc)
        pids = {"anp": proc.pid}
        if workers > 1:
            pids = {"anp-parent": proc.pid, **{f"anp-w{i}": pid for i, pid in sorted(worker_pids(log).items())}}
        yield pids


def step(state: DemoState, work: Path, ports: AnpPorts, idp: Any, workers: int, r: int, out: Path,
         a: argparse.Namespace) -> dict[str, Any]:
    spool = work / f"spool-{r}-{workers}.sqlite"
    toml = anp_toml(state, ports, spool=spool, client_options=BENCH_CLIENT,
                    routes=[(REALM, [f"127.0.0.1:{idp.radsec}/{REALM}"])])
    with anp(work / "anp", toml, workers, a.anp_log_level) as pids:
        if not ping(ports.auth):
            raise RuntimeError(f"the ANP with {workers} workers does not answer an Access-Request")
        load_before = os.getloadavg()[0]
        result = load(f"anp-{workers}w", ports.auth, {**pids, "freeradius": idp.pid},
                      out / f"{r:02d}-{workers}w.json", a)
        load_after = os.getloadavg()[0]
        split = {}
        if workers > 1:
            counts = per_process(spool.with_name(f"{spool.name}.metrics"), "tsunagaru_anp_requests_total")
            split = {name: counts.get(pid, 0.0) for name, pid in pids.items() if name != "anp-parent"}
    servers = result.get("measure", {}).get("servers", {})
    cpu_s = sum(float(servers.get(n, {}).get("cpu_s_incl_tail", servers.get(n, {}).get("cpu_s", 0.0)) or 0.0)
                for n in pids)
    accepted = result.get("accepted") or 0
    return {"round": r, "workers": workers, "requests_per_s": result.get("requests_per_s"),
            "failures": result.get("failures"), "anp_cpu_us_per_request": round(1e6 * cpu_s / accepted, 1)
            if accepted else None, "anp_cpu_pct_of_core": round(100 * cpu_s / result["wall_s"], 1)
            if result.get("wall_s") else None, "requests_per_worker": split,
            "system_cpu_busy_pct": result.get("measure", {}).get("system_cpu_busy_pct"),
            "loadavg_1m": [round(load_before, 2), round(load_after, 2)], "result": result}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=20000, help="Access-Requests per step")
    p.add_argument("--parallel", type=int, default=8, help="requests in flight per radclient")
    p.add_argument("--procs", type=int, default=8, help="radclient processes (each one 4-tuple)")
    p.add_argument("--rounds", type=int, default=2, help="alternate 1 and 2 workers this many times")
    p.add_argument("--max-seconds", type=float, default=60, help="wall-clock cap per step")
    p.add_argument("--anp-log-level", default="info")
    p.add_argument("--work", type=Path, default=None)
    a = p.parse_args()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = ROOT / "bench" / "results" / f"anp-workers-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    work = a.work or Path(f"/tmp/tsunagaru-bench-anp-workers-{stamp}")
    state = make_state(work / "state")
    steps: list[dict[str, Any]] = []
    with freeradius_eap_idp(work / "freeradius", state) as idp:
        ports = anp_ports()
        for r in range(a.rounds):
            for workers in ((1, 2) if r % 2 == 0 else (2, 1)):  # alternated: neither always goes first
                s = step(state, work, ports, idp, workers, r, out, a)
                steps.append(s)
                print(json.dumps({k: v for k, v in s.items() if k != "result"}), flush=True)
    summary = summarise(steps, a)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "steps"}, indent=2))
    print(f"results in {out}")
    return 0


def summarise(steps: list[dict[str, Any]], a: argparse.Namespace) -> dict[str, Any]:
    def figures(workers: int) -> dict[str, Any]:
        mine = [s for s in steps if s["workers"] == workers]
        rates = [s["requests_per_s"] for s in mine if s["requests_per_s"]]
        return {"requests_per_s": rates, "mean_requests_per_s": round(sum(rates) / len(rates), 1) if rates else None,
                "cpu_us_per_request": [s["anp_cpu_us_per_request"] for s in mine],
                "failures": [s["failures"] for s in mine], "loadavg_1m": [s["loadavg_1m"] for s in mine],
                "requests_per_worker": [s["requests_per_worker"] for s in mine]}

    one, two = figures(1), figures(2)
    ratio = (round(two["mean_requests_per_s"] / one["mean_requests_per_s"], 2)
             if one["mean_requests_per_s"] and two["mean_requests_per_s"] else None)
    return {"kind": "anp-workers", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release()},
            "settings": {"requests": a.requests, "parallel": a.parallel, "procs": a.procs, "rounds": a.rounds,
                         "anp_log_level": a.anp_log_level},
            "one_worker": one, "two_workers": two, "throughput_ratio_2_over_1": ratio, "steps": steps}


if __name__ == "__main__":
    sys.exit(main())
