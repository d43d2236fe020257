"""`tsunagaru idp serve --config idp.toml`: run the IdP (RadSec and/or RADIUS/UDP) until SIGTERM/SIGINT,
and `idp check-config`, which does everything `serve` does short of binding ports.

This module is the one place that assembles the IdP: `idp serve`, `tsunagaru serve --idp` and the demo
(:mod:`tsunagaru.stack`, from the ``idp.toml`` the demo writes) all call :func:`prepare` and
:func:`start`. Every start-up problem is one line on stderr and exit status 2, never a traceback. The
process logs one JSON line ``idp listening`` once every listener is bound, so supervisors and tests can
wait for it; on SIGTERM it stops reading, answers what is in flight (up to 5 s) and exits 0.

``idp serve --workers N`` (N > 1) forks N workers (:mod:`tsunagaru.net.workers`), each this same IdP
with its listeners bound with SO_REUSEPORT: an EAP conversation over UDP keeps its 4-tuple and so its
worker (the one holding its TLS state), and a RadSec connection stays with the worker that accepted it.
The parent passes SIGTERM on, restarts a worker that dies (with back-off), logs ``workers ready`` once
all listen, and serves ``/metrics`` as the sum of the workers (multiprocess files in ``idp-metrics/``
beside the log key, 0700, emptied at start).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import signal
import ssl
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509

from tsunagaru import heap, logs
from tsunagaru.idp.config import IdpConfig, load
from tsunagaru.shutdown import stop_in_thread
from tsunagaru.tomlconf import ConfigError, Listen, load_or_report

if TYPE_CHECKING:
    from tsunagaru.net.workers import WorkerContext

log = logging.getLogger("tsunagaru.idp")


class StartError(Exception):
    """The IdP cannot start as configured (one line: what and why)."""


def register(idp_subparsers: Any) -> None:
    """Add ``idp serve`` and ``idp check-config``."""
    serve = idp_subparsers.add_parser("serve", help="run the IdP's RADIUS/RadSec service")
    serve.add_argument("--config", "-c", type=Path, required=True, help="the IdP's TOML file")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--workers", type=_workers_count, default=1, metavar="N",
                       help="pre-fork worker processes sharing the ports with SO_REUSEPORT (default 1: no fork)")
    serve.set_defaults(func=cmd_serve)
    check = idp_subparsers.add_parser("check-config", help="check the IdP's TOML file as `idp serve` would start")
    check.add_argument("config", type=Path)
    check.set_defaults(func=cmd_check)


@dataclass
class Prepared:
    """Everything opened and loaded for a start, nothing bound yet."""

    cfg: IdpConfig
    store: Any  # tsunagaru.store.Store (imported lazily: check-config of a bad file stays fast)
    eap_certificate: x509.Certificate
    radsec_certificate: x509.Certificate | None

    def dispose(self) -> None:
        self.store.dispose()


def prepare(cfg: IdpConfig) -> Prepared:
    """Open the database, load the EAP certificate and key, the RadSec certificate, key and roots, and the
    log key: what `serve` needs before it binds. Raises :class:`StartError`."""
    from tsunagaru.eap.tls_engine import TlsConfigError, load_server_contexts
    from tsunagaru.idp.service import eap_tls_config
    from tsunagaru.radsec import server_context
    from tsunagaru.store import Store, StoreError

    try:
        eap_cert = load_server_contexts(eap_tls_config(cfg.settings))
    except TlsConfigError as exc:
        raise StartError(str(exc)) from None
    radsec_cert = None
    if cfg.radsec is not None:
        r = cfg.radsec
        try:
            ctx = server_context(certfile=r.certificate, keyfile=r.key, cafile=r.roots[0])
            for extra in r.roots[1:]:
                ctx.load_verify_locations(cafile=str(extra))
            radsec_cert = x509.load_pem_x509_certificate(r.certificate.read_bytes())
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise StartError(f"radsec certificate {r.certificate} / key {r.key} / roots: {_why(exc)}") from None
    try:
        logs.use_key_file(cfg.log_key_file)
    except (OSError, ValueError) as exc:
        raise StartError(f"idp.log_key_file {cfg.log_key_file}: {_why(exc)}") from None
    try:
        store = Store.open(cfg.db_url)
    except StoreError as exc:
        raise StartError(f"idp.db: {exc}") from None
    except Exception as exc:
        raise StartError(f"idp.db: cannot open the database: {type(exc).__name__}: {_why(exc)}") from None
    return Prepared(cfg, store, eap_cert, radsec_cert)


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}" + (f" ({exc.filename})" if exc.filename else "")
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]


@dataclass
class RunningIdp:
    """A started IdP: its server (listeners, queues, metrics), the store, the metrics HTTP server."""

    server: Any  # tsunagaru.idp.server.IdpServer
    prepared: Prepared
    metrics_http: Any = None
    changes: Any = None  # tsunagaru.store.changes.ChangeFeed: cached credentials forgotten on a change

    async def close(self, drain: float = 5.0) -> None:
        """Stop following changes, drain the server (``drain`` s), stop the metrics endpoint; each blocking
        stop in a bounded daemon thread (:mod:`tsunagaru.shutdown`)."""
        if self.changes is not None:
            await stop_in_thread("idp-changes", self.changes.stop, 6.0)  # joins for 5 s at most
        try:
            await self.server.close(drain)
        finally:
            if self.metrics_http is not None:
                await stop_in_thread("idp-metrics", functools.partial(stop_metrics, self.metrics_http), 3.0)
            self.prepared.dispose()


def _workers_count(text: str) -> int:
    from tsunagaru.anp.cli import workers_count

    return workers_count(text)


def metrics_dir(cfg: IdpConfig) -> Path:
    """prometheus_client's multiprocess directory of an IdP with workers: beside its log key."""
    return cfg.log_key_file.parent / "idp-metrics"


async def start(prepared: Prepared, *, shared: bool = False) -> RunningIdp:
    """Build the core and its adapter and bind every listener (and the metrics endpoint, unless
    ``shared``: a pre-fork worker binds with SO_REUSEPORT and the parent serves the metrics)."""
    from tsunagaru.idp.metrics import IdpMetrics
    from tsunagaru.idp.server import IdpServer
    from tsunagaru.idp.service import IdpCore, build_eap_handler
    from tsunagaru.idp.store import SqlCredentialStore

    cfg = prepared.cfg
    metrics = IdpMetrics()
    metrics.certificate("eap", prepared.eap_certificate.not_valid_after_utc)
    if prepared.radsec_certificate is not None:
        metrics.certificate("radsec", prepared.radsec_certificate.not_valid_after_utc)
    credentials = SqlCredentialStore(prepared.store, cache_ttl=cfg.cache_ttl)
    udp_secret = cfg.udp.secret if cfg.udp is not None else b"radsec"
    eap = build_eap_handler(cfg.settings, credentials, udp_secret, on_outcome=metrics.finished)
    server = IdpServer(IdpCore(cfg.settings, eap), credentials, prepared.store, metrics=metrics)
    running = RunningIdp(server, prepared)
    try:
        running.changes = await asyncio.to_thread(credentials.follow_changes)
        await server.start(cfg.radsec, cfg.udp, reuse_port=shared)
        if cfg.metrics is not None and not shared:
            running.metrics_http = serve_metrics(cfg.metrics, metrics.registry)
    except BaseException:
        await running.close(drain=0)
        raise
    return running


def serve_metrics(where: Listen, registry: Any) -> Any:
    """Prometheus /metrics on ``where`` in a thread; returns the HTTP server (``shutdown`` stops it)."""
    from prometheus_client import start_http_server

    httpd, _thread = start_http_server(where.port, where.host, registry=registry)
    return httpd


def stop_metrics(httpd: Any) -> None:
    """Stop a :func:`serve_metrics` server: ``shutdown`` waits for its loop (0.5 s polls), then close."""
    httpd.shutdown()
    httpd.server_close()


def cmd_check(args: argparse.Namespace) -> int:
    cfg = load_or_report(load, args.config)
    if cfg is None:
        return 2
    try:
        prepare(cfg).dispose()
    except StartError as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
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
    if args.workers > 1:
        return run_forked(cfg, args.workers)
    return _run_reporting(cfg)


def _run_reporting(cfg: IdpConfig, worker: WorkerContext | None = None) -> int:
    try:
        return asyncio.run(run(cfg, worker=worker))
    except (StartError, OSError, ConfigError) as exc:  # a port in use, an unreadable certificate: one line
        print(f"tsunagaru idp serve: {_why(exc) if isinstance(exc, OSError) else exc}", file=sys.stderr)
        return 2


def run_forked(cfg: IdpConfig, workers: int) -> int:
    """``workers`` pre-fork IdP processes; the parent supervises them and serves the summed metrics."""
    from tsunagaru.net.workers import MetricsEndpoint, run_workers, use_multiprocess_metrics

    directory = use_multiprocess_metrics(metrics_dir(cfg)) if cfg.metrics is not None else None
    endpoints = [] if cfg.metrics is None else [MetricsEndpoint(cfg.metrics.host, cfg.metrics.port, "tsunagaru_idp_")]
    try:
        return run_workers(workers, lambda ctx: _run_reporting(cfg, ctx), name="idp", metrics_dir=directory,
                           metrics=endpoints)
    except OSError as exc:  # the parent's metrics port in use
        print(f"tsunagaru idp serve: {_why(exc)}", file=sys.stderr)
        return 2


async def run(cfg: IdpConfig, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None,
              worker: WorkerContext | None = None) -> int:
    """Serve ``cfg`` until ``stop`` is set (or SIGTERM/SIGINT arrives), then drain and return 0;
    ``worker``: as a pre-fork worker (SO_REUSEPORT, function gauges refreshed, readiness told)."""
    from tsunagaru.net import gauges

    running = await start(prepare(cfg), shared=worker is not None)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
    logs.event(log, "idp listening", realms=",".join(cfg.realms),
               radsec=f"{cfg.radsec.host}:{cfg.radsec.port}" if cfg.radsec else None,
               udp=f"{cfg.udp.host}:{cfg.udp.port}" if cfg.udp else None,
               metrics=f"{cfg.metrics.host}:{cfg.metrics.port}" if cfg.metrics else None,
               worker=None if worker is None else worker.index)
    heap.settle()
    refresher = None
    if worker is not None and gauges.multiprocess_on():
        refresher = asyncio.create_task(gauges.refresh_every())
    if ready is not None:
        ready.set()
    if worker is not None:
        worker.ready()
    await stop.wait()
    logs.event(log, "idp stopping", at=datetime.now(UTC).isoformat())
    if refresher is not None:
        refresher.cancel()
    await running.close()
    logs.event(log, "idp stopped")
    return 0

