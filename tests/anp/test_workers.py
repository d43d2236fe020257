"""`tsunagaru anp run --workers 2` as real processes in front of our IdP (a separate process): both workers
serve one port pair (SO_REUSEPORT), the parent's /metrics sums them, SIGHUP reaches every worker, a
killed worker comes back, and accounting stays exactly-once through a worker's death, a SIGTERM with
requests in flight and a restart with fewer workers (the orphaned spool adopted). Bounded loops, every
process stopped by pid."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tests.support.anp_stack import (
    SECRET,
    TSUNAGARU,
    AnpPorts,
    accounting_request,
    accounting_rows,
    anp_ports,
    anp_toml,
    make_state,
    pap_request,
    run_idp,
    scrape,
)
from tests.support.procs import need, running, wait_log
from tests.support.workers import Flow, eapol, log_events, per_process, wait_for, worker_pids
from tsunagaru.demo import eapol_conf
from tsunagaru.demo_state import NAS_SECRET, REALM, DemoState
from tsunagaru.radius import Code, Packet, sign_request
from tsunagaru.radius.hiding import hide_user_password
from tsunagaru.radius.packet import USER_NAME, USER_PASSWORD

pytestmark = pytest.mark.interop
USER = f"alice@{REALM}"
FLOWS = 24  # distinct source ports: all on one of 2 workers has probability 2**-23


def _config(state: DemoState, ports: AnpPorts, folder: Path, idp_port: int, secret: str = NAS_SECRET) -> str:
    text = anp_toml(state, ports, spool=folder / "spool.sqlite", routes=[(REALM, [f"127.0.0.1:{idp_port}/{REALM}"])])
    return text.replace(f'secret = "{NAS_SECRET}"', f'secret = "{secret}"')


@contextmanager
def workers(folder: Path, config: str, count: int, tag: str) -> Iterator[subprocess.Popen[bytes]]:
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "anp.toml"
    conf.write_text(config)
    log = folder / f"anp-{tag}.log"
    with running([str(TSUNAGARU), "anp", "run", "--config", str(conf), "--workers", str(count)], log,
                 cwd=folder) as proc:
        wait_log(log, "workers ready" if count > 1 else "anp listening", timeout=60, proc=proc)
        yield proc


def _pap(secret: bytes, identifier: int) -> Packet:
    if secret == SECRET:
        return pap_request(USER, "alice-password", identifier)
    auth = os.urandom(16)
    attrs = ((USER_NAME, USER.encode()), (USER_PASSWORD, hide_user_password(b"alice-password", secret, auth)))
    return sign_request(Packet(Code.ACCESS_REQUEST, identifier, auth, attrs), secret, add_message_authenticator=True)


def _pap_from_flows(port: int, secret: bytes, flows: int = FLOWS, each: int = 2) -> int:
    accepted = 0
    for _ in range(each):
        for n in range(flows):
            flow = Flow(port, secret)
            try:
                reply = flow.ask(_pap(secret, n))
            finally:
                flow.close()
            accepted += reply is not None and reply.code == Code.ACCESS_ACCEPT
    return accepted


def test_two_workers_share_the_ports_and_the_metrics_add_up(tmp_path: Path) -> None:
    need("eapol_test")
    state = make_state(tmp_path / "state")
    conf = tmp_path / "ttls.conf"
    conf.write_text(eapol_conf(state, "TTLS"))
    ports = anp_ports()
    folder = tmp_path / "anp"
    with run_idp(state, tmp_path / "idp") as idp, workers(folder, _config(state, ports, folder, idp.radsec), 2,
                                                          "share") as proc:
        pids = worker_pids(folder / "anp-share.log")
        assert sorted(pids) == [0, 1] and proc.pid not in pids.values()
        assert _pap_from_flows(ports.auth, SECRET) == 2 * FLOWS
        with concurrent.futures.ThreadPoolExecutor(4) as pool:  # each eapol_test conversation: one socket
            logins = list(pool.map(lambda _: eapol(conf, ports.auth, NAS_SECRET), range(8)))
        assert all(logins)
        time.sleep(1.2)  # the workers write their function gauges every second
        per_worker = per_process(folder / "spool.sqlite.metrics", "tsunagaru_anp_requests_total")
        assert set(per_worker) == set(pids.values())
        assert all(n > 0 for n in per_worker.values()), per_worker  # both workers served
        total = scrape(ports.metrics)
        requests = sum(v for k, v in total.items() if k.startswith("tsunagaru_anp_requests_total"))
        assert requests == sum(per_worker.values()) >= 2 * FLOWS + 8 * 4  # a TTLS login is several rounds
        assert total["tsunagaru_anp_pool_peers"] == 2  # livesum: each worker keeps its own RadSec peer
        stat = os.stat(folder / "spool.sqlite.metrics")
        assert stat.st_mode & 0o777 == 0o700
    assert proc.returncode == 0


def test_sighup_reaches_every_worker_and_a_bad_file_is_refused(tmp_path: Path) -> None:
    state = make_state(tmp_path / "state")
    ports = anp_ports()
    folder = tmp_path / "anp"
    with run_idp(state, tmp_path / "idp") as idp, workers(folder, _config(state, ports, folder, idp.radsec), 2,
                                                          "hup") as proc:
        log = folder / "anp-hup.log"
        (folder / "anp.toml").write_text(_config(state, ports, folder, idp.radsec, secret="a-new-secret"))
        os.kill(proc.pid, signal.SIGHUP)
        wait_for(lambda: len(log_events(log, "configuration reloaded")) == 2, 15, "both workers reloaded")
        assert _pap_from_flows(ports.auth, b"a-new-secret", each=1) == FLOWS  # whichever worker a flow meets
        (folder / "anp.toml").write_text("[anp\nbroken")
        os.kill(proc.pid, signal.SIGHUP)
        wait_for(lambda: log.read_text().count("reload refused, keeping the running configuration") == 2, 15,
                 "both workers refused the reload")
        assert _pap_from_flows(ports.auth, b"a-new-secret", each=1) == FLOWS
        assert proc.poll() is None
    assert proc.returncode == 0


def test_a_killed_worker_is_logged_and_restarted(tmp_path: Path) -> None:
    state = make_state(tmp_path / "state")
    ports = anp_ports()
    folder = tmp_path / "anp"
    with run_idp(state, tmp_path / "idp") as idp, workers(folder, _config(state, ports, folder, idp.radsec), 2,
                                                          "kill") as proc:
        log = folder / "anp-kill.log"
        old = worker_pids(log)
        os.kill(old[1], signal.SIGKILL)
        wait_for(lambda: worker_pids(log).get(1) not in (None, old[1]), 15, "worker 1 restarted")
        died = log_events(log, "worker died")
        assert died and died[0]["worker"] == 1 and died[0]["status"] == "killed by SIGKILL"
        wait_for(lambda: len(log_events(log, "anp listening")) == 3, 15, "the new worker listening")
        assert _pap_from_flows(ports.auth, SECRET, each=1) == FLOWS
        assert worker_pids(log)[0] == old[0]  # the other worker went on serving
        assert proc.poll() is None
    assert proc.returncode == 0


# -- accounting exactly once --------------------------------------------------------------------------


def _records(start: int, count: int) -> list[Packet]:
    return [accounting_request(USER, f"workers-{n}", n % 256) for n in range(start, start + count)]


def _send(flows: list[Flow], records: list[Packet], timeout: float = 1.0, tries: int = 3) -> set[int]:
    """Each record from flow ``i % len(flows)`` (flows in parallel, records of a flow in turn, each sent
    up to ``tries`` times as an AP retransmits): the indices of those answered."""
    def one_flow(i: int) -> set[int]:
        done = set()
        for n in range(i, len(records), len(flows)):
            for _ in range(tries):
                reply = flows[i].ask(records[n], timeout)
                if reply is not None and reply.code == Code.ACCOUNTING_RESPONSE:
                    done.add(n)
                    break
        return done

    with concurrent.futures.ThreadPoolExecutor(len(flows)) as pool:
        return set().union(*pool.map(one_flow, range(len(flows))))


def _spool_keys(folder: Path) -> tuple[int, int, list[str]]:
    """(rows, distinct record keys) over every spool file in ``folder``, and the files' names."""
    keys: list[str] = []
    files = sorted(p.name for p in folder.glob("spool.sqlite*") if p.is_file() and p.suffix != ".metrics"
                   and not p.name.endswith(("-wal", "-shm")))
    for name in files:
        with closing(sqlite3.connect(folder / name)) as db:
            keys += [k for (k,) in db.execute("SELECT record_key FROM acct_spool")]
    return len(keys), len(set(keys)), files


def test_accounting_exactly_once_through_a_death_a_sigterm_and_fewer_workers(tmp_path: Path) -> None:
    state = make_state(tmp_path / "state")
    ports = anp_ports()
    folder = tmp_path / "anp"
    first, second = _records(0, 120), _records(120, 120)
    with run_idp(state, tmp_path / "idp") as idp:
        config = _config(state, ports, folder, idp.radsec)
        with workers(folder, config, 2, "acct") as proc:
            log = folder / "anp-acct.log"
            flows = [Flow(ports.acct, SECRET) for _ in range(FLOWS)]
            assert _send(flows, first) == set(range(len(first)))
            os.kill(worker_pids(log)[1], signal.SIGKILL)  # the flows it served now hash to worker 0...
            assert _send(flows, first) == set(range(len(first)))  # ...whose siblings' spool has them
            wait_for(lambda: len(log_events(log, "anp listening")) == 3, 20, "worker 1 back")
            with concurrent.futures.ThreadPoolExecutor(1) as pool:  # SIGTERM with requests in flight
                answered = pool.submit(_send, flows, second + first)
                time.sleep(0.3)
                os.kill(proc.pid, signal.SIGTERM)
                got = answered.result()
            proc.wait(30)
            assert proc.returncode == 0
            for flow in flows:
                flow.close()
        rows, distinct, files = _spool_keys(folder)
        assert files == ["spool.sqlite.w0", "spool.sqlite.w1"]
        assert rows == distinct  # no record spooled by two workers
        assert len(got) > 0
        (folder / "log.key").unlink()
        with workers(folder, config, 1, "single"):  # fewer workers: the orphaned spools are adopted
            assert (folder / "log.key").stat().st_mode & 0o777 == 0o600  # `anp run` loads (makes) the log key
            flows = [Flow(ports.acct, SECRET) for _ in range(FLOWS)]
            assert _send(flows, first + second) == set(range(len(first) + len(second)))  # the APs retransmit
            for flow in flows:
                flow.close()
            wait_for(lambda: accounting_rows(state)[2] == len(first) + len(second), 30, "every record at the IdP")
            rows, distinct, files = _spool_keys(folder)
        assert files == ["spool.sqlite"] and rows == distinct == len(first) + len(second)
        time.sleep(1.0)
        total, keys, sessions = accounting_rows(state)
        assert total == keys == sessions == len(first) + len(second)
