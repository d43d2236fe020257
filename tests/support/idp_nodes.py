"""Two (or more) IdP nodes for one realm behind one ANP, and a bounded eapol_test login load through it.

Each node is ``tsunagaru idp serve`` with its own ``[idp] node_id``, RadSec port and metrics port; all
nodes share one store (the demo state's SQLite file), as nodes of one realm share one database. The
ANP reaches them by DNS discovery (dnsmasq, two equal-priority SRV records) or by a static route with
``balance = "spread"``. :class:`LoginLoad` runs ``eapol_test -r`` processes from a few threads (bounded
concurrency, count and time) and counts each conversation's result from eapol_test's own output;
:class:`AccountingLoad` sends distinct accounting records through the ANP at a steady pace.
:func:`scenario` runs the whole story (logins on two nodes, then one node killed under load) and returns
its figures; tests/interop/test_idp_nodes.py asserts on them with a smaller count, bench/idp_nodes.py
prints them for 1,000 logins.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.discovery.dnsmasq import Dnsmasq, host, naptr, srv
from tests.support.anp_stack import (
    AnpPorts,
    AnpProcess,
    accounting_request,
    accounting_rows,
    anp_ports,
    anp_toml,
    exchange,
    kill,
    make_state,
    run_anp,
    scrape,
)
from tests.support.idp_process import TLS12, idp_process, tls_block, tunnel_block
from tests.support.procs import free_port
from tsunagaru.demo_state import NAS_SECRET, PASSWORD, REALM, USER, DemoState
from tsunagaru.idp import users
from tsunagaru.idp.passwords import ScryptParams
from tsunagaru.radius import Code
from tsunagaru.store import Store

BLOCKS = ("ttls-pap", "tls")
CHEAP_SCRYPT_N = 1024  # alice's PAP hash in the suite: the login path, not scrypt, is under test


def cheaper_password(state: DemoState, n: int = CHEAP_SCRYPT_N) -> None:
    """Re-hash alice's password with scrypt cost ``n`` (the demo's default costs tens of ms per check)."""
    store = Store.open(state.db_url)
    try:
        with store.session() as s:
            users.set_password(s, f"{USER}@{REALM}", PASSWORD, now=datetime.now(UTC), params=ScryptParams(n=n))
    finally:
        store.dispose()


@dataclass(frozen=True)
class Node:
    node_id: str
    radsec: int
    metrics: int
    pid: int
    log: Path

    def logins(self) -> dict[str, int]:
        """Conversations this node ended, by "method/outcome" (from its /metrics)."""
        out: dict[str, int] = {}
        for name, value in scrape(self.metrics).items():
            if name.startswith("tsunagaru_idp_outcomes_total{"):
                labels = dict(re.findall(r'(\w+)="([^"]*)"', name))
                key = f"{labels['method']}/{labels['outcome']}"
                out[key] = out.get(key, 0) + int(value)
        return out

    def accepted(self) -> int:
        return sum(v for k, v in self.logins().items() if k.endswith("/accept"))


@contextlib.contextmanager
def run_node(state: DemoState, folder: Path, node_id: str, radsec: int | None = None) -> Iterator[Node]:
    """One IdP node (``tsunagaru idp serve``, RadSec + metrics, ``node_id``) for the block, stopped by pid;
    a log per start (a node started again on its folder does not overwrite the last one's)."""
    metrics = free_port(socket.SOCK_STREAM)
    log_name = f"idp-{node_id}-{time.monotonic_ns()}.log"
    with idp_process(state, folder, radsec_port=radsec, log_level="info", log_name=log_name, metrics_port=metrics,
                     node_id=node_id) as idp:
        yield Node(node_id, idp.radsec_port, metrics, idp.pid, idp.log)


def srv_records(ports: Sequence[int]) -> list[str]:
    """NAPTR -> one SRV name with one equal-priority, equal-weight record per node -> A 127.0.0.1."""
    name = f"_radsec._tcp.{REALM}"
    return [naptr(REALM, name), *(srv(name, REALM, p, priority=0, weight=10) for p in ports), host(REALM, "127.0.0.1")]


def start_dns(folder: Path, ports: Sequence[int]) -> Dnsmasq:
    dns = Dnsmasq(folder)
    dns.start(srv_records(ports))
    return dns


def anp_config(state: DemoState, ports: AnpPorts, spool: Path, *, nameserver: int | None = None,
               pool: Sequence[int] = ()) -> str:
    """The ANP over discovery (``nameserver``) or over a static ``balance = "spread"`` route to ``pool``."""
    routes = [(REALM, [f"127.0.0.1:{p}/{REALM}" for p in pool])] if pool else []
    # The one loopback client stands for many access points: its rate limit (200/s by default) is not tested here
    text = anp_toml(state, ports, spool=spool, routes=routes, nameserver=nameserver,
                    client_options="rate = 100000\nburst = 100000")
    return text + 'balance = "spread"\n' if pool else text  # the route is the file's last table


# -- logins -----------------------------------------------------------------------------------------------


def network_block(state: DemoState, method: str) -> str:
    return tls_block(state, TLS12) if method == "tls" else tunnel_block(state, method)


@dataclass
class LoginLoad:
    """``total`` logins through the ANP on 127.0.0.1:``port`` from ``concurrency`` threads, each running
    ``eapol_test -r`` processes of up to ``per_process`` logins, alternating TTLS/PAP and EAP-TLS.

    A conversation that is refused (its node was killed under it) is made up by another login, as a device
    restarts from EAP-Start: ``ok`` must reach ``total``; ``failed`` counts the Access-Rejects (restarts).
    eapol_test ends at the first reject, so the logins it did not start are run by the next process.
    Bounded by ``deadline`` seconds and ``max_rounds`` processes per thread."""

    state: DemoState
    folder: Path
    port: int
    total: int
    concurrency: int = 8
    per_process: int = 25
    deadline: float = 120.0
    max_rounds: int = 200
    ok: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BLOCKS, 0))
    failed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BLOCKS, 0))
    key_mismatches: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._started = time.monotonic()
        share, extra = divmod(self.total, self.concurrency)
        for i in range(self.concurrency):
            quota = share + (1 if i < extra else 0)
            t = threading.Thread(target=self._worker, args=(i, quota), daemon=True)
            self._threads.append(t)
            t.start()

    def join(self) -> None:
        for t in self._threads:
            t.join(self.deadline + 30)
        self.seconds = time.monotonic() - self._started

    def run(self) -> LoginLoad:
        self.start()
        self.join()
        return self

    @property
    def succeeded(self) -> int:
        return sum(self.ok.values())

    @property
    def restarts(self) -> int:
        return sum(self.failed.values())

    def _worker(self, index: int, quota: int) -> None:
        done, rounds = 0, 0
        while done < quota and rounds < self.max_rounds and time.monotonic() - self._started < self.deadline:
            method = BLOCKS[(index + rounds) % len(BLOCKS)]
            count = min(self.per_process, quota - done)
            ok, failed, mismatched = self._eapol(index, rounds, method, count)
            done += ok
            rounds += 1
            with self._lock:
                self.ok[method] += ok
                self.failed[method] += failed
                self.key_mismatches += mismatched

    def _eapol(self, index: int, rounds: int, method: str, count: int) -> tuple[int, int, int]:
        conf = self.folder / f"w{index}-{method}.conf"
        if not conf.exists():
            conf.write_text("network={\n" + network_block(self.state, method) + "\n}\n")
        budget = max(10, int(count * 2.5))
        argv = ["eapol_test", "-c", str(conf), "-a", "127.0.0.1", "-p", str(self.port), "-s", NAS_SECRET,
                "-r", str(count - 1), "-t", str(budget)]
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=budget + 10, check=False).stdout
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        ok = len(re.findall(r"eapol_sm_cb: result=1", out))
        rejected = out.count("(Access-Reject)")  # one per conversation refused (eapol_test stops at the first)
        keys = re.search(r"MPPE keys OK: (\d+)  mismatch: (\d+)", out)
        # eapol_test counts a refused conversation (no keys) as a mismatch, twice: checked where none was refused
        mismatched = int(keys[2]) if keys and not rejected else 0
        if ok < count:
            (self.folder / f"w{index}-r{rounds}-{method}.log").write_text(out)
        return ok, rejected, mismatched


# -- accounting -------------------------------------------------------------------------------------------


@dataclass
class AccountingLoad:
    """Distinct Accounting-Requests (one session each) to the ANP at ``pace`` seconds apart, in a thread."""

    port: int
    count: int
    pace: float = 0.02
    prefix: str = "nodes"
    acked: int = 0
    unanswered: int = 0
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._send, daemon=True)
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(self.count * (self.pace + 5) + 10)

    def _send(self) -> None:
        for i in range(self.count):
            request = accounting_request(f"{USER}@{REALM}", f"{self.prefix}-{i:05d}", i % 256)
            for _ in range(3):  # an AP retransmits an unanswered record (the same one: stored once)
                reply, _ = exchange(self.port, request, timeout=2)
                if reply is not None and reply.code == Code.ACCOUNTING_RESPONSE:
                    self.acked += 1
                    break
            else:
                self.unanswered += 1
            time.sleep(self.pace)


# -- what the ANP saw --------------------------------------------------------------------------------------


def upstream_per_port(metrics: dict[str, float]) -> dict[int, int]:
    """Requests the ANP delivered to each IdP port (upstream round trips, from its /metrics)."""
    out: dict[int, int] = {}
    for name, value in metrics.items():
        if name.startswith("tsunagaru_anp_upstream_latency_seconds_count"):
            port = int(name.split('peer="127.0.0.1:')[1].split('"')[0])
            out[port] = out.get(port, 0) + int(value)
    return out


def slower_than(metrics: dict[str, float], bound: str = "5.0") -> int:
    """Replies the ANP sent to clients more than ``bound`` seconds after the request (histogram buckets)."""
    total = within = 0
    for name, value in metrics.items():
        if name.startswith("tsunagaru_anp_client_latency_seconds_count"):
            total += int(value)
        elif name.startswith("tsunagaru_anp_client_latency_seconds_bucket") and f'le="{bound}"' in name:
            within += int(value)
    return total - within


def peer_up(metrics: dict[str, float], port: int) -> float | None:
    for name, value in metrics.items():
        if name.startswith("tsunagaru_anp_peer_up") and f'127.0.0.1:{port}"' in name:
            return value
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc/PID/stat, clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the whole story --------------------------------------------------------------------------------------


@dataclass
class Figures:
    """What one :func:`scenario` run measured (phase 1: both nodes up; phase 2: idp-a killed under load)."""

    mode: str
    first: LoginLoad
    on_a: int  # logins idp-a ended in phase 1 (its /metrics)
    on_b: int
    cpu: dict[str, float]  # CPU seconds in phase 1: anp, idp-a, idp-b
    second: LoginLoad
    marked_down: float | None  # seconds from the kill to the ANP's peer_up 0 for idp-a
    to_a_after_2s: int  # requests the ANP delivered to idp-a more than 2 s after the kill
    slower_than_5s: int  # replies the ANP sent more than 5 s after their request (both phases)
    accounting: AccountingLoad
    rows: tuple[int, int, int]  # (rows, distinct record keys, distinct sessions) in the shared store
    anp_dropped: dict[str, int] = field(default_factory=dict)  # the ANP's drop and internal-error counters

    def cpu_per_login(self) -> list[tuple[str, float, int]]:
        """(process, CPU seconds, logins it served) in phase 1: the ANP serves all, each node its own."""
        served = {"anp": self.first.total, "idp-a": self.on_a, "idp-b": self.on_b}
        return [(k, v, served[k]) for k, v in self.cpu.items()]

    def report(self) -> str:
        per_login = ", ".join(f"{k} {v / max(1, n) * 1000:.1f} ms" for k, v, n in self.cpu_per_login())
        return (f"idp nodes ({self.mode}): {self.first.succeeded}/{self.first.total} logins in "
                f"{self.first.seconds:.1f} s "
                f"({self.first.ok}), restarts {self.first.restarts}, idp-a {self.on_a} idp-b {self.on_b}; "
                f"CPU per login: {per_login}\n"
                f"idp nodes ({self.mode}) kill: marked down after "
                f"{'never' if self.marked_down is None else f'{self.marked_down:.2f} s'}; requests to idp-a after "
                f"2 s: {self.to_a_after_2s}; {self.second.succeeded}/{self.second.total} logins in "
                f"{self.second.seconds:.1f} s, restarts {self.second.restarts} ({self.second.failed}); replies "
                f"slower than 5 s: {self.slower_than_5s}; accounting acked {self.accounting.acked}/"
                f"{self.accounting.count}, stored {self.rows}; ANP drops/errors {self.anp_dropped}")


def scenario(folder: Path, mode: str, logins: int, kill_logins: int, accounting: int, *,
             concurrency: int = 8) -> Figures:
    """Two nodes (``mode`` "srv": dnsmasq with two equal SRV records; "static": a spread pool) behind one
    ANP; ``logins`` logins, then ``kill_logins`` more with ``accounting`` records while idp-a is killed."""
    state = make_state(folder / "state")
    cheaper_password(state)
    a_port, b_port = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_STREAM)
    dns = start_dns(folder, [a_port, b_port]) if mode == "srv" else None
    ports = anp_ports()
    toml = anp_config(state, ports, folder / "spool.sqlite", nameserver=dns.port if dns else None,
                      pool=() if dns else (a_port, b_port))
    try:
        with contextlib.ExitStack() as stack:
            a = stack.enter_context(run_node(state, folder / "a", "idp-a", a_port))
            b = stack.enter_context(run_node(state, folder / "b", "idp-b", b_port))
            anp = stack.enter_context(run_anp(folder / "anp", toml, ports))
            pids = {"anp": anp.pid, "idp-a": a.pid, "idp-b": b.pid}
            before = {k: cpu_seconds(p) for k, p in pids.items()}
            first = LoginLoad(state, folder / "load-1", anp.auth, logins, concurrency=concurrency).run()
            cpu = {k: cpu_seconds(p) - before[k] for k, p in pids.items()}
            on_a, on_b = a.accepted(), b.accepted()
            return _kill_phase(folder, mode, state, anp, a, b, a_port, first, on_a, on_b, cpu, kill_logins,
                               accounting, concurrency)
    finally:
        if dns is not None:
            dns.stop()


def _kill_phase(folder: Path, mode: str, state: DemoState, anp: AnpProcess, a: Node, b: Node, a_port: int,
                first: LoginLoad, on_a: int, on_b: int, cpu: dict[str, float], kill_logins: int, accounting: int,
                concurrency: int) -> Figures:
    acct = AccountingLoad(anp.acct, accounting, prefix=mode)
    second = LoginLoad(state, folder / "load-2", anp.auth, kill_logins, concurrency=concurrency)
    acct.start()
    second.start()
    deadline = time.monotonic() + 60
    while a.accepted() + b.accepted() < first.total + kill_logins // 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    kill(a.pid)
    killed = time.monotonic()
    marked = None
    while time.monotonic() - killed < 5:
        if peer_up(anp.metrics(), a_port) == 0:
            marked = time.monotonic() - killed
            break
        time.sleep(0.05)
    time.sleep(max(0.0, killed + 2.0 - time.monotonic()))
    to_a_at_2s = upstream_per_port(anp.metrics()).get(a_port, 0)
    second.join()
    acct.join()
    metrics = anp.metrics()
    rows = (0, 0, 0)
    rows_deadline = time.monotonic() + 30
    while rows[1] < accounting and time.monotonic() < rows_deadline:
        rows = accounting_rows(state)
        time.sleep(0.2)
    dropped = {k.split("{", 1)[1].rstrip("}"): int(v) for k, v in metrics.items()
               if k.startswith(("tsunagaru_anp_dropped_total{", "tsunagaru_anp_internal_errors_total{"))}
    return Figures(mode, first, on_a, on_b, cpu, second, marked,
                   upstream_per_port(metrics).get(a_port, 0) - to_a_at_2s, slower_than(metrics), acct, rows,
                   dropped)
