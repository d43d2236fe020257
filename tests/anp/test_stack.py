"""The ANP in the whole stack: RadSec from an access point, and reload on SIGHUP of a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.freeradius import radclient
from tests.support.procs import free_port, need, stop, wait_log
from tsunagaru.anp.wiring import build_ap_context  # noqa: F401  (kept importable for operators' scripts)
from tsunagaru.demo_state import DemoPorts, prepare
from tsunagaru.radius import Code, Packet, default_dictionary, encode
from tsunagaru.radius.hiding import hide_user_password
from tsunagaru.radsec import RadSecClient, client_context
from tsunagaru.stack import start_stack

D = default_dictionary()


def ports() -> DemoPorts:
    udp, tcp = (lambda: free_port(socket.SOCK_DGRAM)), (lambda: free_port(socket.SOCK_STREAM))
    return DemoPorts(auth=udp(), acct=udp(), idp_radsec=tcp(), idp_udp=udp(), anp_radsec=tcp(), anp_metrics=tcp(),
                     idp_metrics=tcp())


@pytest.mark.parametrize("own_ap_certificate", [False, True])
def test_access_point_over_radsec_reaches_the_idp(tmp_path: Path, own_ap_certificate: bool) -> None:
    p = ports()
    state = prepare(tmp_path / "state", datetime.now(UTC), p)
    if own_ap_certificate:  # a serverAuth certificate for the AP side, apart from the federation one
        from tsunagaru.pki import FederationPKI

        FederationPKI.load(state.path("federation")).issue_member(
            "ap-gw.tsunagaru.test", "TSUNAGARU:JP", "idp", now=datetime.now(UTC), out_prefix=state.path("ap-gw"))
        toml = state.path("anp.toml")
        toml.write_text(toml.read_text().replace(
            "[tls]\n", f'[tls]\nap_certificate = "{state.path("ap-gw.pem")}"\nap_key = "{state.path("ap-gw.key")}"\n'))
        assert "ap_certificate" in toml.read_text()

    async def main() -> tuple[int, int]:
        stack = await start_stack(state)
        try:
            # An AP with its certificate under the city's AP CA (not the federation: review 38).
            # The AP checks the name in the certificate the ANP presents: which certificate it is.
            ctx = client_context(certfile=state.path("ap.pem"), keyfile=state.path("ap.key"),
                                 cafile=state.path("federation-roots.pem"), check_hostname=True)
            name = "ap-gw.tsunagaru.test" if own_ap_certificate else "anp.tsunagaru.test"
            client = await RadSecClient.connect("127.0.0.1", p.anp_radsec, ctx, server_name=name, watchdog=None)
            try:
                auth = os.urandom(16)
                attrs = (*encode(D, "User-Name", "alice@idp.tsunagaru.test"),
                         (2, hide_user_password(b"alice-password", b"radsec", auth)))
                accept = await client.request(Packet(Code.ACCESS_REQUEST, 0, auth, attrs), timeout=5)
                acct = Packet(Code.ACCOUNTING_REQUEST, 0, attributes=(
                    *encode(D, "User-Name", "alice@idp.tsunagaru.test"), *encode(D, "Acct-Session-Id", "s1"),
                    *encode(D, "Acct-Status-Type", "Start")))
                response = await client.request(acct, timeout=5)
                return accept.code, response.code
            finally:
                await client.aclose()
        finally:
            await stack.close()

    assert asyncio.run(main()) == (Code.ACCESS_ACCEPT, Code.ACCOUNTING_RESPONSE)


@pytest.mark.interop
def test_sighup_reloads_clients_and_metrics_are_served(tmp_path: Path) -> None:
    need("radclient")
    p = ports()
    state = prepare(tmp_path / "state", datetime.now(UTC), p)
    metrics = p.anp_metrics  # the demo's anp.toml serves metrics on the port DemoPorts names
    config = state.path("anp.toml")
    text = config.read_text()
    config.write_text(text)
    log = tmp_path / "anp.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tsunagaru", "anp", "run", "--config", str(config)],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_log(log, "anp listening", proc=proc)
        pairs = 'User-Name = "bob@nowhere.example", User-Password = "x", Message-Authenticator = 0x00\n'
        first = radclient(f"127.0.0.1:{p.auth}", "auth", "testing123", pairs)
        assert "Access-Reject" in first.stdout and "Reject-Reason=11" in first.stdout
        config.write_text(text.replace('secret = "testing123"', 'secret = "rotated-secret"'))
        os.kill(proc.pid, signal.SIGHUP)
        wait_log(log, "configuration reloaded", proc=proc)
        assert "Access-Reject" not in radclient(f"127.0.0.1:{p.auth}", "auth", "testing123", pairs).stdout
        assert "Reject-Reason=11" in radclient(f"127.0.0.1:{p.auth}", "auth", "rotated-secret", pairs).stdout
        body = urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=5).read().decode()
        assert 'tsunagaru_anp_reject_reasons_total{reason="11"} 2.0' in body
        assert "tsunagaru_anp_certificate_expiry_seconds 1." in body
        config.write_text("not toml [")
        os.kill(proc.pid, signal.SIGHUP)
        wait_log(log, "reload refused, keeping the running configuration: (file): not valid TOML", proc=proc)
        assert proc.poll() is None
        assert "Reject-Reason=11" in radclient(f"127.0.0.1:{p.auth}", "auth", "rotated-secret", pairs).stdout
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        stop(proc)


def test_a_federation_member_is_no_access_point_and_ap_traffic_is_logged(tmp_path: Path) -> None:
    """The AP listener trusts the city's AP CA only (review 9): the ANP's own federation certificate is
    refused; a real AP's requests and the ANP's own rejects get an access line (review 30)."""
    import io
    import logging

    p = ports()
    state = prepare(tmp_path / "state", datetime.now(UTC), p)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    anp_log = logging.getLogger("tsunagaru.anp")
    anp_log.addHandler(handler)
    old_level = anp_log.level
    anp_log.setLevel(logging.INFO)

    async def main() -> tuple[int, bool]:
        stack = await start_stack(state)
        try:
            member = client_context(certfile=state.path("anp.pem"), keyfile=state.path("anp.key"),
                                    cafile=state.path("federation-roots.pem"), check_hostname=False)
            refused = False
            try:
                c = await RadSecClient.connect("127.0.0.1", p.anp_radsec, member, server_name="anp.tsunagaru.test",
                                               watchdog=None, connect_timeout=5)
                try:
                    await c.request(Packet(Code.STATUS_SERVER, 0), timeout=2)
                except Exception:
                    refused = True
                await c.aclose()
            except Exception:
                refused = True
            ap = client_context(certfile=state.path("ap.pem"), keyfile=state.path("ap.key"),
                                cafile=state.path("federation-roots.pem"), check_hostname=False)
            client = await RadSecClient.connect("127.0.0.1", p.anp_radsec, ap, server_name="anp.tsunagaru.test",
                                                watchdog=None)
            try:
                auth = os.urandom(16)
                attrs = (*encode(D, "User-Name", "bob@nowhere.example"),
                         (2, hide_user_password(b"x", b"radsec", auth)))
                reply = await client.request(Packet(Code.ACCESS_REQUEST, 0, auth, attrs), timeout=5)
            finally:
                await client.aclose()
            return reply.code, refused
        finally:
            await stack.close()

    try:
        code, refused = asyncio.run(main())
    finally:
        anp_log.removeHandler(handler)
        anp_log.setLevel(old_level)
    assert refused and code == Code.ACCESS_REJECT
    lines = [line for line in stream.getvalue().splitlines() if '"msg": "access"' in line or '"msg":"access"' in line]
    assert any('"reason": 11' in line or '"reason":11' in line for line in lines), stream.getvalue()[-2000:]
