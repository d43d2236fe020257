"""Helpers for tests of pre-fork workers (``--workers N``): who the workers are, what each counted, and
RADIUS clients that keep one source port (one 4-tuple: one worker behind SO_REUSEPORT)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tsunagaru.radius import Packet, verify_reply
from tsunagaru.radius.packet import MESSAGE_AUTHENTICATOR


def log_events(log: Path, msg: str) -> list[dict[str, object]]:
    """The JSON log lines whose ``msg`` is ``msg``, in order."""
    out = []
    for line in log.read_text(errors="replace").splitlines():
        if f'"{msg}"' not in line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("msg") == msg:
            out.append(event)
    return out


def worker_pids(log: Path) -> dict[int, int]:
    """Index -> pid of the latest start of each worker (from the parent's "worker started" lines)."""
    return {int(str(e["worker"])): int(str(e["pid"])) for e in log_events(log, "worker started")}


def wait_for(check: Callable[[], bool], timeout: float, what: str, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(step)
    raise TimeoutError(f"{what} within {timeout}s")


def per_process(directory: Path, sample: str) -> dict[int, float]:
    """pid -> the sum of ``sample`` (e.g. ``tsunagaru_anp_requests_total``) in that process's counter file
    of a prometheus_client multiprocess directory: what each worker counted."""
    from prometheus_client.multiprocess import MultiProcessCollector

    out: dict[int, float] = {}
    for f in directory.glob("counter_*.db"):
        pid = int(f.stem.split("_")[1])
        with tempfile.TemporaryDirectory() as d:
            shutil.copy(f, d)
            out[pid] = sum(s.value for m in MultiProcessCollector(None, path=d).collect()  # type: ignore[no-untyped-call]
                           for s in m.samples if s.name == sample)
    return out


class Flow:
    """One UDP client socket (one source port) sending requests and waiting for their verified replies."""

    def __init__(self, port: int, secret: bytes) -> None:
        self.port, self.secret = port, secret
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))

    def ask(self, request: Packet, timeout: float = 3.0) -> Packet | None:
        self.sock.settimeout(timeout)
        self.sock.sendto(request.to_bytes(), ("127.0.0.1", self.port))
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                reply = Packet.from_bytes(self.sock.recv(4096))
            except TimeoutError:
                return None
            if reply.identifier == request.identifier and reply.authenticator:
                verify_reply(reply, request.authenticator, self.secret,
                             require_message_authenticator=reply.has(MESSAGE_AUTHENTICATOR))
                return reply

    def close(self) -> None:
        self.sock.close()


def eapol(conf: Path, port: int, secret: str, timeout: int = 10) -> bool:
    """One eapol_test conversation against 127.0.0.1:``port`` (one socket throughout); True on SUCCESS."""
    done = subprocess.run(["eapol_test", "-c", str(conf), "-a", "127.0.0.1", "-p", str(port), "-s", secret,
                           "-t", str(timeout)], capture_output=True, text=True, timeout=timeout + 20)
    return done.returncode == 0 and "SUCCESS" in done.stdout
