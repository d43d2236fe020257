"""Accounting exactly once through the ANP's durable spool, across an IdP outage and an ANP restart.

The IdP (our IdP process, storing each event once by its record key) is stopped; 50 Accounting-
Requests for distinct sessions go to the ANP, which must acknowledge every one (they are on disk).
Retransmissions (same record, new RADIUS id, larger Acct-Delay-Time) are acknowledged too. Then the
ANP is stopped, the IdP and the ANP start again (same spool, same IdP port), and the IdP's
idp_accounting table must end with exactly 50 rows, one per session, with no duplicates; more
retransmissions afterwards change nothing.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.support.anp_stack import (
    AnpPorts,
    accounting_request,
    accounting_rows,
    anp_toml,
    exchange,
    make_state,
    pap_request,
    run_anp,
    run_idp,
)
from tests.support.procs import free_port
from tsunagaru.demo_state import PASSWORD, REALM, USER
from tsunagaru.radius import Code

pytestmark = pytest.mark.timeout(120)
N = 50


def send_all(port: int, sessions: range, *, first_id: int, delay: int) -> list[int]:
    codes = []
    for n, i in enumerate(sessions):
        reply, _ = exchange(port, accounting_request(f"{USER}@{REALM}", f"sess-{i:04d}", (first_id + n) % 256,
                                                     delay=delay), timeout=3)
        codes.append(reply.code if reply is not None else -1)
    return codes


def test_accounting_survives_outage_and_restart_exactly_once(tmp_path: Path) -> None:
    state = make_state(tmp_path / "state")
    idp_port = free_port(socket.SOCK_STREAM)
    ports = AnpPorts(free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM))
    toml = anp_toml(state, ports, spool=tmp_path / "spool.sqlite",
                    routes=[(REALM, [f"127.0.0.1:{idp_port}/{REALM}"])])
    with run_idp(state, tmp_path / "idp", radsec=idp_port), run_anp(tmp_path / "anp", toml, ports) as anp:
        reply, _ = exchange(anp.auth, pap_request(f"{USER}@{REALM}", PASSWORD))
        assert reply is not None and reply.code == Code.ACCESS_ACCEPT  # the path works before the outage
    assert accounting_rows(state)[0] == 0
    with run_idp(state, tmp_path / "idp-b", radsec=idp_port):
        pass  # an IdP was there and has gone: below, the ANP meets a refused connection
    with run_anp(tmp_path / "anp", toml, ports) as anp:
        acked = send_all(anp.acct, range(N), first_id=0, delay=0)
        retrans = send_all(anp.acct, range(0, N, 5), first_id=100, delay=3)
        assert acked == [Code.ACCOUNTING_RESPONSE] * N
        assert retrans == [Code.ACCOUNTING_RESPONSE] * len(retrans)
    assert accounting_rows(state)[0] == 0  # nothing reached the IdP while it was down
    with run_idp(state, tmp_path / "idp-c", radsec=idp_port), run_anp(tmp_path / "anp", toml, ports) as anp:
        deadline = time.monotonic() + 30
        while accounting_rows(state)[0] < N and time.monotonic() < deadline:
            time.sleep(0.2)
        arrived = time.monotonic()
        retrans = send_all(anp.acct, range(0, N, 7), first_id=200, delay=9)
        assert retrans == [Code.ACCOUNTING_RESPONSE] * len(retrans)
        pending = -1.0
        for _ in range(100):  # poll the gauge (bounded) instead of sleeping for an ordering (review 39)
            pending = anp.metrics().get("tsunagaru_anp_accounting_pending", -1)
            if pending == 0:
                break
            time.sleep(0.1)
    total, keys, sessions = accounting_rows(state)
    print(f"accounting: {total} rows, {keys} distinct keys, {sessions} sessions "
          f"(sent {N} + {len(range(0, N, 5)) + len(range(0, N, 7))} retransmissions), spool pending {pending}, "
          f"delivered {arrived - deadline + 30:.1f} s after restart")
    assert (total, keys, sessions) == (N, N, N)
    assert pending == 0


def test_a_full_spool_is_not_acknowledged(tmp_path: Path) -> None:
    """``spool_max_pending = 3`` and an IdP that is gone: three records acknowledged (on disk), the fourth
    not (the AP keeps it and retransmits), counted as spool_full; a retransmission of a stored one is
    still acknowledged."""
    state = make_state(tmp_path / "state")
    ports = AnpPorts(free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM))
    toml = anp_toml(state, ports, spool=tmp_path / "spool.sqlite",
                    routes=[(REALM, [f"127.0.0.1:{free_port(socket.SOCK_STREAM)}/{REALM}"])])  # nobody there
    toml = toml.replace("[anp]\n", "[anp]\nspool_max_pending = 3\n", 1)
    with run_anp(tmp_path / "anp", toml, ports) as anp:
        assert send_all(anp.acct, range(3), first_id=0, delay=0) == [Code.ACCOUNTING_RESPONSE] * 3
        assert send_all(anp.acct, range(3, 4), first_id=10, delay=0) == [-1]
        assert send_all(anp.acct, range(1, 2), first_id=20, delay=4) == [Code.ACCOUNTING_RESPONSE]
        metrics = anp.metrics()
    assert metrics.get('tsunagaru_anp_dropped_total{why="spool_full"}') == 1.0, \
        {k: v for k, v in metrics.items() if "dropped" in k}
