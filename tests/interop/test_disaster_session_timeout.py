"""The incident's Session-Timeout policy through a running ``tsunagaru anp run`` to a running ``tsunagaru idp
serve``: the IdP sends Session-Timeout 1800; an AP inside an active incident (its client carries
``disaster_until`` and ``disaster_session_timeout`` as the registry export writes them) gets the longer
policy value, cut at the incident's end; an AP outside gets the IdP's value untouched; the clients file the
export writes for an incident AP is read by the ANP's own loader with both keys."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from tests.support.anp_stack import TSUNAGARU, anp_ports, anp_toml, make_state, pap_request, run_anp
from tests.support.procs import free_port, running, wait_tcp
from tsunagaru.demo_state import NAS_SECRET, REALM, DemoPorts, idp_config
from tsunagaru.radius import Packet, verify_reply

pytestmark = pytest.mark.interop
INSIDE = "127.0.1.91"
IDP_TIMEOUT, POLICY = 1800, 21600
SESSION_TIMEOUT = 27


def _ask(port: int, source: str) -> Packet:
    request = pap_request(f"alice@{REALM}", "alice-password", identifier=int.from_bytes(os.urandom(1), "big"))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(8)
        s.sendto(request.to_bytes(), ("127.0.0.1", port))
        reply = Packet.from_bytes(s.recv(4096))
    verify_reply(reply, request.authenticator, NAS_SECRET.encode(), require_message_authenticator=True)
    return reply


def _timeout(reply: Packet) -> int | None:
    value = reply.get(SESSION_TIMEOUT)
    return int.from_bytes(value, "big") if value else None


def test_session_timeout_inside_and_outside_an_incident(tmp_path: Path) -> None:
    state = make_state(tmp_path / "state")
    radsec, udp = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
    idp_toml = tmp_path / "idp.toml"
    text = idp_config(state, DemoPorts(idp_radsec=radsec, idp_udp=udp, idp_metrics=free_port(socket.SOCK_STREAM)))
    text = text.replace("[idp]\n", f"[idp]\nsession_timeout = {IDP_TIMEOUT}\n", 1)
    idp_toml.write_text(text)
    ports = anp_ports()
    until = int(time.time() + 3 * 3600)
    with running([str(TSUNAGARU), "idp", "serve", "--config", str(idp_toml)], tmp_path / "idp.log") as idp:
        wait_tcp(radsec, timeout=60, proc=idp)
        anp = anp_toml(state, ports, spool=tmp_path / "spool.sqlite", routes=[(REALM, [f"127.0.0.1:{radsec}/{REALM}"])])
        anp = anp.replace('network = "127.0.0.0/8"', 'network = "127.0.0.1/32"')
        anp += (f'\n[[clients]]\nname = "ap-inside"\nnetwork = "{INSIDE}/32"\nsecret = "{NAS_SECRET}"\n'
                f"disaster_until = {until}\ndisaster_session_timeout = {POLICY}\n")
        with run_anp(tmp_path / "anp", anp, ports) as proc:
            outside = _ask(proc.auth, "127.0.0.1")
            inside = _ask(proc.auth, INSIDE)
    assert outside.code == inside.code == 2, (outside, inside)  # Access-Accept both
    assert _timeout(outside) == IDP_TIMEOUT  # the IdP's value, untouched
    got = _timeout(inside)
    assert got is not None and until - time.time() - 60 <= got <= until - time.time() + 5  # cut at the end (3 h)
    assert len(inside.get_all(SESSION_TIMEOUT)) == 1


def test_the_export_writes_the_policy_and_the_anp_reads_it(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from tsunagaru.anp.config import load
    from tsunagaru.sites.anp_export import ClientEntry, render

    end = datetime.now(UTC) + timedelta(hours=2)
    entries = [ClientEntry("ap-1", "10.0.1.0/24", "secret-1-long-enough", "nas-1", "1", in_incident=True,
                           disaster_until=end, session_timeout=POLICY),
               ClientEntry("ap-2", "10.0.2.0/24", "secret-2-long-enough", "nas-2", "2")]
    (tmp_path / "clients.toml").write_text(render(entries))
    (tmp_path / "anp.toml").write_text('[anp]\nwbaid = "TEST:JP"\nclients_files = ["clients.toml"]\n')
    clients = {c.name: c for c in load(tmp_path / "anp.toml").clients}
    assert clients["ap-1"].disaster_session_timeout == POLICY and clients["ap-1"].disaster_until == int(end.timestamp())
    assert clients["ap-2"].disaster_session_timeout is None and clients["ap-2"].disaster_until is None
