"""`tsunagaru demo` stops on SIGTERM, promptly and with exit 0: while web requests (idle keep-alive
connections, requests being made, one whose body never comes) and the simulator's RADIUS traffic are in
flight, and during its start-up (what was started is stopped, the state folder stays usable); a part
that cannot start is one error line, and the parts started before it are stopped.

Why: the demo sometimes did not exit after SIGTERM (a virtual AP outlived its cancellation, see
tests/ops/test_simulator_stop.py), and a request in flight kept the web app from stopping. Each stop step
is bounded and named in the ``demo stopped`` log line, which these tests read.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.demo import demo_argv, demo_ports
from tests.support.procs import stop, wait_log

STEPS = {"traffic", "scheduler", "portal", "web", "stack"}


def _start(state: Path, out: Path, **moved: int) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    ports = demo_ports() | moved
    with open(out, "wb") as f:
        proc = subprocess.Popen(demo_argv(state, ports), stdout=f, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    return proc, ports


def _terminate(proc: subprocess.Popen[bytes], out: Path) -> float:
    """SIGTERM, then the exit status (a 60 s cap; on a hang the threads are dumped); the seconds it took."""
    os.kill(proc.pid, signal.SIGTERM)
    began = time.monotonic()
    try:
        assert proc.wait(60) == 0
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGABRT)  # faulthandler: where it hangs
        proc.wait(15)
        tail = "\n".join(x for x in out.read_text(errors="replace").splitlines() if not x.startswith("{"))
        pytest.fail(f"the demo did not stop within 60 s of SIGTERM; its output:\n{tail[-4000:]}")
    return time.monotonic() - began


def _stopped_line(out: Path) -> dict[str, Any]:
    for line in out.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"demo stopped"' in line:
            return dict(json.loads(line))
    raise AssertionError(f"no 'demo stopped' log line in {out}")


def _keep_asking(port: int, done: threading.Event, answered: list[int]) -> None:
    """GETs on a keep-alive connection until ``done`` (errors expected once the demo stops)."""
    while not done.is_set():
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for path in ("/", "/api/v1/openapi.json", "/enrol/") * 10:
                conn.request("GET", path)
                conn.getresponse().read()
                answered.append(1)
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)


def test_demo_stops_while_web_requests_and_traffic_are_in_flight(tmp_path: Path) -> None:
    out = tmp_path / "demo.out"
    proc, ports = _start(tmp_path / "state", out)
    done, answered = threading.Event(), []  # type: ignore[var-annotated]
    askers = [threading.Thread(target=_keep_asking, args=(ports["web"], done, answered), daemon=True)
              for _ in range(4)]
    idle: list[http.client.HTTPConnection] = []
    try:
        wait_log(out, "\nready", timeout=180, proc=proc)
        wait_log(out, '"outcome": "accounting"', timeout=120, proc=proc)  # the simulator's APs reach the ANP
        for t in askers:
            t.start()
        for _ in range(3):  # idle keep-alive connections
            conn = http.client.HTTPConnection("127.0.0.1", ports["web"], timeout=30)
            conn.request("GET", "/api/v1/openapi.json")
            conn.getresponse().read()
            idle.append(conn)
        body = socket.create_connection(("127.0.0.1", ports["web"]), timeout=30)  # a body that never comes
        body.sendall(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{")
        while len(answered) < 20:  # requests are being answered while the demo is told to stop
            assert proc.poll() is None
            time.sleep(0.05)
        took = _terminate(proc, out)
    finally:
        done.set()
        stop(proc)
        for conn in idle:
            conn.close()
    line = _stopped_line(out)
    assert line["clean"] is True and set(line["steps"]) == STEPS, line
    assert "stopped" in out.read_text().splitlines()
    print(f"demo stopped {took:.1f} s after SIGTERM with requests and traffic in flight; steps {line['steps']}")
    body.close()


def test_sigterm_during_start_up_stops_what_started_and_keeps_the_state(tmp_path: Path) -> None:
    state, out = tmp_path / "state", tmp_path / "demo.out"
    proc, _ = _start(state, out)
    try:
        wait_log(out, "preparing the state folder", timeout=60, proc=proc)
        took = _terminate(proc, out)
    finally:
        stop(proc)
    text = out.read_text()
    assert "\nready" not in text and "stopped" in text.splitlines(), text[-2000:]
    print(f"stopped {took:.1f} s after a SIGTERM during start-up")
    again = tmp_path / "again.out"
    proc, _ = _start(state, again)  # the same state folder, complete or made again
    try:
        wait_log(again, "\nready", timeout=180, proc=proc)
        _terminate(proc, again)
    finally:
        stop(proc)
    assert _stopped_line(again)["clean"] is True


def test_a_busy_web_port_is_one_error_line_and_what_started_stops(tmp_path: Path) -> None:
    """uvicorn ends a failed bind with SystemExit; out of its task that left the loop with a traceback
    (exit 3) and the ANP and IdP unstopped. Now: the demo's one-line error, exit 1."""
    out = tmp_path / "demo.out"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc, _ = _start(tmp_path / "state", out, web=busy.getsockname()[1])
        try:
            code = proc.wait(300)  # a cap: the state folder is made first
        finally:
            stop(proc)
    text = out.read_text()
    assert code == 1 and "error: the web app could not listen on 127.0.0.1:" in text, text[-2000:]
    assert "Traceback" not in text
