"""`tsunagaru serve`: the production entry point, running the ANP proxy, the IdP, or both in one process.

Each part keeps its own configuration file (`anp.toml`, `idp.toml`, documented in
:mod:`tsunagaru.anp.config` and :mod:`tsunagaru.idp.config`); one SIGTERM or SIGINT stops both, SIGHUP
reloads the ANP's clients and routes. A city that runs the IdP elsewhere starts only ``--anp``. The IdP
is assembled by :mod:`tsunagaru.idp.serve`, the one place that does so (the demo and ``idp serve`` too).

``--workers N`` (N > 1) runs N pre-fork workers (:mod:`tsunagaru.net.workers`), each serving the parts
named, every listener bound with SO_REUSEPORT; the parent passes SIGHUP and SIGTERM on, restarts a worker
that dies and serves each part's ``/metrics`` endpoint summing the workers.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tsunagaru import logs
from tsunagaru.anp.cli import workers_count
from tsunagaru.net import eventloop

if TYPE_CHECKING:
    from tsunagaru.net.workers import WorkerContext


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the ANP proxy and/or the IdP from their configuration files")
    p.add_argument("--anp", type=Path, metavar="ANP.toml", help="run the ANP proxy with this configuration")
    p.add_argument("--idp", type=Path, metavar="IDP.toml", help="run the IdP with this configuration")
    p.add_argument("--log-level", default="info")
    p.add_argument("--workers", type=workers_count, default=1, metavar="N",
                   help="pre-fork worker processes sharing the ports with SO_REUSEPORT (default 1: no fork)")
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
        if args.workers > 1:
            return _serve_forked(anp, idp, args.anp, args.workers)
        return eventloop.run(_serve(anp, idp, args.anp))  # uvloop where installed
    except (OSError, StartError, ValueError) as exc:  # one line, exit 2 (a port in use, a bad cert, the loop)
        print(f"serve: {exc}", file=sys.stderr)
        return 2


def _serve_forked(anp: Any, idp: Any, anp_path: Path | None, workers: int) -> int:
    """The parts in ``workers`` pre-fork processes; one multiprocess directory, one endpoint per part."""
    from tsunagaru.anp.cli import START_ERRORS
    from tsunagaru.anp.cli import metrics_dir as anp_metrics_dir
    from tsunagaru.idp.serve import StartError
    from tsunagaru.idp.serve import metrics_dir as idp_metrics_dir
    from tsunagaru.net.workers import MetricsEndpoint, run_workers, use_multiprocess_metrics

    endpoints = []
    if anp is not None and anp.metrics is not None:
        endpoints.append(MetricsEndpoint(anp.metrics.host, anp.metrics.port, "tsunagaru_anp_"))
    if idp is not None and idp.metrics is not None:
        endpoints.append(MetricsEndpoint(idp.metrics.host, idp.metrics.port, "tsunagaru_idp_"))
    directory = None
    if endpoints:
        directory = use_multiprocess_metrics(anp_metrics_dir(anp) if anp is not None else idp_metrics_dir(idp))

    def child(ctx: WorkerContext) -> int:
        try:
            return eventloop.run(_serve(anp, idp, anp_path, ctx))  # uvloop where installed
        except (*START_ERRORS, StartError) as exc:
            print(f"serve: {exc}", file=sys.stderr)
            return 2

    return run_workers(workers, child, name="serve", metrics_dir=directory, metrics=endpoints)


async def _serve(anp: Any, idp: Any, anp_path: Path | None, worker: WorkerContext | None = None) -> int:
    from tsunagaru.anp.cli import run as run_anp
    from tsunagaru.idp.serve import run as run_idp

    stop = asyncio.Event()
    part = None if worker is None else worker.part()
    parts = []
    if idp is not None:  # the IdP first: an ANP on the same box may route to it at once
        ready = asyncio.Event()
        parts.append(asyncio.create_task(run_idp(idp, ready=ready, stop=stop, worker=part)))
        await _first(ready, parts[-1])
    if anp is not None:
        ready = asyncio.Event()
        parts.append(asyncio.create_task(run_anp(anp, anp_path, ready=ready, stop=stop, worker=part)))
        await _first(ready, parts[-1])
    if worker is not None:
        worker.ready()
    codes = await asyncio.gather(*parts)
    return max(codes)


async def _first(ready: asyncio.Event, task: asyncio.Task[int]) -> None:
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({waiter, task}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        task.result()  # raise what stopped it (a port in use, a bad certificate)
