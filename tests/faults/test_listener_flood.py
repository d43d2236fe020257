"""A connection flood at each RadSec listener: the ANP's (from access points) and the IdP's (from ANPs),
both real processes (`anp run` routing to `idp serve`).

Two phases against the listener: 2,000 TCP connections opened and held without a byte of TLS (each a
stalled handshake), then 2,000 opened and closed at once. Throughout, a good peer (an AP with its
certificate under the city's AP CA, or a federation member towards the IdP) opens a fresh RadSec
connection every 0.3 s and sends an Access-Request: it must be served. Bounded: the listener holds at
most MAX_HANDSHAKES pending handshakes (the oldest is dropped for a new connection; the rest go at the
handshake timeout), its descriptors and memory stay within that and come back, and 20
Accounting-Requests sent through the ANP during the flood reach the IdP exactly once. Figures printed.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.stack import (
    all_acked,
    churn,
    closed_by_peer,
    idp_serve,
    open_fds,
    open_held,
    rss_kib,
    send_accounting,
    wait_until,
)
from tests.support.anp_stack import accounting_rows, anp_ports, anp_toml, make_state, run_anp
from tests.support.procs import free_port
from tsunagaru.demo_state import PASSWORD, REALM, USER, DemoState
from tsunagaru.radius import Code, Packet
from tsunagaru.radius.hiding import hide_user_password
from tsunagaru.radsec import RadSecClient, client_context
from tsunagaru.radsec.server import HANDSHAKE_TIMEOUT, MAX_HANDSHAKES

pytestmark = pytest.mark.timeout(240)
FLOOD = 2000


def probe(state: DemoState, port: int, listener: str) -> tuple[int, float]:
    """One good peer's fresh connection and Access-Request: (reply code or -1, seconds)."""
    cert = "ap" if listener == "anp" else "anp"
    ctx = client_context(certfile=state.path(f"{cert}.pem"), keyfile=state.path(f"{cert}.key"),
                         cafile=state.path("federation-roots.pem"), check_hostname=False)

    async def go() -> int:
        client = await RadSecClient.connect("127.0.0.1", port, ctx, watchdog=None, connect_timeout=5)
        try:
            auth = os.urandom(16)
            attrs = ((1, f"{USER}@{REALM}".encode()), (2, hide_user_password(PASSWORD.encode(), b"radsec", auth)))
            return (await client.request(Packet(Code.ACCESS_REQUEST, 0, auth, attrs), timeout=5)).code
        finally:
            await client.aclose()

    started = time.monotonic()
    try:
        code = asyncio.run(go())
    except Exception:  # a refused or timed-out connection is an outcome here, counted as -1
        code = -1
    return code, time.monotonic() - started


def during(work: Callable[[], object], check: Callable[[], tuple[int, float]], pid: int,
           settle: float = 1.0) -> tuple[list[tuple[int, float]], int, int]:
    """Run ``work`` in a thread; probe every 0.3 s until it is done (+ ``settle``); (probes, peak fds, peak RSS)."""
    thread = threading.Thread(target=work)
    thread.start()
    probes: list[tuple[int, float]] = []
    peak_fds = peak_rss = 0
    end = time.monotonic() + 120
    done_at: float | None = None
    while time.monotonic() < end:
        probes.append(check())
        peak_fds, peak_rss = max(peak_fds, open_fds(pid)), max(peak_rss, rss_kib(pid))
        if not thread.is_alive():
            done_at = done_at or time.monotonic()
            if time.monotonic() - done_at > settle:
                break
        time.sleep(0.3)
    thread.join(10)
    return probes, peak_fds, peak_rss


@pytest.mark.parametrize("listener", ["anp", "idp"])
def test_a_connection_flood_at_a_radsec_listener_is_bounded(tmp_path: Path, listener: str) -> None:
    state = make_state(tmp_path / "state")
    ports = anp_ports()
    ap_port = free_port(socket.SOCK_STREAM)
    figures: dict[str, object] = {"listener": listener}
    with idp_serve(state, tmp_path / "idp") as idp:
        text = anp_toml(state, ports, spool=tmp_path / "spool.sqlite",
                        routes=[(REALM, [f"127.0.0.1:{idp.radsec}/{REALM}"])],
                        client_options="rate = 100000\nburst = 100000")
        text = text.replace("[anp]\n", f'[anp]\nlisten_radsec = "127.0.0.1:{ap_port}"\n', 1).replace(
            "[tls]\n", f'[tls]\nap_roots = ["{state.path("ap-ca/root.pem")}"]\n', 1)
        with run_anp(tmp_path / "anp", text, ports) as anp:
            port, pid = (ap_port, anp.pid) if listener == "anp" else (idp.radsec, idp.pid)
            assert probe(state, port, listener)[0] == Code.ACCESS_ACCEPT
            fds0, rss0 = open_fds(pid), rss_kib(pid)
            held: list[socket.socket] = []
            failed: list[int] = []
            acked: list[int] = []

            def hold() -> None:
                socks, bad = open_held(port, FLOOD, deadline=time.monotonic() + 60)
                held.extend(socks)
                failed.append(bad)
                acked.extend(send_accounting(anp.acct, [f"flood-{i}" for i in range(20)]))

            started = time.monotonic()
            probes, peak_fds, peak_rss = during(hold, lambda: probe(state, port, listener), pid)
            figures.update(held=len(held), held_failed=failed[0],
                           held_open_s=round(time.monotonic() - started, 1), held_probes=_summary(probes),
                           held_peak_fds=peak_fds - fds0,
                           held_peak_rss_kib=peak_rss - rss0)
            wait_until(lambda: closed_by_peer(held) == len(held), HANDSHAKE_TIMEOUT + 10, step=0.5)
            figures.update(closed_by_listener=closed_by_peer(held),
                           held_gone_after_s=round(time.monotonic() - started, 1))
            for s in held:
                s.close()
            counts: list[tuple[int, int]] = []
            probes2, peak_fds2, peak_rss2 = during(
                lambda: counts.append(churn(port, FLOOD, deadline=time.monotonic() + 60)),
                lambda: probe(state, port, listener), pid)
            figures.update(churned=counts[0], churn_probes=_summary(probes2), churn_peak_fds=peak_fds2 - fds0,
                           churn_peak_rss_kib=peak_rss2 - rss0)
            wait_until(lambda: open_fds(pid) <= fds0 + 5, 15)
            figures.update(fds_after=open_fds(pid) - fds0, rss_after_kib=rss_kib(pid) - rss0)
            assert wait_until(lambda: accounting_rows(state)[0] >= 20, 20)
            time.sleep(0.5)
            rows = accounting_rows(state)
    figures["accounting_rows"] = rows
    print("flood:", figures)
    assert len(held) >= FLOOD * 0.9
    assert all(code == Code.ACCESS_ACCEPT for code, _ in probes + probes2), (probes, probes2)
    assert figures["closed_by_listener"] == len(held)
    assert figures["fds_after"] <= 5  # type: ignore[operator]
    # bounded by the listener's cap on pending handshakes (each with its 256 KiB TLS buffer), not by the flood
    assert max(peak_fds, peak_fds2) - fds0 <= MAX_HANDSHAKES + 50
    assert max(peak_rss, peak_rss2) - rss0 < MAX_HANDSHAKES * 256 + 64 * 1024
    assert all_acked(acked) and rows == (20, 20, 20)


def _summary(probes: list[tuple[int, float]]) -> dict[str, object]:
    seconds = sorted(s for _, s in probes)
    return {"n": len(probes), "ok": sum(c == Code.ACCESS_ACCEPT for c, _ in probes),
            "median_ms": round(seconds[len(seconds) // 2] * 1000), "max_ms": round(seconds[-1] * 1000)}
