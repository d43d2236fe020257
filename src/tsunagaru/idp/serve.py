"""`tsunagaru idp serve --config idp.toml`: run the IdP (RadSec and/or RADIUS/UDP) until SIGTERM/SIGINT.

Loaded by :mod:`tsunagaru.idp.cli` (it adds every module in ``IDP_COMMAND_MODULES``). The process logs
one JSON line ``idp listening`` once every listener is bound, so supervisors and tests can wait for it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from tsunagaru import heap, logs
from tsunagaru.idp.config import IdpConfig, load
from tsunagaru.tomlconf import load_or_report

log = logging.getLogger("tsunagaru.idp")


def register(idp_subparsers: Any) -> None:
    """Add ``idp serve`` and ``idp check-config``."""
    serve = idp_subparsers.add_parser("serve", help="run the IdP's RADIUS/RadSec service")
    serve.add_argument("--config", "-c", type=Path, required=True, help="the IdP's TOML file")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)
    check = idp_subparsers.add_parser("check-config", help="parse the IdP's TOML file and say what is wrong")
    check.add_argument("config", type=Path)
    check.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    cfg = load_or_report(load, args.config)
    if cfg is None:
        return 2
    listeners = [f"radsec {cfg.radsec.host}:{cfg.radsec.port}"] if cfg.radsec else []
    listeners += [f"udp {cfg.udp.host}:{cfg.udp.port}"] if cfg.udp else []
    print(f"ok: realms {', '.join(cfg.realms)}; {'; '.join(listeners)}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    logs.setup(args.log_level)
    cfg = load_or_report(load, args.config)
    if cfg is None:
        return 2
    try:
        return asyncio.run(run(cfg))
    except OSError as exc:  # a port in use, an unreadable certificate: say so, no traceback
        print(f"tsunagaru idp serve: {exc}", file=sys.stderr)
        return 1


async def run(cfg: IdpConfig, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None) -> int:
    """Serve ``cfg`` until ``stop`` is set (or SIGTERM/SIGINT arrives)."""
    from tsunagaru.idp.server import IdpServer
    from tsunagaru.idp.service import IdpCore, build_eap_handler
    from tsunagaru.idp.store import SqlCredentialStore
    from tsunagaru.store import Store

    store = Store.open(cfg.db_url)
    try:
        credentials = SqlCredentialStore(store, cache_ttl=cfg.cache_ttl)
        udp_secret = cfg.udp.secret if cfg.udp is not None else b"radsec"
        core = IdpCore(cfg.settings, credentials, store, build_eap_handler(cfg.settings, credentials, udp_secret))
        server = IdpServer(core)
        try:
            await server.start(cfg.radsec, cfg.udp)
        except BaseException:
            await server.close()
            raise
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, stop.set)
            loop.add_signal_handler(signal.SIGINT, stop.set)
        logs.event(log, "idp listening", realms=",".join(cfg.realms),
                   radsec=f"{cfg.radsec.host}:{cfg.radsec.port}" if cfg.radsec else None,
                   udp=f"{cfg.udp.host}:{cfg.udp.port}" if cfg.udp else None)
        heap.settle()
        if ready is not None:
            ready.set()
        await stop.wait()
        await server.close()
        logs.event(log, "idp stopped")
    finally:
        store.dispose()
    return 0
