"""`tsunagaru serve --anp anp.toml --idp idp.toml`: both parts in one process, a login through them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.idp_process import write_config
from tests.support.procs import free_port, need, stop, wait_log
from tsunagaru.demo import eapol_conf
from tsunagaru.demo_state import DemoPorts, DemoState, prepare


@dataclass(frozen=True)
class Served:
    ports: DemoPorts
    state: DemoState
    log: Path
    proc: subprocess.Popen[bytes]

    def login(self, folder: Path) -> str:
        """One EAP-TTLS login of alice through the ANP; eapol_test's output."""
        conf = folder / "ttls.conf"
        conf.write_text(eapol_conf(self.state, "TTLS"))
        return subprocess.run(["eapol_test", "-c", str(conf), "-a", "127.0.0.1", "-p", str(self.ports.auth),
                               "-s", "testing123", "-t", "10"], capture_output=True, text=True, timeout=30).stdout

    def terminate(self, timeout: float) -> int:
        os.kill(self.proc.pid, signal.SIGTERM)
        return self.proc.wait(timeout)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``serve(*extra, ready=LINE)``: a demo state and an idp.toml on free ports of the right kind, then
    ``tsunagaru serve --anp --idp *extra`` until LINE is logged; stopped by pid at the end."""
    need("eapol_test")
    started: list[subprocess.Popen[bytes]] = []

    def start(*extra: str, ready: str = "anp listening", timeout: float = 60) -> Served:  # caps: a loaded box
        udp, tcp = (lambda: free_port(socket.SOCK_DGRAM)), (lambda: free_port(socket.SOCK_STREAM))
        ports = DemoPorts(auth=udp(), acct=udp(), idp_radsec=tcp(), idp_udp=udp(), anp_radsec=tcp(),
                          anp_metrics=tcp(), idp_metrics=tcp())
        state = prepare(tmp_path / "state", datetime.now(UTC), ports)
        idp_toml = write_config(state, tmp_path / "idp.toml", udp_port=ports.idp_udp, radsec_port=ports.idp_radsec,
                                metrics_port=ports.idp_metrics)
        log = tmp_path / "serve.log"
        argv = [sys.executable, "-m", "tsunagaru", "serve", "--anp", str(state.path("anp.toml")), "--idp",
                str(idp_toml), *extra]
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        started.append(proc)
        wait_log(log, ready, timeout=timeout, proc=proc)
        return Served(ports, state, log, proc)

    try:
        yield start
    finally:
        for proc in started:
            stop(proc)


@pytest.mark.interop
def test_serve_runs_anp_and_idp_together(serve: Callable[..., Served], tmp_path: Path) -> None:
    served = serve()
    out = served.login(tmp_path)
    assert "MPPE keys OK: 1" in out and out.rstrip().endswith("SUCCESS")
    assert served.terminate(15) == 0
    assert "idp stopped" in served.log.read_text()


def test_serve_needs_a_part() -> None:
    from tsunagaru.cli import main

    assert main(["serve"]) == 2


@pytest.mark.interop
def test_serve_with_two_workers_runs_both_parts_in_each(serve: Callable[..., Served], tmp_path: Path) -> None:
    """``serve --anp --idp --workers 2``: logins through both parts, one /metrics endpoint per part
    (each holding its own part's metrics, summed over the workers), SIGTERM stops all with exit 0."""
    from tests.support.anp_stack import scrape

    served = serve("--workers", "2", ready="workers ready", timeout=60)
    for _ in range(4):
        assert served.login(tmp_path).rstrip().endswith("SUCCESS")
    accept = 'tsunagaru_anp_results_total{outcome="accept",realm="idp.tsunagaru.test"}'
    for _ in range(50):  # a worker writes its tallied counters to its file once a second: bounded wait
        anp, idp = scrape(served.ports.anp_metrics), scrape(served.ports.idp_metrics)
        accepted = sum(v for k, v in idp.items() if k.startswith("tsunagaru_idp_outcomes_total") and "accept" in k)
        if accepted == 4 and anp.get(accept) == 4:
            break
        time.sleep(0.2)
    assert all(k.startswith("tsunagaru_anp_") for k in anp) and all(k.startswith("tsunagaru_idp_") for k in idp)
    assert accepted == 4
    assert anp[accept] == 4
    assert served.terminate(30) == 0
    text = served.log.read_text()
    assert text.count('"msg": "idp stopped"') == 2 and '"msg": "workers stopped"' in text
