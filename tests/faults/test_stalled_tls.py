"""An upstream IdP whose TCP port accepts and then never speaks TLS (a stalled handshake), behind a
running ANP (`anp run`, request_timeout 1 s).

100 Access-Requests at ~50/s: every one is answered with an Access-Reject within the timeout plus a
margin; the ANP opens few connections to the stalled peer (not one per request), its descriptors and
memory come back to where they were, and 10 Accounting-Requests are acknowledged and kept in the spool
(none lost: they wait for the IdP). The listeners' side (a client that never speaks TLS to the ANP's or
the IdP's RadSec listener) is in test_listener_flood.py. Figures are printed for the report.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.faults.stack import all_acked, open_fds, rss_kib, send_accounting, wait_until
from tests.faults.test_slow_idp import burst
from tests.faults.upstream import silent_tcp
from tests.support.anp_stack import anp_ports, anp_toml, make_state, run_anp
from tsunagaru.demo_state import REALM
from tsunagaru.radius import Code

pytestmark = pytest.mark.timeout(120)
TIMEOUT = 1.0


def test_an_upstream_that_never_speaks_tls_is_bounded(tmp_path: Path) -> None:
    state = make_state(tmp_path / "state")
    ports = anp_ports()
    with silent_tcp() as peer:
        text = anp_toml(state, ports, spool=tmp_path / "spool.sqlite", request_timeout=TIMEOUT,
                        routes=[(REALM, [f"127.0.0.1:{peer.port}/{REALM}"])],
                        client_options="rate = 100000\nburst = 100000")
        with run_anp(tmp_path / "anp", text, ports) as anp:
            fds0, rss0 = open_fds(anp.pid), rss_kib(anp.pid)
            got = burst(anp.auth)
            acked = send_accounting(anp.acct, [f"stalled-{i}" for i in range(10)])
            wait_until(lambda: anp.metrics().get("tsunagaru_anp_accounting_pending", 0) >= 10, 10)
            time.sleep(TIMEOUT + 0.5)
            connections, still_open = len(peer.accepted), peer.open_now()
            fds1, rss1 = open_fds(anp.pid), rss_kib(anp.pid)
            pending = anp.metrics().get("tsunagaru_anp_accounting_pending", -1)
    latencies = sorted(s for _, s in got.values())
    figures = {"answered": len(got), "codes": sorted({c for c, _ in got.values()}),
               "max_ms": round(latencies[-1] * 1000), "median_ms": round(latencies[len(latencies) // 2] * 1000),
               "connections_to_peer": connections, "still_open": still_open, "fds": (fds0, fds1),
               "rss_kib": (rss0, rss1), "spool_pending": pending}
    print("stalled upstream tls:", figures)
    assert len(got) == 100 and all(c == Code.ACCESS_REJECT for c, _ in got.values())
    assert latencies[-1] < TIMEOUT + 0.5
    assert connections <= 20  # a few handshake attempts, not one per request
    assert fds1 - fds0 <= 5 and rss1 - rss0 < 16 * 1024
    assert all_acked(acked) and pending == 10
