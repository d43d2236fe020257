"""`tsunagaru idp serve --workers 2` as real processes: eapol_test conversations (one socket each, so one
worker each behind SO_REUSEPORT, the one holding its TLS state) all succeed with both workers used, the
parent's /metrics is the sum of the workers, accounting from many NAS ports lands once in the shared
database, and SIGTERM stops every worker (exit 0)."""

from __future__ import annotations

import concurrent.futures
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tests.support.anp_stack import SECRET, accounting_request, make_state, scrape
from tests.support.idp_process import write_config
from tests.support.procs import free_port, need, running, wait_log
from tests.support.workers import Flow, eapol, per_process, worker_pids
from tsunagaru.demo import eapol_conf
from tsunagaru.demo_state import NAS_SECRET, REALM, DemoState
from tsunagaru.radius import Code

pytestmark = pytest.mark.interop
LOGINS = 16  # conversations (each its own source port): all on one of 2 workers has probability 2**-15


@contextmanager
def idp_workers(state: DemoState, folder: Path, count: int) -> Iterator[tuple[subprocess.Popen[bytes], int, int]]:
    folder.mkdir(parents=True, exist_ok=True)
    udp, metrics = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    config = write_config(state, folder / "idp.toml", udp_port=udp, radsec_port=free_port(socket.SOCK_STREAM),
                          metrics_port=metrics)
    log = folder / "idp.log"
    argv = [sys.executable, "-m", "tsunagaru", "idp", "serve", "--config", str(config), "--workers", str(count)]
    with running(argv, log) as proc:
        wait_log(log, "workers ready", timeout=60, proc=proc)
        yield proc, udp, metrics


def test_eap_conversations_stay_on_their_worker_and_metrics_add_up(tmp_path: Path) -> None:
    need("eapol_test")
    state = make_state(tmp_path / "state")
    confs = {m: tmp_path / f"{m}.conf" for m in ("TTLS", "TLS")}
    for method, path in confs.items():
        path.write_text(eapol_conf(state, method))
    folder = tmp_path / "idp"
    with idp_workers(state, folder, 2) as (proc, udp, metrics):
        pids = worker_pids(folder / "idp.log")
        assert sorted(pids) == [0, 1]
        methods = ["TTLS", "TLS"] * (LOGINS // 2)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            logins = list(pool.map(lambda m: eapol(confs[m], udp, NAS_SECRET), methods))
        assert all(logins), logins
        flows = [Flow(udp, SECRET) for _ in range(8)]
        for n, flow in enumerate(flows):
            reply = flow.ask(accounting_request(f"alice@{REALM}", f"idp-workers-{n}", n))
            assert reply is not None and reply.code == Code.ACCOUNTING_RESPONSE
            flow.close()
        time.sleep(1.2)  # gauges are written every second
        per_worker = per_process(folder / "idp-metrics", "tsunagaru_idp_requests_total")
        assert set(per_worker) == set(pids.values())
        assert all(n > 0 for n in per_worker.values()), per_worker
        total = scrape(metrics)
        requests = sum(v for k, v in total.items() if k.startswith("tsunagaru_idp_requests_total"))
        assert requests == sum(per_worker.values())
        outcomes = sum(v for k, v in total.items() if k.startswith("tsunagaru_idp_outcomes_total")
                       and 'outcome="accept"' in k)
        assert outcomes == LOGINS
        assert total["tsunagaru_idp_eap_sessions"] == 0
        assert not any(k.startswith("tsunagaru_anp_") for k in total)
    assert proc.returncode == 0
    with closing(sqlite3.connect(state.path("idp.sqlite"))) as db:
        (rows,) = db.execute("SELECT count(*) FROM idp_accounting WHERE session_id LIKE 'idp-workers-%'").fetchone()
    assert rows == 8
