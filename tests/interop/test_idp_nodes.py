"""Two IdP nodes for one realm behind one ANP: conversations stay on their node; one node killed under load.

The nodes (``tsunagaru idp serve``, ``node_id`` idp-a and idp-b, one shared SQLite store) are reached
by DNS discovery (dnsmasq with two equal-priority SRV records) or by a static route with
``balance = "spread"`` (tests/support/idp_nodes.py). First ``LOGINS`` eapol_test logins (TTLS/PAP and
EAP-TLS alternating, 8 at a time) must all succeed, with both nodes used: each conversation has to
reach the node holding its TLS state, which only the State routing does (a request sent to the other
node is rejected). Then, under the same load plus a stream of accounting records, idp-a is killed
(SIGKILL): the conversations it held are rejected and restart (at most one per client in flight), the
ANP marks it down within 2 s and sends it nothing after that, no reply waits more than 5 s, every
login is made up on idp-b, and every accounting record ends up stored exactly once (counted in the
shared store).

``LOGINS`` is 200 here (``TSUNAGARU_NODE_LOGINS`` changes it); bench/idp_nodes.py runs 1,000 and says
how long they take. The figures are printed for the report.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.idp_nodes import scenario
from tests.support.procs import need

pytestmark = [pytest.mark.interop, pytest.mark.timeout(600)]
LOGINS = int(os.environ.get("TSUNAGARU_NODE_LOGINS", "200"))
KILL_LOGINS, ACCOUNTING, CONCURRENCY = 160, 150, 8


@pytest.mark.parametrize("mode", ["srv", "static"])
def test_two_nodes_then_one_killed_under_load(tmp_path: Path, mode: str) -> None:
    need("eapol_test")
    f = scenario(tmp_path, mode, LOGINS, KILL_LOGINS, ACCOUNTING, concurrency=CONCURRENCY)
    print(f.report())
    assert f.first.succeeded == LOGINS and f.first.restarts == 0 and f.first.key_mismatches == 0
    assert f.on_a + f.on_b == LOGINS and min(f.on_a, f.on_b) >= LOGINS // 5, (f.on_a, f.on_b)
    assert f.marked_down is not None and f.marked_down <= 2.0
    assert f.to_a_after_2s == 0
    assert f.second.succeeded == KILL_LOGINS and f.second.key_mismatches == 0
    assert f.second.restarts <= CONCURRENCY  # only the conversations idp-a held when it died
    assert f.slower_than_5s == 0
    assert f.accounting.acked == ACCOUNTING and f.accounting.unanswered == 0
    assert f.rows == (ACCOUNTING, ACCOUNTING, ACCOUNTING)
