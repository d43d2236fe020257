"""`tsunagaru anp`: run the ANP proxy from one TOML file, or check that file.

``check-config`` builds everything ``run`` builds (certificates and keys loaded, the pool, discovery,
the spool) short of binding ports, so "ok" means the proxy will start. Every start-up problem is one
line ``FILE: problem`` on stderr and exit status 2, never a traceback. SIGHUP reloads clients, routes,
realm lists, decoration and rate limits; a file that does not load is refused with
"reload refused, keeping the running configuration: ..." and the proxy keeps serving. SIGTERM stops
taking requests, answers those in flight (up to 5 s), flushes the spool and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tsunagaru import heap, logs
from tsunagaru.anp.config import AnpConfig, ConfigError, load
from tsunagaru.net import eventloop
from tsunagaru.pki.errors import PkiError
from tsunagaru.tomlconf import load_or_report

if TYPE_CHECKING:
    from tsunagaru.anp.server import AnpServer

log = logging.getLogger("tsunagaru.anp")


def register(sub: Any) -> None:
    p = sub.add_parser("anp", help="the access network provider's AAA proxy")
    anp = p.add_subparsers(dest="anp_command", metavar="ACTION")
    run = anp.add_parser("run", help="run the proxy (SIGHUP reloads clients, routes and realm lists)")
    run.add_argument("--config", "-c", type=Path, required=True, help="the proxy's TOML file")
    run.add_argument("--log-level", default="info")
    run.set_defaults(func=cmd_run)
    check = anp.add_parser("check-config", help="parse a configuration file and say what is wrong")
    check.add_argument("config", type=Path)
    check.set_defaults(func=cmd_check)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


#: What building the server from a valid file may still raise (files named but missing, bad keys, ...)
START_ERRORS = (ConfigError, OSError, ValueError, ssl.SSLError, PkiError, UnicodeDecodeError)


def startup_error(path: Path | None, exc: BaseException) -> int:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    print(f"{path or 'anp'}: {text}", file=sys.stderr)
    return 2


def cmd_check(args: argparse.Namespace) -> int:
    cfg = load_or_report(load, args.config)
    if cfg is None:
        return 2
    from tsunagaru.anp.wiring import build_server

    async def build() -> None:  # the pool and spool want a loop; nothing is bound
        await build_server(cfg).release()

    try:
        asyncio.run(build())
    except START_ERRORS as exc:
        return startup_error(args.config, exc)
    for warning in cfg.warnings:
        print(f"warning: {warning}")
    print(f"ok: {len(cfg.clients)} clients, {len(cfg.routes)} static routes, discovery "
          f"{'on' if cfg.discovery.enabled else 'off'}, auth {cfg.auth.host}:{cfg.auth.port}, "
          f"acct {cfg.acct.host}:{cfg.acct.port}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    logs.setup(args.log_level)
    cfg = load_or_report(load, args.config)
    if cfg is None:
        return 2
    try:
        return eventloop.run(run(cfg, args.config))  # uvloop where installed
    except START_ERRORS as exc:
        return startup_error(args.config, exc)


async def run(cfg: AnpConfig, path: Path | None = None, ready: asyncio.Event | None = None,
              stop: asyncio.Event | None = None, on_server: Callable[[AnpServer], None] | None = None) -> int:
    from tsunagaru.anp.wiring import ClientLookup, build_ap_context, build_core, build_server

    for warning in cfg.warnings:
        logs.event(log, "configuration warning", logging.WARNING, detail=warning)
    server = build_server(cfg)
    try:
        await server.listen(cfg.auth.host, cfg.auth.port, cfg.acct.port)
        if cfg.radsec is not None:
            await server.listen_radsec(cfg.radsec.host, cfg.radsec.port, build_ap_context(cfg))
        if cfg.metrics is not None:
            from prometheus_client import start_http_server

            start_http_server(cfg.metrics.port, cfg.metrics.host, registry=server.metrics.registry)
    except BaseException:
        await server.close(drain=0)
        raise
    if on_server is not None:
        on_server(server)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)

        def reload() -> None:
            if path is None:
                return
            try:
                new = load(path)
                core = build_core(new)
            except Exception as exc:  # never out of the signal callback: the proxy keeps serving
                log.error("reload refused, keeping the running configuration: %s", exc)
                return
            core.admitter = server.core.admitter  # keep duplicate detection; rates follow the new clients
            server.core = core  # requests in flight keep the objects they started with
            server.ap_client = ClientLookup(core.clients)
            for warning in new.warnings:
                logs.event(log, "configuration warning", logging.WARNING, detail=warning)
            logs.event(log, "configuration reloaded", clients=len(new.clients), routes=len(new.routes))

        loop.add_signal_handler(signal.SIGHUP, reload)
    logs.event(log, "anp listening", auth=f"{cfg.auth.host}:{cfg.auth.port}", acct=f"{cfg.acct.host}:{cfg.acct.port}")
    heap.settle()
    if ready is not None:
        ready.set()
    await stop.wait()
    await server.close()
    return 0
