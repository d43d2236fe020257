"""Pre-fork workers: N processes serving the same ports through SO_REUSEPORT, one parent supervising.

Why pre-fork and SO_REUSEPORT rather than one listener handing sockets out: the kernel spreads UDP
datagrams over the sockets of a reuse-port group by a hash of the 4-tuple, so an AP's retransmissions
(same source address and port) reach the worker that saw the first copy, with its duplicate cache and
its EAP state, and each accepted TCP (RadSec) connection stays with the worker that accepted it. No
packet crosses a process boundary, and each worker is today's single-process server unchanged.

Two halves, as everywhere here. :class:`Supervisor` is pure: it is told what happened (a worker
started, became ready, exited with a code, a stop was asked) and the time, and answers what to do
(spawn worker i, stop, give up); restarts back off exponentially and are bounded (``max_restarts`` in
``window`` seconds, then the parent stops everything and exits 1). :func:`run_workers` is the adapter:
``os.fork``, signals (SIGTERM/SIGINT stop every worker, SIGHUP is passed to every worker), ``waitpid``,
readiness over a pipe, and a Prometheus endpoint over prometheus_client's multiprocess files served by
the parent in its own single-threaded loop (no thread in the parent: forking a process that has threads
can copy a held lock into the child).

Workers start one at a time (the next when the previous is ready): N processes opening and migrating
one SQLite file at once would race, and a configuration error is reported once, not N times. A worker
that exits before it was ever ready, on the first start, is a start-up error: the parent stops the
others and returns that worker's exit status (2 for a configuration problem), with no restart loop.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import shutil
import signal
import struct
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tsunagaru import logs

log = logging.getLogger("tsunagaru.workers")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
READY = struct.Struct("!HI")  # worker index, pid: one atomic pipe write
KILL_AFTER = 20.0  # seconds after SIGTERM before a worker that has not exited is killed


# -- the pure part ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """How a worker that died is restarted: after ``base * 2**k`` seconds (at most ``cap``), where k is
    how many times it died in the last ``window`` seconds; more than ``max_restarts`` there: give up."""

    base: float = 0.5
    cap: float = 30.0
    max_restarts: int = 10
    window: float = 300.0

    def delay(self, recent_failures: int) -> float:
        return float(min(self.cap, self.base * 2 ** max(0, min(recent_failures - 1, 16))))


@dataclass(frozen=True, slots=True)
class Spawn:
    index: int


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Stop every worker and exit with ``code``: ``why`` says which worker and what happened."""

    code: int
    why: str


Decision = Spawn | GiveUp


@dataclass(slots=True)
class _Slot:
    index: int
    pid: int | None = None
    ready: bool = False
    ever_ready: bool = False
    restart_at: float | None = None
    failures: deque[float] = field(default_factory=deque)
    code: int | None = None  # the last exit status once stopping


def describe_status(code: int) -> str:
    """An exit status as :func:`run_workers` records it: ``n`` (exit n) or ``-n`` (killed by signal n)."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit status {code}"


class Supervisor:
    """What the parent should do next, for ``count`` workers. No processes, no clock: time is passed in."""

    def __init__(self, count: int, policy: RestartPolicy | None = None) -> None:
        if count < 1:
            raise ValueError("at least one worker")
        self.count = count
        self.policy = policy or RestartPolicy()
        self.slots = [_Slot(i) for i in range(count)]
        self.stopping = False
        self.gave_up: GiveUp | None = None

    # events
    def started(self, index: int, pid: int) -> None:
        slot = self.slots[index]
        slot.pid, slot.ready, slot.restart_at, slot.code = pid, False, None, None

    def ready(self, index: int, pid: int) -> bool:
        """A worker said it is serving; False when that pid is not (or no longer) the slot's worker."""
        slot = self.slots[index] if 0 <= index < self.count else None
        if slot is None or slot.pid != pid:
            return False
        slot.ready = slot.ever_ready = True
        return True

    def exited(self, pid: int, code: int, now: float) -> tuple[int, Decision | None] | None:
        """A child ended: (its index, a decision or None when nothing is to be done); None for an unknown pid."""
        slot = next((s for s in self.slots if s.pid == pid), None)
        if slot is None:
            return None
        was_ready_before = slot.ever_ready
        slot.pid, slot.ready, slot.code = None, False, code
        if self.stopping:
            return slot.index, None
        if not was_ready_before:
            self.gave_up = GiveUp(code if code > 0 else 1,
                                  f"worker {slot.index} did not start ({describe_status(code)})")
            return slot.index, self.gave_up
        while slot.failures and now - slot.failures[0] > self.policy.window:
            slot.failures.popleft()
        slot.failures.append(now)
        if len(slot.failures) > self.policy.max_restarts:
            self.gave_up = GiveUp(1, f"worker {slot.index} died {len(slot.failures)} times in "
                                     f"{self.policy.window:.0f} s ({describe_status(code)})")
            return slot.index, self.gave_up
        slot.restart_at = now + self.policy.delay(len(slot.failures))
        return slot.index, None

    def stop(self) -> None:
        self.stopping = True
        for slot in self.slots:
            slot.restart_at = None

    # questions
    def due(self, now: float) -> list[Spawn]:
        """Workers to fork now: at first one at a time (the next once the one before is ready), then
        those whose restart time has come."""
        if self.stopping:
            return []
        out: list[Spawn] = []
        for slot in self.slots:
            if slot.pid is not None:
                if not slot.ever_ready:
                    break  # still starting: the next waits
                continue
            if not slot.ever_ready:  # the first start, in order
                if slot.code is None:
                    out.append(Spawn(slot.index))
                break
            if slot.restart_at is not None and slot.restart_at <= now:
                out.append(Spawn(slot.index))
        return out

    def next_timer(self, now: float) -> float | None:
        """Seconds until the next restart is due (None: nothing scheduled)."""
        times = [s.restart_at for s in self.slots if s.restart_at is not None and s.pid is None]
        return max(0.0, min(times) - now) if times else None

    @property
    def all_ready(self) -> bool:
        return all(s.ready for s in self.slots)

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self.slots if s.pid is not None]

    def exit_code(self) -> int:
        """Once every worker has exited after a stop: 0 when each exited 0, else the first failure's."""
        if self.gave_up is not None:
            return self.gave_up.code
        bad = [s.code for s in self.slots if s.code not in (0, None)]
        return 0 if not bad else (bad[0] if bad[0] is not None and bad[0] > 0 else 1)


def worker_path(base: Path, index: int | None) -> Path:
    """A worker's own file beside ``base`` (its spool): ``base.wN``; ``base`` itself for a single process."""
    return base if index is None else base.with_name(f"{base.name}.w{index}")


def worker_paths(base: Path) -> dict[int, Path]:
    """The per-worker files of ``base`` that exist now, by index."""
    out: dict[int, Path] = {}
    prefix = f"{base.name}.w"
    if base.parent.is_dir():
        for p in base.parent.iterdir():
            if p.name.startswith(prefix) and p.name[len(prefix):].isdigit():
                out[int(p.name[len(prefix):])] = p
    return out


# -- Prometheus multiprocess mode --------------------------------------------------------------------


def use_multiprocess_metrics(directory: Path) -> Path:
    """Make ``directory`` (0700) prometheus_client's multiprocess directory, emptied, for this process and
    the workers it forks. Must run before any metric is made in the processes that should share it."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    for f in directory.glob("*.db"):
        f.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)
    from prometheus_client import values

    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]  # chosen at import from the environment: choose again
    return directory


class PrefixCollector:
    """The metrics of the multiprocess directory whose names start with ``prefix`` (one endpoint per part
    when ``serve`` runs the ANP and the IdP in the same workers)."""

    def __init__(self, directory: Path, prefix: str) -> None:
        from prometheus_client.multiprocess import MultiProcessCollector

        self.inner = MultiProcessCollector(None, path=str(directory))  # type: ignore[no-untyped-call]
        self.prefix = prefix

    def collect(self) -> Iterator[Any]:
        for metric in self.inner.collect():  # type: ignore[no-untyped-call]
            if metric.name.startswith(self.prefix):
                yield metric


@dataclass(frozen=True, slots=True)
class MetricsEndpoint:
    host: str
    port: int
    prefix: str  # e.g. "tsunagaru_anp_"


class _MetricsServers:
    """The parent's /metrics endpoints: plain HTTP servers polled from the parent's select loop."""

    def __init__(self, directory: Path, endpoints: Sequence[MetricsEndpoint]) -> None:
        from http.server import HTTPServer

        from prometheus_client import CollectorRegistry
        from prometheus_client.exposition import MetricsHandler

        self.servers: list[HTTPServer] = []
        for ep in endpoints:
            registry = CollectorRegistry(auto_describe=True)
            registry.register(PrefixCollector(directory, ep.prefix))
            handler = type("Handler", (MetricsHandler,), {"registry": registry, "timeout": 5.0,
                                                          "log_message": lambda *a: None})
            httpd = HTTPServer((ep.host, ep.port), handler)
            httpd.timeout = 0
            self.servers.append(httpd)

    def fds(self) -> list[int]:
        return [s.fileno() for s in self.servers]

    def serve(self, fd: int) -> None:
        for s in self.servers:
            if s.fileno() == fd:
                s.handle_request()  # one scrape; the handler's socket timeout bounds a slow client

    def close(self) -> None:
        for s in self.servers:
            s.server_close()


# -- the os.fork adapter ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerContext:
    """What a worker knows of itself: its index (0..count-1), the count, and how to say it is serving."""

    index: int
    count: int
    _ready_fd: int

    def ready(self) -> None:
        if self._ready_fd >= 0:
            with contextlib.suppress(OSError):
                os.write(self._ready_fd, READY.pack(self.index, os.getpid()))

    def part(self) -> WorkerContext:
        """The same worker for one part of several in it (``serve --anp --idp``): its ``ready`` says
        nothing, the caller tells once every part is ready."""
        return WorkerContext(self.index, self.count, -1)


_PARENT_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD)


def _fork(index: int, count: int, child: Callable[[WorkerContext], int], ready_w: int,
          close_in_child: Iterable[int]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:  # the child: today's server, with the parent's signal plumbing undone
        signal.set_wakeup_fd(-1)
        for sig in _PARENT_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        for fd in close_in_child:
            with contextlib.suppress(OSError):
                os.close(fd)
        code = int(child(WorkerContext(index, count, ready_w)))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        log.exception("worker %d failed", index)
        code = 70
    finally:
        with contextlib.suppress(Exception):
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _status(raw: int) -> int:
    return -os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)


def run_workers(count: int, child: Callable[[WorkerContext], int], *, name: str = "workers",
                policy: RestartPolicy | None = None, metrics_dir: Path | None = None,
                metrics: Sequence[MetricsEndpoint] = (), kill_after: float = KILL_AFTER) -> int:
    """Fork ``count`` workers running ``child(ctx)`` and supervise them until SIGTERM/SIGINT (then every
    worker gets SIGTERM and drains; the result is 0 when all exited 0) or until the supervisor gives up.
    ``metrics_dir``: the multiprocess directory (set up by :func:`use_multiprocess_metrics` before this
    is called) from which ``metrics`` endpoints are served. Call before any thread or event loop exists."""
    sup = Supervisor(count, policy)
    wake_r, wake_w = os.pipe()
    ready_r, ready_w = os.pipe()
    for fd in (wake_r, wake_w, ready_r):
        os.set_blocking(fd, False)
    servers = _MetricsServers(metrics_dir, metrics) if metrics_dir is not None and metrics else None
    for sig in _PARENT_SIGNALS:
        signal.signal(sig, lambda *_: None)  # the byte on the wakeup fd is what the loop reads
    old_wakeup = signal.set_wakeup_fd(wake_w)
    stop_at: float | None = None
    killed = False
    ready_logged = False
    own = [wake_r, wake_w, ready_r, *(servers.fds() if servers else [])]
    try:
        while True:
            now = time.monotonic()
            for spawn in sup.due(now):
                pid = _fork(spawn.index, count, child, ready_w, own)
                sup.started(spawn.index, pid)
                logs.event(log, "worker started", logging.INFO, part=name, worker=spawn.index, pid=pid)
            if not sup.pids and (sup.stopping or sup.gave_up is not None):
                break
            timeout = 1.0
            pending = sup.next_timer(now)
            if pending is not None:
                timeout = min(timeout, pending)
            readable = _select([wake_r, ready_r, *(servers.fds() if servers else [])], timeout)
            for fd in readable:
                if fd == wake_r:
                    for signum in _drain(wake_r):
                        if signum in (signal.SIGTERM, signal.SIGINT) and not sup.stopping:
                            logs.event(log, "workers stopping", logging.INFO, part=name, workers=len(sup.pids))
                            sup.stop()
                            stop_at = time.monotonic()
                            _send(sup.pids, signal.SIGTERM)
                        elif signum == signal.SIGHUP:
                            _send(sup.pids, signal.SIGHUP)
                            logs.event(log, "reload passed to workers", logging.INFO, part=name,
                                       workers=len(sup.pids))
                elif fd == ready_r:
                    data = _drain(ready_r)
                    for off in range(0, len(data) - READY.size + 1, READY.size):
                        index, pid = READY.unpack_from(data, off)
                        sup.ready(index, pid)
                    if sup.all_ready and not ready_logged:
                        ready_logged = True
                        logs.event(log, "workers ready", logging.INFO, part=name, workers=count,
                                   pids=",".join(str(p) for p in sup.pids))
                elif servers is not None:
                    servers.serve(fd)
            _reap(sup, name, metrics_dir)
            if sup.gave_up is not None and not sup.stopping:
                logs.event(log, "workers given up", logging.ERROR, part=name, why=sup.gave_up.why)
                sup.stop()
                stop_at = time.monotonic()
                _send(sup.pids, signal.SIGTERM)
            if stop_at is not None and not killed and time.monotonic() - stop_at > kill_after and sup.pids:
                killed = True
                logs.event(log, "workers killed", logging.ERROR, part=name, after_s=kill_after,
                           pids=",".join(str(p) for p in sup.pids))
                _send(sup.pids, signal.SIGKILL)
    finally:
        signal.set_wakeup_fd(old_wakeup)
        for sig in _PARENT_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        for fd in (wake_r, wake_w, ready_r, ready_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        if servers is not None:
            servers.close()
    code = sup.exit_code()
    logs.event(log, "workers stopped", logging.INFO, part=name, code=code)
    return code


def _reap(sup: Supervisor, name: str, metrics_dir: Path | None) -> None:
    while True:
        try:
            pid, raw = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = _status(raw)
        if metrics_dir is not None:
            from prometheus_client import multiprocess

            with contextlib.suppress(OSError):
                multiprocess.mark_process_dead(pid, str(metrics_dir))  # type: ignore[no-untyped-call]
        result = sup.exited(pid, code, time.monotonic())
        if result is None:
            continue
        index, _decision = result
        if sup.stopping and sup.gave_up is None:
            level = logging.INFO if code == 0 else logging.WARNING
            logs.event(log, "worker exited", level, part=name, worker=index, pid=pid, status=describe_status(code))
        else:
            slot = sup.slots[index]
            logs.event(log, "worker died", logging.ERROR, part=name, worker=index, pid=pid,
                       status=describe_status(code),
                       restart_in=None if slot.restart_at is None else round(slot.restart_at - time.monotonic(), 2))


def _send(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _select(fds: list[int], timeout: float) -> list[int]:
    try:
        readable, _, _ = select.select(fds, [], [], timeout)
    except InterruptedError:
        return []
    except OSError as exc:
        if exc.errno == errno.EINTR:
            return []
        raise
    return readable


def _drain(fd: int) -> bytes:
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except (BlockingIOError, InterruptedError):
            return out
        if not chunk:
            return out
        out += chunk


def remove_tree(directory: Path) -> None:
    """Remove a multiprocess directory after a clean stop (tests; the parent empties it at each start)."""
    shutil.rmtree(directory, ignore_errors=True)
