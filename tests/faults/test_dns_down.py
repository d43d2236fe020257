"""The DNS server (a real dnsmasq) goes away under a running ANP (`anp run`) in front of our IdP (`idp serve`).

While it is down, in two ways (stopped: the port answers ICMP unreachable; black-holed: a socket on the
port that never answers), requests for realms the ANP has not seen are rejected within 1 s (the discovery
timeout, not the resolver's default of several seconds); a realm found before the outage is still served,
also after its DNS TTL has passed (the route is served stale, RFC 8767); every Accounting-Request is
acknowledged and reaches the IdP exactly once. When dnsmasq returns, a realm first asked during the
outage is found (a DNS failure is not cached as "no such realm"): the ANP goes on to the IdP it names.
Figures are printed for the report.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.discovery.dnsmasq import Dnsmasq, chain, naptr, srv
from tests.faults.stack import all_acked, idp_serve, send_accounting, wait_until
from tests.support.anp_stack import accounting_rows, anp_ports, anp_toml, exchange, make_state, pap_request, run_anp
from tsunagaru.demo_state import PASSWORD, REALM, USER
from tsunagaru.radius import Code

pytestmark = pytest.mark.timeout(180)
TTL = 2  # seconds: the known realm's route expires during the outage


def _discovered(log: Path, realm: str) -> bool:
    """The ANP found a route for ``realm`` and went on to the IdP (which is no IdP of that realm: its
    certificate names only the demo realm, so the ANP refuses it: that refusal is what shows discovery)."""
    text = log.read_text(errors="replace")
    return f"names realms {REALM}, not {realm}" in text


def _pap(port: int, user: str, ident: int) -> tuple[int, float]:
    reply, seconds = exchange(port, pap_request(user, PASSWORD, ident % 256), timeout=5)
    return (reply.code if reply is not None else -1), seconds


@pytest.mark.parametrize("outage", ["stopped", "black-holed"])
def test_dns_down_unknown_realms_fail_fast_known_ones_are_served(tmp_path: Path, outage: str) -> None:
    state = make_state(tmp_path / "state")
    dns = Dnsmasq(tmp_path)
    late = "late.tsunagaru.test"  # asked while DNS is down, found after it returns (routed to our IdP)
    ports = anp_ports()
    figures: dict[str, object] = {"outage": outage}
    with idp_serve(state, tmp_path / "idp") as idp:
        records = chain(REALM, idp.radsec)
        dns.start(records, ttl=TTL)
        text = anp_toml(state, ports, spool=tmp_path / "spool.sqlite", nameserver=dns.port).replace(
            "[discovery]\n", "[discovery]\nttl_floor = 1\n")
        try:
            with run_anp(tmp_path / "anp", text, ports) as anp:
                assert _pap(anp.auth, f"{USER}@{REALM}", 0)[0] == Code.ACCESS_ACCEPT  # route found and cached
                assert all_acked(send_accounting(anp.acct, [f"before-{i}" for i in range(10)]))
                dns.stop()
                hole = None
                if outage == "black-holed":
                    hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    hole.bind(("127.0.0.1", dns.port))  # takes the queries, never answers
                try:
                    time.sleep(TTL + 0.5)  # the cached route is past its TTL now
                    unknown = [_pap(anp.auth, f"u@nowhere-{i}.test", i) for i in range(10)]
                    unknown.append(_pap(anp.auth, f"{USER}@{late}", 20))
                    known = [_pap(anp.auth, f"{USER}@{REALM}", 30 + i) for i in range(10)]
                    acked = send_accounting(anp.acct, [f"during-{i}" for i in range(20)], first_id=50)
                finally:
                    if hole is not None:
                        hole.close()
                # the late realm's SRV target is the IdP's host, the name its certificate carries
                dns.restart([*records, naptr(late, f"_radsec._tcp.{late}"),
                             srv(f"_radsec._tcp.{late}", REALM, idp.radsec)], ttl=TTL)
                started = time.monotonic()
                recovered = wait_until(lambda: _pap(anp.auth, f"{USER}@{late}", 99)[0] != -1
                                       and _discovered(anp.log, late), 20, step=0.5)
                figures["recovery_s"] = round(time.monotonic() - started, 2)
                after = [_pap(anp.auth, f"{USER}@{REALM}", 60 + i) for i in range(5)]
                assert wait_until(lambda: accounting_rows(state)[0] >= 30, 20)
                time.sleep(0.5)
                rows = accounting_rows(state)
        finally:
            dns.stop()
    figures.update(unknown_max_ms=round(max(s for _, s in unknown) * 1000),
                   unknown_codes=sorted({c for c, _ in unknown}),
                   known_max_ms=round(max(s for _, s in known) * 1000), known_codes=sorted({c for c, _ in known}),
                   accounting_rows=rows)
    print("dns down:", figures)
    assert all(c == Code.ACCESS_REJECT for c, _ in unknown), unknown
    # the discovery timeout (0.8 s) plus the ANP's own work on a loaded box; the figure above is the measure,
    # this bound only tells a fast failure from a resolver's default timeout (5 s and more)
    assert max(s for _, s in unknown) < 2.0
    assert all(c == Code.ACCESS_ACCEPT for c, _ in known), known
    assert all_acked(acked)
    assert recovered
    assert all(c == Code.ACCESS_ACCEPT for c, _ in after)
    assert rows == (30, 30, 30)  # 10 before + 20 during the outage, each exactly once

