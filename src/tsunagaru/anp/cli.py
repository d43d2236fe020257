"""`tsunagaru anp`: run the ANP proxy from one TOML file, or check that file.

``check-config`` builds everything ``run`` builds (certificates and keys loaded, the pool, discovery,
the spool) short of binding ports, so "ok" means the proxy will start. Every start-up problem is one
line ``FILE: problem`` on stderr and exit status 2, never a traceback. SIGHUP reloads clients, routes,
realm lists, decoration and rate limits; a file that does not load is refused with
"reload refused, keeping the running configuration: ..." and the proxy keeps serving. SIGTERM stops
taking requests, answers those in flight (up to 5 s), flushes the spool and exits 0.

``--workers N`` (N > 1) runs N pre-fork workers (:mod:`tsunagaru.net.workers`), each binding the auth,
acct and RadSec ports with SO_REUSEPORT and owning its spool (``spool.wN``); the parent passes SIGHUP and
SIGTERM to every worker, restarts one that dies (with back-off) and serves ``/metrics`` summing the
workers (prometheus_client multiprocess mode, files in ``SPOOL.metrics/``, 0700, emptied at start).
``--workers 1`` (the default) is the single process, no fork. Both load the installation's redaction
key (``log.key`` beside the configuration file, 0600, made on first start).
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
from tsunagaru.net import eventloop, gauges
from tsunagaru.pki.errors import PkiError
from tsunagaru.shutdown import stop_in_thread
from tsunagaru.tomlconf import load_or_report

if TYPE_CHECKING:
    from tsunagaru.anp.server import AnpServer
    from tsunagaru.net.workers import WorkerContext

log = logging.getLogger("tsunagaru.anp")


def register(sub: Any) -> None:
    p = sub.add_parser("anp", help="the access network provider's AAA proxy")
    anp = p.add_subparsers(dest="anp_command", metavar="ACTION")
    run = anp.add_parser("run", help="run the proxy (SIGHUP reloads clients, routes and realm lists)")
    run.add_argument("--config", "-c", type=Path, required=True, help="the proxy's TOML file")
    run.add_argument("--log-level", default="info")
    run.add_argument("--workers", type=workers_count, default=1, metavar="N",
                     help="pre-fork worker processes sharing the ports with SO_REUSEPORT (default 1: no fork)")
    run.set_defaults(func=cmd_run)
    check = anp.add_parser("check-config", help="parse a configuration file and say what is wrong")
    check.add_argument("config", type=Path)
    check.set_defaults(func=cmd_check)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


#: What building the server from a valid file may still raise (files named but missing, bad keys, ...)
START_ERRORS = (ConfigError, OSError, ValueError, ssl.SSLError, PkiError, UnicodeDecodeError)


MAX_WORKERS = 256


def workers_count(text: str) -> int:
    """``--workers``: 1..MAX_WORKERS (argparse reports anything else as a usage error)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= n <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"between 1 and {MAX_WORKERS}, not {n}")
    return n


def metrics_dir(cfg: AnpConfig) -> Path:
    """prometheus_client's multiprocess directory of an ANP with workers: beside its spool."""
    spool = Path(cfg.spool)
    return spool.with_name(f"{spool.name}.metrics")


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
        logs.use_key_file(args.config.parent / logs.LOG_KEY_FILE)  # the installation's key, as `serve` does
    except (OSError, ValueError) as exc:
        return startup_error(args.config, OSError(f"log key {args.config.parent / logs.LOG_KEY_FILE}: {exc}"))
    if args.workers > 1:
        return run_forked(cfg, args.config, args.workers)
    try:
        return eventloop.run(run(cfg, args.config))  # uvloop where installed
    except START_ERRORS as exc:
        return startup_error(args.config, exc)


def run_forked(cfg: AnpConfig, path: Path, workers: int) -> int:
    """``workers`` pre-fork processes, each :func:`run` with its index; the parent serves the metrics."""
    from tsunagaru.net.workers import MetricsEndpoint, run_workers, use_multiprocess_metrics

    directory = use_multiprocess_metrics(metrics_dir(cfg)) if cfg.metrics is not None else None
    endpoints = [] if cfg.metrics is None else [MetricsEndpoint(cfg.metrics.host, cfg.metrics.port, "tsunagaru_anp_")]

    def child(ctx: WorkerContext) -> int:
        try:
            return eventloop.run(run(cfg, path, worker=ctx))  # uvloop where installed
        except START_ERRORS as exc:
            return startup_error(path, exc)

    try:
        return run_workers(workers, child, name="anp", metrics_dir=directory, metrics=endpoints)
    except OSError as exc:  # the parent's metrics port in use
        return startup_error(path, exc)


async def run(cfg: AnpConfig, path: Path | None = None, ready: asyncio.Event | None = None,
              stop: asyncio.Event | None = None, on_server: Callable[[AnpServer], None] | None = None,
              worker: WorkerContext | None = None) -> int:
    """Serve ``cfg`` until ``stop`` is set or SIGTERM/SIGINT arrives; ``worker``: as pre-fork worker
    ``worker.index`` (SO_REUSEPORT, its own spool, no metrics endpoint of its own: the parent's)."""
    from tsunagaru.anp.registry_clients import install_into, registry_follower
    from tsunagaru.anp.spool import adopt_orphans
    from tsunagaru.anp.wiring import build_ap_context, build_server

    for warning in cfg.warnings:
        logs.event(log, "configuration warning", logging.WARNING, detail=warning)
    follower = registry_follower(cfg)  # anp.clients_db: the registry's APs, followed live (each worker too)
    if follower is not None:
        cfg = follower.merged()
    index = None if worker is None else worker.index
    server = build_server(cfg, worker=index, workers=1 if worker is None else worker.count)
    shared = worker is not None
    refresher: asyncio.Task[None] | None = None
    try:
        adopted = adopt_orphans(server.spool, Path(cfg.spool), index, 1 if worker is None else worker.count)
        if adopted:
            logs.event(log, "orphaned accounting adopted", logging.WARNING, records=adopted)
        await server.listen(cfg.auth.host, cfg.auth.port, cfg.acct.port, reuse_port=shared)
        if cfg.radsec is not None:
            await server.listen_radsec(cfg.radsec.host, cfg.radsec.port, build_ap_context(cfg), reuse_port=shared)
        if cfg.metrics is not None and not shared:
            from prometheus_client import start_http_server

            start_http_server(cfg.metrics.port, cfg.metrics.host, registry=server.metrics.registry)
        if shared and gauges.multiprocess_on():
            refresher = asyncio.create_task(gauges.refresh_every())
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
                if follower is not None:
                    new = follower.merged(new)
                install_into(server, new)
            except Exception as exc:  # never out of the signal callback: the proxy keeps serving
                log.error("reload refused, keeping the running configuration: %s", exc)
                return
            for warning in new.warnings:
                logs.event(log, "configuration warning", logging.WARNING, detail=warning)
            logs.event(log, "configuration reloaded", clients=len(new.clients), routes=len(new.routes))

        loop.add_signal_handler(signal.SIGHUP, reload)
    if follower is not None:
        follower.start(loop, lambda new: install_into(server, new))
    logs.event(log, "anp listening", auth=f"{cfg.auth.host}:{cfg.auth.port}", acct=f"{cfg.acct.host}:{cfg.acct.port}",
               worker=index)
    heap.settle()
    if ready is not None:
        ready.set()
    if worker is not None:
        worker.ready()
    await stop.wait()
    if follower is not None:
        await stop_in_thread("anp-registry", follower.stop, 12.0)  # not the default executor (joined at exit)
    await server.close()
    if refresher is not None:
        refresher.cancel()
        gauges.refresh()
    return 0
