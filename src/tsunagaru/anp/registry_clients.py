"""The ANP's RADIUS clients straight from the registry's store, followed live (``anp.clients_db``).

Chosen over the exported file (``tsunagaru sites anp-export`` + ``clients_files`` + SIGHUP) for a
city with several ANP machines: every node reads the one PostgreSQL (or a replica), so no file has to
be copied and no process on another machine signalled. Each node follows the ``clients`` change
counter (:mod:`tsunagaru.store.changes`: NOTIFY on PostgreSQL, with ``clients_poll`` seconds of
polling as the fallback, polling only on SQLite) and reloads when it moves; it also reloads by itself
at the next incident boundary (a scheduled start or an end: time changes the clients, no row does).

A reload is bounded and never takes the running clients away: the whole set is read in one
transaction off the event loop; a row that does not make a valid client (an unparsable network or a
secret reference that resolves to nothing) is left out with a warning naming the AP, the others load;
a store that cannot be read keeps the clients loaded last; more than :data:`MAX_CLIENTS` rows refuse
the reload. The registry's clients are added to those of the configuration file (whose names win).
Secrets are by reference (``file:NAME`` under ``anp.clients_secrets``), as in the registry.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tsunagaru import logs
from tsunagaru.anp.clients import Client
from tsunagaru.anp.config import AnpConfig
from tsunagaru.sites.anp_export import INCIDENT_BURST, INCIDENT_RATE, ClientEntry, SecretStore, collect
from tsunagaru.store import Store
from tsunagaru.store.change_tables import CLIENTS
from tsunagaru.store.changes import ChangeFeed

log = logging.getLogger("tsunagaru.anp.registry")

MAX_CLIENTS = 200_000  # 3,000+ sites with a few APs each; a runaway table must not eat the proxy's memory
SETTLE = 0.3  # seconds: changes arriving together (an import, an incident's APs) make one reload
DEFAULT_RATE, DEFAULT_BURST = 200.0, 400


class ReloadRefused(Exception):
    """The registry could not give a client set this time; the running clients stay."""


def client_of(entry: ClientEntry) -> Client:
    """The ANP's client for one registry AP; ValueError when the row cannot make one."""
    network = ipaddress.ip_network(entry.network, strict=False)
    pattern = re.compile(re.escape(entry.nas_identifier)) if entry.nas_identifier else None
    rate, burst = (float(INCIDENT_RATE), INCIDENT_BURST) if entry.in_incident else (DEFAULT_RATE, DEFAULT_BURST)
    location = None
    if entry.location_information is not None:
        location = (entry.location_information, entry.location_data)
    until = None if entry.disaster_until is None else _epoch(entry.disaster_until)
    return Client(entry.name, network, entry.secret.encode(), True, pattern, rate, burst, entry.site, location,
                  None, until)


def _epoch(when: datetime) -> float:
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def next_boundary(store: Store, now: datetime) -> datetime | None:
    """The next time an incident starts or ends (approved incidents): the clients change then by themselves."""
    from sqlalchemy import func, select

    from tsunagaru.store.incident_tables import IncidentRow

    with store.session() as session:
        starts = session.scalar(select(func.min(IncidentRow.starts_at)).where(
            IncidentRow.status == "approved", IncidentRow.starts_at > now))
        ends = session.scalar(select(func.min(IncidentRow.ends_at)).where(
            IncidentRow.status == "approved", IncidentRow.ends_at > now))
    found = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in (starts, ends) if t is not None]
    return min(found) if found else None


def load_clients(store: Store, secrets: Path, now: datetime) -> tuple[tuple[Client, ...], list[str]]:
    """Every registry AP that makes a client, and why the others do not (AP ids, never secrets)."""
    try:
        with store.session() as session:
            entries, skipped = collect(session, SecretStore(secrets), now)
    except Exception as exc:
        raise ReloadRefused(f"the registry could not be read ({type(exc).__name__}: {exc})") from exc
    if len(entries) > MAX_CLIENTS:
        raise ReloadRefused(f"{len(entries)} clients in the registry, more than {MAX_CLIENTS}")
    clients = []
    for entry in entries:
        try:
            clients.append(client_of(entry))
        except (ValueError, re.error) as exc:
            skipped.append(f"{entry.name}: {exc}")
    return tuple(clients), skipped


class RegistryFollower:
    """Keeps ``base`` (the file's configuration) plus the registry's clients installed in a running ANP.

    ``install(cfg)`` swaps the ANP's clients (called on the event loop). :meth:`load_now` is the
    blocking first load before the ANP listens; :meth:`start` follows changes from a thread.
    """

    def __init__(self, base: AnpConfig, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if base.clients_db is None:
            raise ValueError("anp.clients_db is not set")
        self.base = base
        self.clock = clock
        self.store = Store.open(base.clients_db, create=False)
        self.secrets = base.clients_secrets or Path(".")
        self.clients: tuple[Client, ...] = ()
        self.loaded = False
        self.reloads = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._feed: ChangeFeed | None = None
        self._thread: threading.Thread | None = None
        self._boundary: datetime | None = None

    def merged(self, base: AnpConfig | None = None) -> AnpConfig:
        """``base`` (default: the last file configuration) with the registry's clients after its own."""
        if base is not None:
            self.base = base
        own = {c.name for c in self.base.clients}
        extra = tuple(c for c in self.clients if c.name not in own)
        return dataclasses.replace(self.base, clients=self.base.clients + extra)

    def load_now(self) -> bool:
        """Read the registry once (blocking); False (logged) when it could not be read: static clients only."""
        now = self.clock()
        try:
            clients, skipped = load_clients(self.store, self.secrets, now)
            self._boundary = next_boundary(self.store, now)
        except ReloadRefused as exc:
            logs.event(log, "registry clients not loaded, keeping the running ones", logging.ERROR, detail=str(exc))
            return False
        except Exception as exc:
            logs.event(log, "registry clients not loaded, keeping the running ones", logging.ERROR,
                       detail=type(exc).__name__)
            return False
        for reason in skipped[:20]:
            logs.event(log, "registry AP not served", logging.WARNING, detail=reason)
        if len(skipped) > 20:
            logs.event(log, "registry APs not served", logging.WARNING, more=len(skipped) - 20)
        self.clients, self.loaded = clients, True
        return True

    def start(self, loop: asyncio.AbstractEventLoop, install: Callable[[AnpConfig], None]) -> None:
        """Follow the ``clients`` counter; each successful load is installed on ``loop``."""
        def on_change(_topic: str) -> None:
            self._wake.set()

        def run() -> None:
            while not self._stop.is_set():
                woke = self._wake.wait(self._until_boundary())
                if self._stop.is_set():
                    return
                if not woke and (self._boundary is None or self.clock() < self._boundary):
                    continue
                self._stop.wait(SETTLE)
                self._wake.clear()
                started = time.monotonic()
                if self.load_now():
                    self.reloads += 1
                    count, took = len(self.clients), time.monotonic() - started
                    loop.call_soon_threadsafe(self._install, install, count, took)
                else:
                    self._stop.wait(1.0)

        self._feed = ChangeFeed(self.store.engine, on_change, (CLIENTS,), poll=self.base.clients_poll,
                                name="anp registry clients")
        self._feed.start()
        self._thread = threading.Thread(target=run, name="tsunagaru-anp-registry", daemon=True)
        self._thread.start()

    def _until_boundary(self) -> float:
        """Seconds to wait for a change: until just after the next incident boundary, else a long while."""
        if self._boundary is None:
            return 3600.0
        return min(3600.0, max(0.0, (self._boundary - self.clock()).total_seconds()) + 0.2)

    def _install(self, install: Callable[[AnpConfig], None], count: int, took: float) -> None:
        try:
            install(self.merged())
        except Exception as exc:  # never out of a loop callback: the proxy keeps serving
            logs.event(log, "registry reload refused, keeping the running clients", logging.ERROR,
                       detail=f"{type(exc).__name__}: {exc}")
            return
        logs.event(log, "registry clients reloaded", clients=count, seconds=round(took, 3))

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._feed is not None:
            self._feed.stop()
        if self._thread is not None:
            self._thread.join(5)
        self.store.dispose()


def install_into(server: object, cfg: AnpConfig) -> None:
    """Swap a running ANP server's clients, routes and realm lists for those of ``cfg`` (a reload)."""
    from tsunagaru.anp.server import AnpServer
    from tsunagaru.anp.wiring import ClientLookup, build_core

    assert isinstance(server, AnpServer)
    core = build_core(cfg)
    core.admitter = server.core.admitter  # keep duplicate detection; rates follow the new clients
    server.core = core  # requests in flight keep the objects they started with
    server.ap_client = ClientLookup(core.clients)


def registry_follower(cfg: AnpConfig) -> RegistryFollower | None:
    """A follower with its first load done (blocking, before the ANP listens), or None without ``clients_db``."""
    if cfg.clients_db is None:
        return None
    follower = RegistryFollower(cfg)
    follower.load_now()
    return follower
