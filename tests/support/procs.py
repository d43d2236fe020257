"""Start real peers for tests, wait for them, and stop them by pid (never by name)."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

PORTS_FROM = 20000  # up to the ephemeral range (32768 by default): above the well-known services' ports
_ISSUED: set[int] = set()  # every port free_port() gave out in this process: never given twice
_LOGS: dict[int, Path] = {}  # pid -> the output file of a process started by running()


def _ephemeral_floor() -> int:
    """The lowest port the kernel gives to outgoing connections and to ``bind(0)`` (ip_local_port_range)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        return int(f.read().split()[0])
    return 32768


def _bindable(kind: int, host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``port`` on ``host`` is free right now for a TCP and a UDP listener."""
    return all(_bindable(k, host, port) for k in (socket.SOCK_STREAM, socket.SOCK_DGRAM))


def free_port(kind: int, host: str = "127.0.0.1") -> int:
    """A port on ``host`` free right now for a listener of ``kind`` (``socket.SOCK_STREAM``: TCP,
    ``socket.SOCK_DGRAM``: UDP, which says what the caller means); probed free for both kinds
    (:func:`port_free`), since a port taken for one kind often ends up on a listener of the other.

    Why not the kernel's ``bind(0)`` choice: that port comes from the ephemeral range, and once the probe
    releases it, any outgoing connection on the box (another test's HTTP client, eapol_test, a helper's
    suite) may be given it before our server binds; these ports come from below that range, where the
    kernel never hands out ports by itself. A server that can bind port 0 and report its port needs none.

    A port is never given out twice in one test process, whichever kind it was asked for: a server told
    a port may bind it a while after the probe (an IdP binds its UDP port after its RadSec one), and a
    second probe in that window would find it free and hand it to another server.
    """
    floor = _ephemeral_floor()
    top = floor if floor > PORTS_FROM + 1000 else 65536  # a box whose ephemeral range starts low
    if len(_ISSUED) > (top - PORTS_FROM) // 2:  # a very long run: ports given out long ago are reusable
        _ISSUED.clear()
    for _ in range(200):
        port = random.randrange(PORTS_FROM, top)
        if port not in _ISSUED and port_free(port, host):
            _ISSUED.add(port)
            return port
    raise RuntimeError("no free port")


def _exited(proc: subprocess.Popen[bytes], what: str) -> RuntimeError:
    """The error for a server that exited before it was ready, with the end of its output when known."""
    log = _LOGS.get(proc.pid)
    tail = log.read_text(errors="replace")[-2000:].strip() if log is not None and log.exists() else ""
    return RuntimeError(f"process exited with {proc.returncode} before {what}" + (f"; output: {tail}" if tail else ""))


ALLOW_MISSING = "TSUNAGARU_ALLOW_MISSING_PEERS"


def allow_missing() -> bool:
    """Whether the run opted out of the real peers (``TSUNAGARU_ALLOW_MISSING_PEERS=1``): then tests that
    need a missing peer skip; by default they fail, so a green run means the interop tests ran."""
    return os.environ.get(ALLOW_MISSING) == "1"


def missing(reason: str) -> None:
    """Fail the test for a missing peer or facility, or skip it when the run opted out."""
    if allow_missing():
        pytest.skip(f"{reason} ({ALLOW_MISSING}=1)")
    pytest.fail(f"{reason}: make test installs it (or set {ALLOW_MISSING}=1 to skip such tests)", pytrace=False)


def need(*programs: str) -> None:
    """Fail (not skip) when a peer program is not installed; skip only with TSUNAGARU_ALLOW_MISSING_PEERS=1."""
    for prog in programs:
        if shutil.which(prog) is None and not Path(prog).exists():
            missing(f"{prog} is not installed")


def wait_tcp(
    port: int, host: str = "127.0.0.1", timeout: float = 15.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise _exited(proc, f"listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on {host}:{port} within {timeout}s")


def wait_udp(port: int, timeout: float = 15.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until a UDP socket is bound on ``port`` (read from /proc/net/udp*)."""
    deadline = time.monotonic() + timeout
    needle = f":{port:04X} "
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise _exited(proc, f"binding {port}")
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            with contextlib.suppress(OSError), open(table) as f:
                if any(needle in line.split("\n")[0][:40] for line in f):
                    return
        time.sleep(0.05)
    raise TimeoutError(f"nothing bound UDP port {port} within {timeout}s")


def wait_log(path: Path, text: str, timeout: float = 15.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        if proc is not None and proc.poll() is not None:
            tail = path.read_text(errors="replace")[-2000:] if path.exists() else ""
            raise RuntimeError(f"process exited with {proc.returncode}; log: {tail}")
        time.sleep(0.05)
    raise TimeoutError(f"{text!r} did not appear in {path} within {timeout}s")


def stop(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """TERM the process by pid, then KILL it if it lingers; always reaps it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout)


@contextlib.contextmanager
def running(argv: Sequence[str], log: Path, **kwargs: object) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` with output to ``log`` for the duration of the block, then stop it by pid."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT, **kwargs)  # type: ignore[call-overload]
    _LOGS[proc.pid] = log
    try:
        yield proc
    finally:
        stop(proc)
        _LOGS.pop(proc.pid, None)
