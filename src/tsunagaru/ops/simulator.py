"""The demo's traffic simulator: virtual APs (each on its own 127.2.x.y) sending real RADIUS to the ANP on 127.0.0.1.

Each virtual AP is a registry AP (created for sites that have none, marked ``platform="other"`` and named
``sim-N``) that, every ``period`` seconds, sends to the ANP's ports, with the demo NAS secret and its own
NAS-Identifier: a Status-Server, the accounting of its current session (Interim; Stop before the next
login), and every tenth round a PAP login of a demo user that starts a new session (Start). Bounded: at
most ``MAX_APS`` APs, ``MAX_SECONDS`` of running time and ``rounds`` rounds, one request in flight per AP
and a 2 s timeout; it refuses any address but 127.0.0.1.

The demo's ANP records per-AP activity itself (``[anp] activity_db``; keyed ``ap-ID``, the client the
registry exports for each virtual AP) and the web app's jobs refresh the hourly usage
(:mod:`tsunagaru.ops.jobs`), so the demo runs the simulator with ``record=False``. ``record=True`` (tests
and benches without an ANP that records) keeps what the virtual APs saw through the same pure accumulator
and SQL writer, keyed ``ap-ID``, and refreshes the hours it touched. Sessions carry only keyed hashes, as
the ANP's do.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from tsunagaru.ops.activity import Accumulator, Event, IdentityHasher, Kind
from tsunagaru.ops.usage import Placement
from tsunagaru.radius.auth import sign_request
from tsunagaru.radius.codes import Code
from tsunagaru.radius.hiding import hide_user_password
from tsunagaru.radius.packet import Packet
from tsunagaru.store import Store
from tsunagaru.store.ops_writer import SqlActivityWriter, refresh_hours
from tsunagaru.store.registry_tables import AccessPoint, Site

log = logging.getLogger("tsunagaru.ops.simulator")

MAX_APS = 2_000
MAX_SECONDS = 24 * 3600.0
LOOPBACK = "127.0.0.1"
USER_NAME, USER_PASSWORD, NAS_IDENTIFIER, NAS_IP, ACCT_STATUS, ACCT_SESSION_ID = 1, 2, 32, 4, 40, 44
ACCT_IN, ACCT_OUT, ACCT_TIME = 42, 43, 46
LOGIN_EVERY = 10  # rounds: 500 APs every 30 s make ~1.7 logins/s


@dataclass(frozen=True, slots=True)
class SimConfig:
    host: str = LOOPBACK
    auth_port: int = 1812
    acct_port: int = 1813
    secret: bytes = b"testing123"
    users: tuple[tuple[str, str], ...] = (("alice@idp.tsunagaru.test", "alice-password"),)
    aps: int = 500
    period: float = 30.0  # seconds between one AP's rounds
    rounds: int = 10_000
    seconds: float = 3600.0
    record: bool = True

    def __post_init__(self) -> None:
        if self.host != LOOPBACK:
            raise ValueError("the simulator sends to 127.0.0.1 only")
        if not 1 <= self.aps <= MAX_APS or not 0 < self.seconds <= MAX_SECONDS or self.rounds < 1:
            raise ValueError(f"aps 1-{MAX_APS}, seconds up to {MAX_SECONDS:.0f}, rounds >= 1")


SECRET_REF = "file:nas-secret"  # the demo's NAS secret by reference (tsunagaru.sites.demo_seed.SECRET_NAME)


def source_address(ap_id: int) -> str:
    """The loopback address a virtual AP sends from: its own, registered as its RADIUS client (127.2.x.y)."""
    return f"127.{2 + (ap_id >> 16) % 200}.{(ap_id >> 8) & 255}.{ap_id & 255}"


def _register_sources(db: Any, ap_ids: Iterable[int]) -> None:
    """Give virtual APs made before they had addresses (an older demo state) their client identity."""
    for ap_id in ap_ids:
        db.execute(update(AccessPoint).where(AccessPoint.id == ap_id, AccessPoint.nas_network.is_(None))
                   .values(nas_network=f"{source_address(ap_id)}/32", secret_ref=SECRET_REF))


def virtual_aps(store: Store, count: int, now: datetime) -> dict[int, Placement]:
    """Registry APs for the simulator (``sim-N`` on sites without an AP, created once): id -> placement.
    Each is a RADIUS client of the ANP on its own address (:func:`source_address`) with the demo secret."""
    with store.session() as db:
        have = {ap_id: site for ap_id, site in db.execute(
            select(AccessPoint.id, AccessPoint.site_id).where(AccessPoint.name.like("sim-%")).limit(count))}
        if len(have) < count:
            used = set(db.scalars(select(AccessPoint.site_id)))
            free = [s for s in db.scalars(select(Site.id).where(Site.state == "active", Site.lat.is_not(None))
                                          .order_by(Site.id)) if s not in used][:count - len(have)]
            if free:
                db.execute(insert(AccessPoint), [
                    {"site_id": s, "name": f"sim-{s}", "platform": "other", "radios": [{"band": "2g"}], "bssids": [],
                     "nas_identifier": f"sim-{s}", "state": "active", "created_at": now, "updated_at": now}
                    for s in free])
            have = {ap_id: site for ap_id, site in db.execute(
                select(AccessPoint.id, AccessPoint.site_id).where(AccessPoint.name.like("sim-%")).limit(count))}
        _register_sources(db, have)
        sites = {sid: (code, org) for sid, code, org in db.execute(
            select(Site.id, Site.municipality_code, Site.operator_id).where(Site.id.in_(list(have.values()))))}
    return {ap: Placement(str(site), sites[site][0] or "", str(sites[site][1] or sites[site][0] or "city"))
            for ap, site in have.items()}


def _settle(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class _Exchange(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future[bytes]] = {}

    def datagram_received(self, data: bytes, addr: object) -> None:
        if len(data) >= 2:
            fut = self.waiting.pop(data[1], None)
            if fut is not None and not fut.done():
                fut.set_result(data)


@dataclass
class Stats:
    sent: int = 0
    answered: int = 0
    accepted: int = 0
    rejected: int = 0
    timeouts: int = 0
    rows: int = field(default=0)


class Simulator:
    def __init__(self, store: Store, config: SimConfig) -> None:
        self.store, self.c = store, config
        self.acc = Accumulator()
        self.hasher = IdentityHasher(os.urandom(32))
        self.stats = Stats()
        self.sessions: dict[int, int] = {}  # AP -> round its session began (-1: none)

    async def _ask(self, port: int, packet: Packet, source: str = LOOPBACK) -> Packet | None:
        loop = asyncio.get_running_loop()
        transport, proto = await loop.create_datagram_endpoint(_Exchange, remote_addr=(self.c.host, port),
                                                               local_addr=(source, 0), family=socket.AF_INET)
        try:
            fut: asyncio.Future[bytes] = loop.create_future()
            proto.waiting[packet.identifier] = fut
            transport.sendto(packet.to_bytes())
            self.stats.sent += 1
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns a reply that came in the same
                # loop turn as a cancellation and swallows the cancellation; that AP then went on sending
                # for hours and the demo never exited after SIGTERM (DemoTraffic.close waited for it)
                async with asyncio.timeout(2.0):
                    data = await fut
            except TimeoutError:
                self.stats.timeouts += 1
                return None
            self.stats.answered += 1
            return Packet.from_bytes(data)
        finally:
            transport.close()

    def _note(self, event: Event) -> None:
        if self.c.record:  # else the ANP records it: nothing kept here, nothing to grow
            self.acc.add(event)

    def _request(self, code: int, attrs: list[tuple[int, bytes]]) -> Packet:
        return sign_request(Packet(code, random.randrange(256), attributes=tuple(attrs)), self.c.secret)

    async def _round(self, ap_id: int, n: int) -> None:
        """Status-Server every round; a login every ``LOGIN_EVERY`` rounds (password checks are the IdP's
        costly part), then that session's Start, Interims and Stop in the rounds that follow."""
        key, nas, source = f"ap-{ap_id}", f"sim-{ap_id}".encode(), source_address(ap_id)
        base = [(NAS_IDENTIFIER, nas), (NAS_IP, socket.inet_aton(source))]
        await self._ask(self.c.auth_port, self._request(Code.STATUS_SERVER, base), source)
        self._note(Event(key, time.time(), Kind.STATUS))
        user, password = self.c.users[(ap_id + n) % len(self.c.users)]
        realm = user.rpartition("@")[2]
        phase = (n + ap_id) % LOGIN_EVERY
        if phase == 0:
            vector = os.urandom(16)
            login = Packet(Code.ACCESS_REQUEST, random.randrange(256), vector, tuple(
                [(USER_NAME, user.encode()),
                 (USER_PASSWORD, hide_user_password(password.encode(), self.c.secret, vector)), *base]))
            reply = await self._ask(self.c.auth_port, sign_request(login, self.c.secret), source)
            accepted = reply is not None and reply.code == Code.ACCESS_ACCEPT
            self.stats.accepted += accepted
            self.stats.rejected += reply is not None and not accepted
            if reply is not None:
                self._note(Event(key, time.time(), Kind.ACCEPT if accepted else Kind.REJECT, realm=realm))
            self.sessions[ap_id] = n if accepted else -1
            status, seconds = 1, 0
        elif self.sessions.get(ap_id, -1) >= 0:
            status = 2 if phase == LOGIN_EVERY - 1 else 3
            seconds = int((n - self.sessions[ap_id]) * self.c.period)
        else:
            return
        session = f"{ap_id}-{self.sessions[ap_id]}".encode()
        octets = 40_000 * (seconds // 30 + 1)
        uid, skey = self.hasher.user_id(None, user.encode()), self.hasher.session_key(key, session)
        attrs = [*base, (USER_NAME, user.encode()), (ACCT_STATUS, status.to_bytes(4, "big")),
                 (ACCT_SESSION_ID, session), (ACCT_IN, (octets // 9).to_bytes(4, "big")),
                 (ACCT_OUT, octets.to_bytes(4, "big")), (ACCT_TIME, seconds.to_bytes(4, "big"))]
        if await self._ask(self.c.acct_port, self._request(Code.ACCOUNTING_REQUEST, attrs), source) is not None:
            self._note(Event(key, time.time(), Kind.ACCOUNTING, acct_status=status, octets_in=octets // 9,
                               octets_out=octets, session_time_s=seconds, realm=realm, session_key=skey, user_id=uid))
        if status == 2:
            self.sessions[ap_id] = -1

    async def _ap(self, ap_id: int, stop_at: float) -> None:
        # spread the first round over 15 s: 500 APs at once would be a burst of 2,500 requests
        await asyncio.sleep(random.uniform(0, min(self.c.period, 15.0)))
        for n in range(self.c.rounds):
            if time.monotonic() >= stop_at:
                return
            try:
                await self._round(ap_id, n)
            except OSError as exc:
                log.warning("simulated AP %s: %s", ap_id, exc)
            await asyncio.sleep(self.c.period * random.uniform(0.8, 1.2))

    def flush(self, placements: dict[int, Placement], force: bool = False) -> None:
        if not self.c.record:
            return
        writer = SqlActivityWriter(self.store)
        hours: set[datetime] = set()  # only the hours this flush touched: each refresh re-reads an hour's sessions
        for batch in self.acc.take(time.time(), force=force):
            stats = writer.write(batch)
            self.stats.rows += stats.activity_rows
            hours.add(datetime.fromtimestamp(batch.interval_start - batch.interval_start % 3600, UTC))
        if hours:
            refresh_hours(self.store, hours, {f"ap-{a}": p for a, p in placements.items()})

    async def _flush_off_loop(self, placements: dict[int, Placement]) -> None:
        """The store's writes in a daemon thread: off the event loop, and never holding up the demo's exit
        (a flush cut short by the process ending is a rolled-back transaction of demo activity)."""
        done = asyncio.get_running_loop().create_future()

        def work() -> None:
            try:
                self.flush(placements, True)
            except Exception:  # a write that failed (database busy...) is logged; the next flush retries
                log.exception("simulator flush failed")
            finally:
                done.get_loop().call_soon_threadsafe(_settle, done)

        threading.Thread(target=work, name="simulator-flush", daemon=True).start()
        await done

    async def run(self, placements: dict[int, Placement], flush_every: float = 20.0) -> Stats:
        stop_at = time.monotonic() + self.c.seconds
        tasks = [asyncio.create_task(self._ap(ap, stop_at)) for ap in placements]
        try:
            while not all(t.done() for t in tasks):
                await asyncio.sleep(min(flush_every, max(0.1, stop_at - time.monotonic())))
                await self._flush_off_loop(placements)
        finally:  # stopped (cancelled by the demo) or done: no last flush, so a stop is prompt
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self.stats


async def start(store: Store, config: SimConfig) -> tuple[Simulator, asyncio.Task[Stats]]:
    """The demo's entry: virtual APs made (or found) in the registry, then the traffic as a task."""
    placements = await asyncio.to_thread(virtual_aps, store, config.aps, datetime.now(UTC))
    sim = Simulator(store, config)
    log.info("traffic simulator: %d virtual APs to %s:%d/%d", len(placements), config.host, config.auth_port,
             config.acct_port)
    return sim, asyncio.create_task(sim.run(placements))


@dataclass
class DemoTraffic:
    simulator: Simulator
    task: asyncio.Task[Stats]
    store: Store

    async def close(self, bound: float = 4.0) -> None:
        """Stop the traffic (waiting at most ``bound`` s for the virtual APs to end); a flush already running
        in its thread finishes (bounded: one interval's rows)."""
        self.task.cancel()
        try:
            async with asyncio.timeout(bound):
                await asyncio.gather(self.task, return_exceptions=True)
        except TimeoutError:
            log.warning("traffic simulator still running %.0f s after it was cancelled", bound)
        finally:
            self.store.dispose()


async def start_demo_traffic(db_url: str, host: str, auth_port: int, acct_port: int, aps: int = 500,
                             seconds: float = 8 * 3600.0) -> DemoTraffic:
    """What ``tsunagaru demo`` runs unless ``--no-sim``: 500 virtual APs, a round every 30 s, 8 h at most."""
    store = await asyncio.to_thread(Store.open, db_url)
    config = SimConfig(host=host, auth_port=auth_port, acct_port=acct_port, aps=aps, period=30.0, seconds=seconds,
                       record=False)  # the demo ANP records the activity (anp.activity_db)
    sim, task = await start(store, config)
    return DemoTraffic(sim, task, store)
