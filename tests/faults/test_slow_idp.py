"""A slow identity provider behind a running ANP (`anp run`, request_timeout 1 s): one that answers after
1.5 s (longer than the timeout) and one after 0.7 s (slightly shorter).

100 Access-Requests at ~50/s from one AP socket: every one is answered, and no reply comes later than
the configured timeout plus a margin (too slow: Access-Reject, Reject-Reason 22; slightly shorter:
Access-Accept). No pile-up: the ANP forwards each request once (no retransmission storm towards a slow
peer), and its open descriptors and memory come back to where they were. 20 Accounting-Requests are
acknowledged to the AP at once (the durable spool) and every one reaches the IdP (none lost; the slow
peer's late answers leave them pending in the spool, retried, never dropped). Figures are printed.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from tests.faults.stack import all_acked, open_fds, rss_kib, send_accounting, wait_until
from tests.faults.upstream import slow_idp
from tests.support.anp_stack import anp_ports, anp_toml, make_state, pap_request, run_anp
from tsunagaru.demo_state import PASSWORD, REALM, USER
from tsunagaru.radius import Code, Packet

pytestmark = pytest.mark.timeout(120)
TIMEOUT, REQUESTS, PACE = 1.0, 100, 0.02


def burst(port: int) -> dict[int, tuple[int, float]]:
    """REQUESTS Access-Requests (distinct identifiers) paced at 1/PACE per second; identifier ->
    (reply code, seconds from its own send)."""
    sent: dict[int, float] = {}
    got: dict[int, tuple[int, float]] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.2)

        def read() -> None:
            end = time.monotonic() + REQUESTS * PACE + TIMEOUT + 5
            while len(got) < REQUESTS and time.monotonic() < end:
                try:
                    reply = Packet.from_bytes(s.recv(4096))
                except TimeoutError:
                    continue
                got.setdefault(reply.identifier, (reply.code, time.monotonic() - sent[reply.identifier]))

        reader = threading.Thread(target=read)
        reader.start()
        for i in range(REQUESTS):
            sent[i] = time.monotonic()
            s.sendto(pap_request(f"{USER}@{REALM}", PASSWORD, i).to_bytes(), ("127.0.0.1", port))
            time.sleep(PACE)
        reader.join()
    return got


@pytest.mark.parametrize(("delay", "expected"), [(1.5, Code.ACCESS_REJECT), (0.7, Code.ACCESS_ACCEPT)])
def test_a_slow_idp_is_bounded_by_the_timeout(tmp_path: Path, delay: float, expected: int) -> None:
    state = make_state(tmp_path / "state")
    ports = anp_ports()
    with slow_idp(state.root, delay) as idp:
        text = anp_toml(state, ports, spool=tmp_path / "spool.sqlite", request_timeout=TIMEOUT,
                        routes=[(REALM, [f"127.0.0.1:{idp.port}/{REALM}"])],
                        client_options="rate = 100000\nburst = 100000")
        with run_anp(tmp_path / "anp", text, ports) as anp:
            first = burst(anp.auth)  # warms the connection up; the figures are the second burst's
            fds0, rss0 = open_fds(anp.pid), rss_kib(anp.pid)
            seen0 = idp.requests
            got = burst(anp.auth)
            forwarded = idp.requests - seen0
            acked = send_accounting(anp.acct, [f"slow-{i}" for i in range(20)])
            delivered = wait_until(lambda: len(idp.sessions) >= 20, 20)
            time.sleep(delay + 0.5)  # the late answers have come back
            fds1, rss1 = open_fds(anp.pid), rss_kib(anp.pid)
            pending = anp.metrics().get("tsunagaru_anp_accounting_pending", -1)
    latencies = sorted(s for _, s in got.values())
    figures = {"delay": delay, "answered": len(got), "codes": sorted({c for c, _ in got.values()}),
               "max_ms": round(latencies[-1] * 1000), "median_ms": round(latencies[len(latencies) // 2] * 1000),
               "forwarded": forwarded, "peer_peak_in_flight": idp.peak_in_flight, "fds": (fds0, fds1),
               "rss_kib": (rss0, rss1), "accounting_sessions_at_idp": len(idp.sessions), "spool_pending": pending}
    print("slow idp:", figures)
    assert len(first) == REQUESTS
    assert len(got) == REQUESTS and all(c == expected for c, _ in got.values()), got
    assert latencies[-1] < TIMEOUT + 0.5
    assert forwarded <= REQUESTS  # each request once: no retransmissions piling onto the slow peer
    assert idp.peak_in_flight <= REQUESTS * 2  # the first burst's late ones may overlap the second
    assert fds1 - fds0 <= 5 and rss1 - rss0 < 16 * 1024
    assert all_acked(acked) and delivered and len(idp.sessions) == 20
