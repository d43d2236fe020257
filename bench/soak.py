"""Soak the ANP + IdP at half capacity and sample both processes' RSS (a bench script, not a test).

Real processes, as an operator runs them: ``tsunagaru idp serve`` (RadSec with the federation PKI, the
demo realm and user alice, info log level) and ``tsunagaru anp run`` routing the realm to it. First the
capacity is measured, each kind on its own: PAP logins/s (RADIUS/UDP to the ANP, ``--concurrency``
requests outstanding, closed loop) and EAP-TTLS/PAP logins/s (``--procs`` eapol_test processes in a
loop, one full handshake each: the client's own cost is in the figure, as on any box where client and
servers share the cores). Then the soak runs both at once, each at a quarter of its own capacity (half
of the box between them), for ``--minutes``, with an Accounting-Request (Start) after every
``--acct-every``-th PAP login; RSS of both servers is sampled at the start, every minute and at the
end. At the end the IdP's accounting table must hold exactly the records sent (0 lost).

    .venv/bin/python bench/soak.py                     # 10 minutes (the figure for issue 14)
    .venv/bin/python bench/soak.py --minutes 1         # a quick look

"Flat" is judged on the samples after warm-up (from minute 2): the least-squares slope in KiB/minute
is printed beside the samples, with the load average. Everything goes under ``--work`` (a temp folder).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.stack import idp_serve, rss_kib  # noqa: E402
from tests.support.anp_stack import (  # noqa: E402
    accounting_request,
    accounting_rows,
    anp_ports,
    anp_toml,
    make_state,
    pap_request,
    run_anp,
)
from tests.support.idp_process import tunnel_block  # noqa: E402
from tsunagaru.demo_state import NAS_SECRET, PASSWORD, REALM, USER, DemoState  # noqa: E402
from tsunagaru.radius import Code, Packet  # noqa: E402


class PapLoad:
    """PAP logins over one UDP socket: closed loop (``rate`` None) or paced at ``rate`` per second."""

    def __init__(self, port: int, acct_every: int = 0) -> None:
        self.port = port
        self.acct_every = acct_every
        self.acct_port = port + 1
        self.ok = self.failed = self.acct_sent = self.acct_ok = self.retransmits = 0
        self.latencies: list[float] = []

    def run(self, seconds: float, *, concurrency: int = 1, rate: float | None = None) -> None:
        end = time.monotonic() + seconds
        threads = [threading.Thread(target=self._worker, args=(end, rate / concurrency if rate else None, n))
                   for n in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _worker(self, end: float, rate: float | None, n: int) -> None:
        ident = acct_ident = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as acct:  # its own identifiers
            s.settimeout(5)
            acct.settimeout(5)
            next_at = time.monotonic()
            while time.monotonic() < end:
                ident = (ident + 1) % 256
                started = time.monotonic()
                if self._exchange(s, pap_request(f"{USER}@{REALM}", PASSWORD, ident), Code.ACCESS_ACCEPT):
                    self.ok += 1
                    self.latencies.append(time.monotonic() - started)
                    if self.acct_every and self.ok % self.acct_every == 0:
                        self.acct_sent += 1
                        session = f"soak-{n}-{self.acct_sent}-{time.monotonic_ns()}"
                        acct_ident = (acct_ident + 1) % 256
                        self.acct_ok += self._exchange(acct, accounting_request(f"{USER}@{REALM}", session, acct_ident),
                                                       Code.ACCOUNTING_RESPONSE)
                else:
                    self.failed += 1
                if rate:
                    next_at += 1 / rate
                    time.sleep(max(0.0, next_at - time.monotonic()))

    def _exchange(self, s: socket.socket, request: Packet, want: int) -> bool:
        """Send, wait 5 s, send the same octets once more (as an AP retransmits), wait 5 s."""
        target = self.acct_port if request.code == Code.ACCOUNTING_REQUEST else self.port
        for _ in range(2):
            s.sendto(request.to_bytes(), ("127.0.0.1", target))
            try:
                while True:
                    reply = Packet.from_bytes(s.recv(4096))
                    if reply.identifier == request.identifier:
                        return reply.code == want
            except TimeoutError:
                self.retransmits += 1
        return False


class TtlsLoad:
    """EAP-TTLS/PAP logins, one eapol_test process each, from ``procs`` threads (paced when ``rate``)."""

    def __init__(self, state: DemoState, port: int, work: Path) -> None:
        self.conf = work / "ttls.conf"
        self.conf.write_text("network={\n" + tunnel_block(state, "ttls-pap") + "\n}\n")
        self.port = port
        self.ok = self.failed = 0
        self.latencies: list[float] = []

    def run(self, seconds: float, *, procs: int, rate: float | None = None) -> None:
        end = time.monotonic() + seconds
        threads = [threading.Thread(target=self._worker, args=(end, rate / procs if rate else None))
                   for _ in range(procs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _worker(self, end: float, rate: float | None) -> None:
        argv = ["eapol_test", "-c", str(self.conf), "-a", "127.0.0.1", "-p", str(self.port), "-s", NAS_SECRET,
                "-t", "10"]
        next_at = time.monotonic()
        while time.monotonic() < end:
            started = time.monotonic()
            try:
                done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
                good = done.returncode == 0
            except subprocess.TimeoutExpired:
                good = False
            if good:
                self.ok += 1
                self.latencies.append(time.monotonic() - started)
            else:
                self.failed += 1
            if rate:
                next_at += 1 / rate
                time.sleep(max(0.0, next_at - time.monotonic()))


def slope(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of (minutes, KiB) in KiB per minute."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mx = sum(x for x, _ in samples) / n
    my = sum(y for _, y in samples) / n
    den = sum((x - mx) ** 2 for x, _ in samples)
    return 0.0 if den == 0 else sum((x - mx) * (y - my) for x, y in samples) / den


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--capacity-seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=16, help="PAP requests outstanding (capacity)")
    parser.add_argument("--procs", type=int, default=8, help="eapol_test processes at once (capacity)")
    parser.add_argument("--acct-every", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None, help="JSON result (default WORK/soak.json)")
    a = parser.parse_args()
    if shutil.which("eapol_test") is None:
        print("eapol_test is not installed (wpasupplicant's eapol_test)", file=sys.stderr)
        return 2
    work = a.work or Path(tempfile.mkdtemp(prefix="tsunagaru-soak-"))
    state = make_state(work / "state")
    ports = anp_ports()
    result: dict[str, object] = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                 "minutes": a.minutes, "load_start": os.getloadavg()}
    with idp_serve(state, work / "idp") as idp:
        text = anp_toml(state, ports, spool=work / "spool.sqlite",
                        routes=[(REALM, [f"127.0.0.1:{idp.radsec}/{REALM}"])],
                        client_options="rate = 100000\nburst = 100000")
        with run_anp(work / "anp", text, ports) as anp:
            pids = {"anp": anp.pid, "idp": idp.pid}
            cap_pap = PapLoad(anp.auth)
            cap_pap.run(a.capacity_seconds, concurrency=a.concurrency)
            cap_ttls = TtlsLoad(state, anp.auth, work)
            cap_ttls.run(a.capacity_seconds, procs=a.procs)
            pap_rate, ttls_rate = cap_pap.ok / a.capacity_seconds, cap_ttls.ok / a.capacity_seconds
            result["capacity"] = {"pap_per_s": round(pap_rate, 1), "pap_failed": cap_pap.failed,
                                  "ttls_per_s": round(ttls_rate, 1), "ttls_failed": cap_ttls.failed,
                                  "concurrency": a.concurrency, "procs": a.procs, "load": os.getloadavg()}
            print("capacity:", result["capacity"], flush=True)
            soak_pap = PapLoad(anp.auth, a.acct_every)
            soak_pap.acct_port = anp.acct
            soak_ttls = TtlsLoad(state, anp.auth, work)
            seconds = a.minutes * 60
            started = time.monotonic()
            loads = [threading.Thread(target=soak_pap.run, args=(seconds,), kwargs={"concurrency": 2,
                                                                                      "rate": pap_rate / 4}),
                     threading.Thread(target=soak_ttls.run, args=(seconds,),
                                      kwargs={"procs": max(1, a.procs // 4), "rate": ttls_rate / 4})]
            for t in loads:
                t.start()
            rss: dict[str, list[tuple[float, int]]] = {name: [] for name in pids}
            loadavg: list[tuple[float, ...]] = []
            while True:
                minute = (time.monotonic() - started) / 60
                for name, pid in pids.items():
                    rss[name].append((round(minute, 2), rss_kib(pid)))
                loadavg.append(os.getloadavg())
                print(f"minute {minute:.1f}: rss anp {rss['anp'][-1][1]} KiB idp {rss['idp'][-1][1]} KiB, "
                      f"pap {soak_pap.ok} ttls {soak_ttls.ok} acct {soak_pap.acct_sent}, load {loadavg[-1]}",
                      flush=True)
                if not any(t.is_alive() for t in loads):
                    break
                wait = 60 - (time.monotonic() - started) % 60
                for _ in range(int(wait * 10)):
                    if not any(t.is_alive() for t in loads):
                        break
                    time.sleep(0.1)
            for t in loads:
                t.join()
            deadline = time.monotonic() + 30
            while accounting_rows(state)[0] < soak_pap.acct_sent and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(1)
            rows = accounting_rows(state)
            pending = anp.metrics().get("tsunagaru_anp_accounting_pending", -1)
    result["soak"] = {
        "pap": {"ok": soak_pap.ok, "failed": soak_pap.failed, "retransmits": soak_pap.retransmits,
                "per_s": round(soak_pap.ok / seconds, 1),
                "median_ms": round(pct(soak_pap.latencies, 0.5) * 1000, 1),
                "p90_ms": round(pct(soak_pap.latencies, 0.9) * 1000, 1)},
        "ttls": {"ok": soak_ttls.ok, "failed": soak_ttls.failed, "per_s": round(soak_ttls.ok / seconds, 2),
                 "median_ms": round(pct(soak_ttls.latencies, 0.5) * 1000),
                 "p90_ms": round(pct(soak_ttls.latencies, 0.9) * 1000)},
        "accounting": {"sent": soak_pap.acct_sent, "acked": soak_pap.acct_ok, "idp_rows": rows[0],
                       "idp_distinct": rows[1], "spool_pending": pending},
    }
    result["rss_kib"] = rss
    result["rss_slope_kib_per_min_after_warmup"] = {
        name: round(slope([s for s in samples if s[0] >= 2]), 1) for name, samples in rss.items()}
    result["load"] = loadavg
    out = a.out or work / "soak.json"
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k not in ("rss_kib", "load")}, indent=1))
    print(f"result in {out}")
    lost = soak_pap.acct_sent - rows[1]
    return 0 if lost == 0 and soak_pap.failed == 0 and soak_ttls.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
