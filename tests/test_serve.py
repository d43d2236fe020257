"""`tsunagaru serve --anp anp.toml --idp idp.toml`: both parts in one process, a login through them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.idp_process import write_config
from tests.support.procs import free_port, need, stop, wait_log
from tsunagaru.demo import eapol_conf
from tsunagaru.demo_state import DemoPorts, prepare


@pytest.mark.interop
def test_serve_runs_anp_and_idp_together(tmp_path: Path) -> None:
    need("eapol_test")
    ports = DemoPorts(auth=free_port(), acct=free_port(), idp_radsec=free_port(), idp_udp=free_port(),
                      anp_radsec=free_port(), anp_metrics=free_port(), idp_metrics=free_port())
    state = prepare(tmp_path / "state", datetime.now(UTC), ports)
    idp_toml = write_config(state, tmp_path / "idp.toml", udp_port=ports.idp_udp, radsec_port=ports.idp_radsec)
    log = tmp_path / "serve.log"
    argv = [sys.executable, "-m", "tsunagaru", "serve", "--anp", str(state.path("anp.toml")), "--idp", str(idp_toml)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_log(log, "anp listening", timeout=30, proc=proc)
        conf = tmp_path / "ttls.conf"
        conf.write_text(eapol_conf(state, "TTLS"))
        run = subprocess.run(["eapol_test", "-c", str(conf), "-a", "127.0.0.1", "-p", str(ports.auth),
                              "-s", "testing123", "-t", "10"], capture_output=True, text=True, timeout=30)
        assert "MPPE keys OK: 1" in run.stdout and run.stdout.rstrip().endswith("SUCCESS")
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        stop(proc)
    assert "idp stopped" in log.read_text()


def test_serve_needs_a_part() -> None:
    from tsunagaru.cli import main

    assert main(["serve"]) == 2


@pytest.mark.interop
def test_serve_with_two_workers_runs_both_parts_in_each(tmp_path: Path) -> None:
    """``serve --anp --idp --workers 2``: logins through both parts, one /metrics endpoint per part
    (each holding its own part's metrics, summed over the workers), SIGTERM stops all with exit 0."""
    need("eapol_test")
    from tests.support.anp_stack import scrape

    ports = DemoPorts(auth=free_port(), acct=free_port(), idp_radsec=free_port(), idp_udp=free_port(),
                      anp_radsec=free_port(), anp_metrics=free_port(), idp_metrics=free_port())
    state = prepare(tmp_path / "state", datetime.now(UTC), ports)
    idp_toml = write_config(state, tmp_path / "idp.toml", udp_port=ports.idp_udp, radsec_port=ports.idp_radsec,
                            metrics_port=ports.idp_metrics)
    log = tmp_path / "serve.log"
    argv = [sys.executable, "-m", "tsunagaru", "serve", "--anp", str(state.path("anp.toml")), "--idp", str(idp_toml),
            "--workers", "2"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_log(log, "workers ready", timeout=60, proc=proc)
        conf = tmp_path / "ttls.conf"
        conf.write_text(eapol_conf(state, "TTLS"))
        for _ in range(4):
            run = subprocess.run(["eapol_test", "-c", str(conf), "-a", "127.0.0.1", "-p", str(ports.auth),
                                  "-s", "testing123", "-t", "10"], capture_output=True, text=True, timeout=30)
            assert run.stdout.rstrip().endswith("SUCCESS")
        anp, idp = scrape(ports.anp_metrics), scrape(ports.idp_metrics)
        assert all(k.startswith("tsunagaru_anp_") for k in anp) and all(k.startswith("tsunagaru_idp_") for k in idp)
        accepted = sum(v for k, v in idp.items() if k.startswith("tsunagaru_idp_outcomes_total") and "accept" in k)
        assert accepted == 4
        assert anp['tsunagaru_anp_results_total{outcome="accept",realm="idp.tsunagaru.test"}'] == 4
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        stop(proc)
    text = log.read_text()
    assert text.count('"msg": "idp stopped"') == 2 and '"msg": "workers stopped"' in text
