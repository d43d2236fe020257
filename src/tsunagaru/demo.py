"""`tsunagaru demo`: the whole AAA chain on loopback, with no arguments, and where to look.

It builds (once) a state folder with a two-root test federation PKI, the IdP's EAP CA and the demo
user (see :mod:`tsunagaru.demo_state`), then runs in one process the IdP (RadSec on :2083 for
federation peers, RADIUS/UDP on :11812 for local tests) and the ANP proxy (RADIUS/UDP :1812 and
:1813 for access points, secret ``testing123``) which finds ``idp.tsunagaru.test`` by RFC 7585
discovery in the demo zone and reaches it over RadSec with the federation PKI checked both ways.
It prints the credentials and a ready-to-run ``eapol_test`` line, then a line starting with ``ready``
once every listener accepts traffic, and stops cleanly on SIGINT or SIGTERM. The ports are a contract
(DESIGN.md): flags move them, the defaults stay.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tsunagaru import heap, logs
from tsunagaru.demo_state import NAS_SECRET, PASSWORD, REALM, USER, DemoPorts, DemoState, prepare
from tsunagaru.secretfile import write_private
from tsunagaru.shutdown import Shutdown


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="run the ANP proxy and the IdP on loopback (see README)")
    p.add_argument("--state", type=Path, default=Path("tsunagaru-demo"), help="state folder (./tsunagaru-demo)")
    p.add_argument("--host", default="127.0.0.1", help="the loopback address every part listens on")
    p.add_argument("--auth-port", type=int, default=1812, help="the ANP's RADIUS/UDP authentication port")
    p.add_argument("--acct-port", type=int, default=1813, help="the ANP's RADIUS/UDP accounting port")
    p.add_argument("--radsec-port", type=int, default=2083, help="the IdP's RadSec port")
    p.add_argument("--idp-udp-port", type=int, default=11812, help="the IdP's own RADIUS/UDP port")
    p.add_argument("--anp-radsec-port", type=int, default=12083, help="the ANP's RadSec port for access points")
    p.add_argument("--anp-metrics-port", type=int, default=9812, help="the ANP's Prometheus /metrics port")
    p.add_argument("--idp-metrics-port", type=int, default=9813, help="the IdP's Prometheus /metrics port")
    p.add_argument("--web-port", type=int, default=8080, help="the web app (dashboard, API, portal)")
    p.add_argument("--no-sim", action="store_true",
                   help="no traffic simulator (500 virtual APs on 127.2.x.y sending to the ANP)")
    p.add_argument("--log-level", default="info", help="info logs every request (JSON lines); warning is quiet")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    logs.setup(args.log_level)
    ports = DemoPorts(args.host, args.auth_port, args.acct_port, args.radsec_port, args.idp_udp_port,
                      args.anp_radsec_port, args.anp_metrics_port, args.idp_metrics_port)
    from tsunagaru.idp.serve import StartError
    from tsunagaru.tomlconf import ConfigError

    signals = StopSignals()
    signals.install()  # before the start-up: a signal from here on stops the demo cleanly
    try:
        return asyncio.run(_main(args.state, ports, args.web_port, sim=not args.no_sim, signals=signals))
    except OSError as exc:
        print(f"error: {exc} (is another demo or RADIUS server using these ports? see --help)", file=sys.stderr)
        return 1
    except (StartError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        signals.restore()  # the parts are stopped: a signal during the interpreter's exit ends it at once


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """SIGINT and SIGTERM as a flag and an asyncio event.

    A Python-level handler, not the loop's ``add_signal_handler``: it is installed before the loop runs
    (a signal during the imports or the state folder's preparation is not lost, nor fatal) and it sets
    the flag at once, even inside a blocking start-up step, so the start-up stops at the next part.
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        self.event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)

    def restore(self) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Set :attr:`event` on ``loop`` from now on (and now, if a signal came before)."""
        self._loop = loop
        if self.received:
            self.event.set()

    @property
    def requested(self) -> bool:
        return bool(self.received)

    def _handle(self, signum: int, _frame: object) -> None:
        self.received.append(signum)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.event.set)  # wakes the loop (its self-pipe)


async def _main(root: Path, ports: DemoPorts, web_port: int = 8080, sim: bool = True,
                signals: StopSignals | None = None) -> int:
    """Start the parts one by one, serve until SIGINT/SIGTERM, stop them (each step bounded, see
    :mod:`tsunagaru.shutdown`). A signal during the start-up is seen between two parts: what was started
    is stopped and the demo exits 0 without printing ``ready``."""
    if signals is None:
        signals = StopSignals()
        signals.install()
    signals.attach(asyncio.get_running_loop())
    steps = Shutdown("demo")
    try:
        if await _start(root, ports, web_port, sim, steps, signals):
            await signals.event.wait()
    finally:
        await steps.run()
    print("stopped", flush=True)
    return 0


async def _start(root: Path, ports: DemoPorts, web_port: int, sim: bool, steps: Shutdown,
                 signals: StopSignals) -> bool:
    """Start every part, adding its stop step as soon as it runs; False when a signal came meanwhile."""
    from tsunagaru.stack import start_stack

    print("Tsunagaru demo: preparing the state folder (test PKI, demo user, discovery zone)...", flush=True)
    state = prepare(root, datetime.now(UTC), ports)
    if signals.requested:  # between the blocking steps: each ends before the demo stops (none is cut short)
        return False
    from tsunagaru.sites.demo_seed import seed_demo_store

    registry = seed_demo_store(state.root, state.db_url)  # the Tokyo sample list, tenants, demo APs
    if signals.requested:
        return False
    stack = await start_stack(state)
    steps.add("stack", stack.close, bound=STACK_BOUND)
    if signals.requested:
        return False
    from tsunagaru.web.demo import start_web

    web = await start_web(state.root, state.db_url, registry, host=ports.host, port=web_port, anp_host=ports.host,
                          anp_auth=ports.auth, anp_acct=ports.acct)
    steps.add("web", web.close, bound=WEB_BOUND)
    from tsunagaru.web.enrol import demo as enrol_demo

    portal = enrol_demo.attach(web.server.config.app, state.root, store=web.store,  # SMTP sink -> DIR/outbox
                               sweep_every=None)  # swept by the jobs below
    steps.add("portal", portal.stop, bound=5.0, blocking=True)
    from tsunagaru.ops import jobs

    # the jobs `web serve` runs ([jobs]), here at a demo's pace: alerts and usage every 30 s, so the
    # alert history and the usage charts follow the simulator's traffic within a minute
    demo_jobs = jobs.JobSettings(sweep_minutes=60, usage_minutes=0.5, usage_hours=2, alerts_minutes=0.5)
    scheduler = jobs.build(web.store, demo_jobs, portal.portal.service.sweep).start()
    steps.add("scheduler", lambda: scheduler.stop(timeout=SCHEDULER_BOUND), bound=SCHEDULER_BOUND + 1, blocking=True)
    if signals.requested:
        return False
    if sim:
        from tsunagaru.ops.simulator import start_demo_traffic

        traffic = await start_demo_traffic(state.db_url, ports.host, ports.auth, ports.acct)
        steps.add("traffic", traffic.close, bound=5.0)
    if signals.requested:
        return False
    print(banner(state, ports, [
        f"  site registry        {registry.sites_total} sites (Tokyo sample list, CC BY 4.0: 東京都「公衆無線LAN"
        f"アクセスポイント一覧」), demo APs {', '.join(map(str, registry.ap_ids))} on 127.0.1.1-5",
        f"  web app              {web.url} (API {web.url}api/v1/, accounts in {state.path('web-users.txt')}, "
        f"AP tokens in {state.path('ap-tokens.txt')})",
        *enrol_demo.banner_lines(state.root, portal, web.url.rstrip("/"))]), flush=True)
    heap.settle()
    print(f"ready: ANP RADIUS {ports.host}:{ports.auth}/{ports.acct} RadSec :{ports.anp_radsec}, "
          f"IdP RadSec {ports.host}:{ports.idp_radsec}, IdP RADIUS {ports.host}:{ports.idp_udp}", flush=True)
    return True


# bounds of the stop steps (seconds): the traffic first, then the jobs (after the one running), the portal,
# the web app (requests in flight get WEB_GRACE), then the ANP and the IdP (each drains for 5 s)
SCHEDULER_BOUND = 10.0
WEB_BOUND = 12.0
STACK_BOUND = 20.0


def eapol_conf(state: DemoState, method: str = "TTLS") -> str:
    inner = {"TTLS": 'phase2="auth=PAP"', "PEAP": 'phase2="auth=MSCHAPV2"'}.get(method, "")
    lines = ["network={", " key_mgmt=IEEE8021X", f" eap={method}", f' identity="{USER}@{REALM}"']
    if method == "TLS":
        lines += [f' client_cert="{state.path("alice.pem")}"', f' private_key="{state.path("alice.key")}"']
    else:
        lines += [f' anonymous_identity="anonymous@{REALM}"', f' password="{PASSWORD}"', f" {inner}"]
    lines += [f' ca_cert="{state.path("ca.pem")}"', "}", ""]
    return "\n".join(lines)


def banner(state: DemoState, ports: DemoPorts, parts: Sequence[str] = ()) -> str:
    """What runs where; ``parts``: lines of the other parts (registry, web app, portal), before "try it"."""
    for method in ("TTLS", "PEAP", "TLS"):
        write_private(state.path(f"eapol-{method.lower()}.conf"), eapol_conf(state, method).encode())  # a password
    h = ports.host
    return "\n".join([
        "Tsunagaru demo",
        f"  state folder         {state.root}",
        f"  ANP proxy            RADIUS/UDP auth {h}:{ports.auth}, accounting {h}:{ports.acct}  "
        f"(NAS 127.0.0.1, secret {NAS_SECRET!r}; every other AP from the registry; config {state.path('anp.toml')})",
        f"  ANP RadSec for APs   {h}:{ports.anp_radsec} (AP certificates under the city's AP CA, "
        f"{state.path('ap-ca')}; a demo AP's: ap.pem + ap.key)",
        f"  IdP                  RadSec {h}:{ports.idp_radsec} (federation peers), RADIUS/UDP {h}:{ports.idp_udp}",
        f"  metrics              ANP http://{h}:{ports.anp_metrics}/metrics, IdP http://{h}:{ports.idp_metrics}/metrics",
        f"  realm                {REALM}, found by RFC 7585 discovery in {state.path('demo.zone')}",
        f"  demo user            {USER}@{REALM} / {PASSWORD}  (PAP, MSCHAPv2, TTLS, PEAP)",
        f"  EAP-TLS credential   {state.path('alice.pem')} + alice.key, or alice.p12 (empty password)",
        f"  CA a device trusts   {state.path('ca.pem')}",
        f"  federation roots     {state.path('federation-roots.pem')} (two roots side by side)",
        *parts,
        "  try it:",
        f"    eapol_test -c {state.path('eapol-ttls.conf')} -a {h} -p {ports.auth} -s {NAS_SECRET}",
        f"    eapol_test -c {state.path('eapol-tls.conf')} -a {h} -p {ports.auth} -s {NAS_SECRET}",
        f"    echo 'User-Name = \"{USER}@{REALM}\", User-Password = \"{PASSWORD}\", Message-Authenticator = 0x00' "
        f"| radclient -x {h}:{ports.auth} auth {NAS_SECRET}",
        f"    tsunagaru doctor realm {REALM} --state {state.root}",
        "  stop with Ctrl-C (SIGINT) or SIGTERM",
    ])
