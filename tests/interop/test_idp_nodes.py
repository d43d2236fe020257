"""Two IdP nodes for one realm behind one ANP: conversations stay on their node; one node killed under load.

The nodes (``tsunagaru idp serve``, ``node_id`` idp-a and idp-b, one shared SQLite store) are reached
by DNS discovery (dnsmasq with two equal-priority SRV records) or by a static route with
``balance = "spread"``. First ``LOGINS`` eapol_test logins (TTLS/PAP and EAP-TLS alternating, 8 at a
time) must all succeed, with both nodes used: each conversation has to reach the node holding its
TLS state, which only the State routing does (a request sent to the other node is rejected). Then,
under the same load plus a stream of accounting records, idp-a is killed (SIGKILL): the conversations
it held are rejected and restart (at most one per client in flight), the ANP marks it down within 2 s
and sends it nothing after that, no reply waits more than 5 s, every login is made up on idp-b, and
every accounting record ends up stored exactly once (counted in the shared store).

``LOGINS`` is 200 here (``TSUNAGARU_NODE_LOGINS`` to change it); bench/idp_nodes.py runs 1,000, with
its wall time. Figures are printed for the report.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path

import pytest

from tests.support.anp_stack import accounting_rows, anp_ports, kill, make_state, run_anp
from tests.support.idp_nodes import (
    AccountingLoad,
    LoginLoad,
    anp_config,
    cheaper_password,
    peer_up,
    run_node,
    slower_than,
    start_dns,
    upstream_per_port,
)
from tests.support.procs import free_port, need

pytestmark = [pytest.mark.interop, pytest.mark.timeout(600)]
LOGINS = int(os.environ.get("TSUNAGARU_NODE_LOGINS", "200"))
KILL_LOGINS, ACCOUNTING, CONCURRENCY = 160, 150, 8


@pytest.mark.parametrize("mode", ["srv", "static"])
def test_two_nodes_then_one_killed_under_load(tmp_path: Path, mode: str) -> None:
    need("eapol_test")
    state = make_state(tmp_path / "state")
    cheaper_password(state)
    a_port, b_port = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_STREAM)
    dns = start_dns(tmp_path, [a_port, b_port]) if mode == "srv" else None
    ports = anp_ports()
    toml = anp_config(state, ports, tmp_path / "spool.sqlite", nameserver=dns.port if dns else None,
                      pool=() if dns else (a_port, b_port))
    try:
        with contextlib.ExitStack() as stack:
            a = stack.enter_context(run_node(state, tmp_path / "a", "idp-a", a_port))
            b = stack.enter_context(run_node(state, tmp_path / "b", "idp-b", b_port))
            anp = stack.enter_context(run_anp(tmp_path / "anp", toml, ports))

            first = LoginLoad(state, tmp_path / "load-1", anp.auth, LOGINS, concurrency=CONCURRENCY).run()
            on_a, on_b = a.accepted(), b.accepted()
            print(f"idp nodes ({mode}): {first.succeeded}/{LOGINS} logins in {first.seconds:.1f} s "
                  f"({first.ok}), restarts {first.restarts}, idp-a {on_a} idp-b {on_b}")
            assert first.succeeded == LOGINS and first.restarts == 0 and first.key_mismatches == 0
            assert on_a + on_b == LOGINS and min(on_a, on_b) >= LOGINS // 5, (on_a, on_b)

            acct = AccountingLoad(anp.acct, ACCOUNTING, prefix=mode)
            second = LoginLoad(state, tmp_path / "load-2", anp.auth, KILL_LOGINS, concurrency=CONCURRENCY)
            acct.start()
            second.start()
            deadline = time.monotonic() + 60
            while a.accepted() + b.accepted() < LOGINS + KILL_LOGINS // 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            on_a_at_kill = a.accepted()
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
            to_a_end = upstream_per_port(metrics).get(a_port, 0)
            slow = slower_than(metrics)
            rows: tuple[int, int, int] = (0, 0, 0)
            rows_deadline = time.monotonic() + 30
            while rows[1] < ACCOUNTING and time.monotonic() < rows_deadline:
                rows = accounting_rows(state)
                time.sleep(0.2)
            on_b_end = b.accepted()
    finally:
        if dns is not None:
            dns.stop()
    print(f"idp nodes ({mode}) kill: idp-a killed after {on_a_at_kill - on_a} of its logins in phase 2; "
          f"marked down after {marked if marked is None else round(marked, 2)} s; requests to idp-a after 2 s: "
          f"{to_a_end - to_a_at_2s}; {second.succeeded}/{KILL_LOGINS} logins in {second.seconds:.1f} s, "
          f"restarts {second.restarts} ({second.failed}); idp-b ended {on_b_end - on_b} in phase 2; replies "
          f"slower than 5 s: {slow}; accounting acked {acct.acked}/{ACCOUNTING}, rows {rows}")
    assert marked is not None and marked <= 2.0
    assert to_a_end == to_a_at_2s
    assert second.succeeded == KILL_LOGINS and second.key_mismatches == 0
    assert second.restarts <= CONCURRENCY
    assert slow == 0
    assert acct.acked == ACCOUNTING and acct.unanswered == 0
    assert rows == (ACCOUNTING, ACCOUNTING, ACCOUNTING)
