"""IdP health end to end (issue 13, deliver 2): a real ANP (``tsunagaru anp run``) finds our IdP by RFC 7585
discovery (dnsmasq), publishes its RadSec peers with its activity into the store, and the alert job turns
them into ``idp:REALM`` alerts. The IdP is up; killed by pid, the realm goes down and an alert starts;
restarted on the same port, it is up again and the alert ends. Each wait is a bounded poll of the store
(no timed assertion); the times the alerts carry are the job's ``now``."""

from __future__ import annotations

import contextlib
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.discovery.dnsmasq import Dnsmasq, host, naptr, srv
from tests.support.anp_stack import anp_ports, anp_toml, exchange, kill, make_state, pap_request, run_anp, run_idp
from tests.support.procs import free_port
from tsunagaru.demo_state import PASSWORD, REALM, USER
from tsunagaru.ops.health import IdpState, idp_fleet
from tsunagaru.ops.jobs import alerts_job
from tsunagaru.radius import Code
from tsunagaru.store import Store
from tsunagaru.store.ops_tables import AlertRow, IdpPeerRow
from tsunagaru.store.peer_status import latest_peers

pytestmark = [pytest.mark.interop, pytest.mark.timeout(300)]
INTERVAL = 10  # anp.activity_interval: the lowest the parser takes
START = 60.0  # bound on a process start: the shared machine runs at load average 10-40


def poll(store: Store, want: str, bound: float = 90.0) -> tuple[IdpPeerRow, float]:
    """Wait (bounded) until the ANP's row for the realm says ``want``; returns it and the seconds waited."""
    started = time.monotonic()
    seen: list[tuple[str, int]] = []
    while time.monotonic() - started < bound:
        with store.session() as db:
            row = db.scalars(select(IdpPeerRow).where(IdpPeerRow.realm == REALM)).first()
            if row is not None:
                db.expunge(row)
                seen.append((row.state, row.requests))
                if row.state == want:
                    return row, time.monotonic() - started
        time.sleep(1)
    raise AssertionError(f"the ANP's row for {REALM} never said {want!r} within {bound:.0f} s: {seen[-5:]}")


def open_alert(store: Store) -> list[AlertRow]:
    with store.session() as db:
        rows = list(db.scalars(select(AlertRow).where(AlertRow.subject == f"idp:{REALM}")))
        for row in rows:
            db.expunge(row)
    return rows


def test_idp_down_and_back_through_a_real_anp(tmp_path: Path) -> None:
    state = make_state(tmp_path / "state")
    port = free_port(socket.SOCK_STREAM)
    name = f"_radsec._tcp.{REALM}"
    dns = Dnsmasq(tmp_path)
    dns.start([naptr(REALM, name), srv(name, REALM, port), host(REALM, "127.0.0.1")])
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    ports = anp_ports()
    toml = anp_toml(state, ports, spool=tmp_path / "spool.sqlite", nameserver=dns.port).replace(
        "\n[tls]", f'activity_db = "{url}"\nactivity_interval = {INTERVAL}\n'
                   f'activity_key_file = "{tmp_path / "activity.key"}"\nnode = "anp-test"\n\n[tls]', 1)
    try:
        with contextlib.ExitStack() as stack:
            idp = stack.enter_context(run_idp(state, tmp_path / "idp1", radsec=port, start_timeout=START))
            anp = stack.enter_context(run_anp(tmp_path / "anp", toml, ports, start_timeout=START))
            reply, _ = exchange(anp.auth, pap_request(f"{USER}@{REALM}", PASSWORD))
            assert reply is not None and reply.code == Code.ACCESS_ACCEPT
            store = Store.open(url)  # migrated by the ANP already
            stack.callback(store.dispose)
            job = alerts_job(store)

            up, waited_up = poll(store, "up")
            assert (up.node, up.found, up.host, up.port) == ("anp-test", "srv", "127.0.0.1", port)
            assert up.last_reply is not None and up.requests >= 1 and up.timeouts == 0
            t0 = datetime.now(UTC)
            with store.session() as db:
                assert idp_fleet(latest_peers(db), t0)[REALM].state is IdpState.UP
            job(t0)
            assert open_alert(store) == []

            kill(idp.pid)  # SIGKILL: the TLS connection just ends
            down, waited_down = poll(store, "down")
            t1 = datetime.now(UTC)
            with store.session() as db:
                assert idp_fleet(latest_peers(db), t1)[REALM].state is IdpState.DOWN
            assert job(t1).startswith("1 started")
            [alert] = open_alert(store)
            assert (alert.state, alert.started_at, alert.ended_at) == ("down", t1, None)
            assert f"127.0.0.1:{port} down" in alert.detail

            # the same port again
            stack.enter_context(run_idp(state, tmp_path / "idp2", radsec=port, start_timeout=START))
            back, waited_back = poll(store, "up", bound=150)
            t2 = datetime.now(UTC)
            job(t2)
            [alert] = open_alert(store)
            assert (alert.started_at, alert.ended_at) == (t1, t2)
            assert back.state_since is not None and back.state_since > down.updated_at
    finally:
        dns.stop()
    print(f"idp health: up {waited_up:.1f} s after the first request, down {waited_down:.1f} s after the kill, "
          f"up again {waited_back:.1f} s after the restart (activity interval {INTERVAL} s)")
