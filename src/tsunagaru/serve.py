"""`tsunagaru serve`: the production entry point, running the ANP proxy, the IdP, or both in one process.

Each part keeps its own configuration file (`anp.toml`, `idp.toml`, documented in
:mod:`tsunagaru.anp.config` and :mod:`tsunagaru.idp.config`); one SIGTERM or SIGINT stops both, SIGHUP
reloads the ANP's clients and routes. A city that runs the IdP elsewhere starts only ``--anp``. The IdP
is assembled by :mod:`tsunagaru.idp.serve`, the one place that does so (the demo and ``idp serve`` too).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from tsunagaru import logs
from tsunagaru.net import eventloop


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the ANP proxy and/or the IdP from their configuration files")
    p.add_argument("--anp", type=Path, metavar="ANP.toml", help="run the ANP proxy with this configuration")
    p.add_argument("--idp", type=Path, metavar="IDP.toml", help="run the IdP with this configuration")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from tsunagaru.anp import config as anp_config
    from tsunagaru.idp import config as idp_config

    if args.anp is None and args.idp is None:
        print("serve: name --anp FILE, --idp FILE, or both", file=sys.stderr)
        return 2
    logs.setup(args.log_level)
    try:
        anp = anp_config.load(args.anp) if args.anp else None
        idp = idp_config.load(args.idp) if args.idp else None
    except (anp_config.ConfigError, idp_config.ConfigError) as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 2
    from tsunagaru.idp.serve import StartError

    try:
        if anp is not None and idp is None:  # the IdP's start loads its own; the ANP's sits beside its file
            logs.use_key_file(args.anp.parent / logs.LOG_KEY_FILE)
        return eventloop.run(_serve(anp, idp, args.anp))  # uvloop where installed
    except (OSError, StartError, ValueError) as exc:  # one line, exit 2 (a port in use, a bad cert)
        print(f"serve: {exc}", file=sys.stderr)
        return 2


async def _serve(anp: Any, idp: Any, anp_path: Path | None) -> int:
    from tsunagaru.anp.cli import run as run_anp
    from tsunagaru.idp.serve import run as run_idp

    stop = asyncio.Event()
    parts = []
    if idp is not None:  # the IdP first: an ANP on the same box may route to it at once
        ready = asyncio.Event()
        parts.append(asyncio.create_task(run_idp(idp, ready=ready, stop=stop)))
        await _first(ready, parts[-1])
    if anp is not None:
        parts.append(asyncio.create_task(run_anp(anp, anp_path, stop=stop)))
    codes = await asyncio.gather(*parts)
    return max(codes)


async def _first(ready: asyncio.Event, task: asyncio.Task[int]) -> None:
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({waiter, task}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        task.result()  # raise what stopped it (a port in use, a bad certificate)
