"""The real processes of the fault tests and the figures taken from them (not a test module).

`tsunagaru anp run` (tests.support.anp_stack.run_anp) and `tsunagaru idp serve` (below, at info log
level as an operator runs it) each in its own process, stopped by pid; figures are read from /proc
(RSS, open file descriptors) so that they are the process's own, not the test's.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.anp_stack import accounting_request, exchange
from tests.support.idp_process import idp_process
from tsunagaru.demo_state import REALM, USER, DemoState
from tsunagaru.radius import Code


@dataclass(frozen=True)
class Idp:
    radsec: int
    udp: int
    pid: int
    log: Path


@contextlib.contextmanager
def idp_serve(state: DemoState, folder: Path, radsec: int | None = None, **options: object) -> Iterator[Idp]:
    """``tsunagaru idp serve`` on a RadSec port (federation PKI) and a UDP port until the block ends, at info
    level; a restart may keep its RadSec port and gets a log of its own."""
    with idp_process(state, folder, radsec_port=radsec, log_level="info",
                     log_name=f"idp-{time.monotonic_ns()}.log", **options) as run:
        yield Idp(run.radsec_port, run.udp_port, run.pid, run.log)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def tcp_connections(pid: int) -> int:
    """Sockets the process holds (its fds that are sockets): listeners, clients, upstreams."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                count += 1
    return count


def send_accounting(port: int, sessions: Sequence[str], *, first_id: int = 0, timeout: float = 3.0) -> list[int]:
    """One Accounting-Request (Start) per session to the ANP; the reply codes (-1: none)."""
    codes = []
    for n, session in enumerate(sessions):
        reply, _ = exchange(port, accounting_request(f"{USER}@{REALM}", session, (first_id + n) % 256),
                            timeout=timeout)
        codes.append(reply.code if reply is not None else -1)
    return codes


def all_acked(codes: Sequence[int]) -> bool:
    return list(codes) == [Code.ACCOUNTING_RESPONSE] * len(codes)


def wait_until(check: object, timeout: float, step: float = 0.2) -> bool:
    """Poll ``check()`` (bounded by ``timeout``) until it is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(step)
    return bool(check())  # type: ignore[operator]


def upstream_requests(metrics: dict[str, float], port: int) -> float:
    """Requests the ANP sent to the upstream on 127.0.0.1:``port`` (its upstream latency histogram's count)."""
    return sum(v for k, v in metrics.items() if k.startswith("tsunagaru_anp_upstream_latency_seconds_count")
               and f'peer="127.0.0.1:{port}"' in k)


def open_held(port: int, count: int, *, deadline: float) -> tuple[list[socket.socket], int]:
    """Up to ``count`` TCP connections to 127.0.0.1:``port`` that send nothing (held open); (sockets,
    connects that failed or timed out). Stops at ``deadline`` (monotonic): the loop is bounded in time."""
    held: list[socket.socket] = []
    failed = 0
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        try:
            held.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError:
            failed += 1
    return held, failed


def churn(port: int, count: int, *, deadline: float) -> tuple[int, int]:
    """``count`` TCP connections opened and closed at once (a port scan, a health check storm); (done, failed)."""
    done = failed = 0
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            done += 1
        except OSError:
            failed += 1
    return done, failed


def closed_by_peer(socks: Sequence[socket.socket]) -> int:
    """How many of ``socks`` the other side has closed (reset, or a read of 0 octets)."""
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            closed += s.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return closed
