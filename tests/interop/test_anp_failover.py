"""Failover between two IdPs found by discovery, with the first killed mid-run.

dnsmasq serves one realm with two SRV targets (priority 0 and 10), each one of our IdP processes.
A bounded loop of 60 PAP requests (~6 s) runs through the ANP; 2 s in, a timer thread kills the
priority-0 IdP by pid (SIGKILL, no goodbye on its TLS connection), usually while a request is in
flight. Every request must still get an answer, none may wait more than 5 s (the client's own
timeout), and the rest must be served by the second target.
The figures (max latency, requests per target) are printed for the report.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.discovery.dnsmasq import Dnsmasq, host, naptr, srv
from tests.support.anp_stack import anp_ports, anp_toml, exchange, kill, make_state, pap_request, run_anp, run_idp
from tests.support.procs import free_port
from tsunagaru.demo_state import PASSWORD, REALM, USER
from tsunagaru.radius import Code

pytestmark = pytest.mark.timeout(120)
REQUESTS, KILL_AFTER, PACE = 60, 2.0, 0.05


def per_peer(metrics: dict[str, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for name, value in metrics.items():
        if name.startswith("tsunagaru_anp_upstream_latency_seconds_count"):
            port = int(name.split('peer="127.0.0.1:')[1].split('"')[0])
            out[port] = out.get(port, 0) + value
    return out


def test_failover_when_first_idp_dies(tmp_path: Path) -> None:
    state = make_state(tmp_path / "state")
    first, second = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_STREAM)
    name = f"_radsec._tcp.{REALM}"
    dns = Dnsmasq(tmp_path)
    dns.start([naptr(REALM, name), srv(name, REALM, first, priority=0), srv(name, REALM, second, priority=10),
               host(REALM, "127.0.0.1")])
    ports = anp_ports()
    latencies: list[float] = []
    outcomes: list[int] = []
    try:
        with contextlib.ExitStack() as stack:
            idp1 = stack.enter_context(run_idp(state, tmp_path / "idp1", radsec=first))
            stack.enter_context(run_idp(state, tmp_path / "idp2", radsec=second))
            anp = stack.enter_context(run_anp(tmp_path / "anp", anp_toml(
                state, ports, spool=tmp_path / "spool.sqlite", nameserver=dns.port), ports))
            killer = threading.Timer(KILL_AFTER, kill, (idp1.pid,))
            deadline = time.monotonic() + 60
            killer.start()
            for i in range(REQUESTS):
                if time.monotonic() > deadline:
                    break
                reply, seconds = exchange(anp.auth, pap_request(f"{USER}@{REALM}", PASSWORD, i % 256), timeout=5)
                latencies.append(seconds)
                outcomes.append(reply.code if reply is not None else -1)
                time.sleep(PACE)
            killer.join()
            served = per_peer(anp.metrics())
    finally:
        dns.stop()
    print(f"failover: {len(outcomes)} requests, max latency {max(latencies) * 1000:.0f} ms, "
          f"median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms, served by first={served.get(first, 0):.0f} "
          f"second={served.get(second, 0):.0f}")
    assert len(outcomes) == REQUESTS
    assert outcomes.count(-1) == 0, f"unanswered requests at {[i for i, o in enumerate(outcomes) if o == -1]}"
    assert all(o == Code.ACCESS_ACCEPT for o in outcomes), outcomes
    assert max(latencies) < 5.0
    assert served.get(first, 0) >= 1 and served.get(second, 0) >= 1
    assert served.get(first, 0) + served.get(second, 0) == REQUESTS
