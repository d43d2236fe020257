"""The ANP proxy's asyncio adapter: UDP listeners, forwarding tasks, the accounting forwarder, reload.

All decisions are the core's (:mod:`tsunagaru.anp.core`); this module moves bytes, keeps time, and
counts. Replies go back from the socket the request came in on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import ssl
import time
from dataclasses import dataclass, field, replace

from tsunagaru import logs
from tsunagaru.anp.core import AnpCore, Forward, Ignore, Reply, SpoolAccounting
from tsunagaru.anp.decorate import Decoration
from tsunagaru.anp.metrics import AnpMetrics
from tsunagaru.anp.routing import PeerAddress, UseStatic
from tsunagaru.anp.spool import AccountingSpool, SpooledRecord
from tsunagaru.anp.upstream import PeerFinder, Transport, UpstreamError, deliver
from tsunagaru.logs import redact
from tsunagaru.net.datagram import DatagramSocket
from tsunagaru.radius import Code, Packet, code_name
from tsunagaru.radius.packet import MESSAGE_AUTHENTICATOR, OPERATOR_NAME, PROXY_STATE
from tsunagaru.radius.reasons import RejectReason
from tsunagaru.radsec import RADSEC_SECRET, PeerInfo, RadSecServer

log = logging.getLogger("tsunagaru.anp")
ACCT_DELAY_TIME = 41
GAUGE_INTERVAL = 1.0  # seconds between peer_up refreshes of one peer while requests succeed


@dataclass
class AnpServer:
    core: AnpCore
    transport: Transport
    finder: PeerFinder
    spool: AccountingSpool
    request_timeout: float = 4.0
    metrics: AnpMetrics = field(default_factory=AnpMetrics)
    access_log: logs.AccessLog = field(default_factory=lambda: logs.AccessLog(log))
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Each listener drains the datagrams already queued on a wake-up (tsunagaru.net.datagram), so their
    # upstream requests leave in one RadSec write: one TLS send instead of one per request.
    _sockets: list[DatagramSocket] = field(default_factory=list)
    _acct_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    _forwarder: asyncio.Task[None] | None = None
    _radsec: RadSecServer | None = None
    _inflight: set[int] = field(default_factory=set)  # spool ids being forwarded: never sent twice at once
    _gauged: dict[PeerAddress, float] = field(default_factory=dict)  # peer -> when peer_up was last set

    async def listen(self, host: str, auth_port: int, acct_port: int) -> None:
        for port in (auth_port, acct_port):
            sock = await DatagramSocket.bind(host, port, lambda data, addr: None)
            sock.on_datagram = functools.partial(self.on_datagram, sock)  # set before the loop reads anything
            self._sockets.append(sock)
        self._forwarder = asyncio.create_task(self._accounting_forwarder())

    async def listen_radsec(self, host: str, port: int, ssl_context: ssl.SSLContext) -> int:
        """RadSec from access points that can do it (RFC 6614); the AP is found by its address."""
        self._radsec = RadSecServer(self._radsec_request, ssl_context)
        return await self._radsec.start(host, port)

    async def _radsec_request(self, packet: Packet, peer: PeerInfo) -> Packet | None:
        client = self.core.clients.find(peer.host)
        if client is None:
            self.metrics.dropped.labels("unknown client").inc()
            return None
        # Over TLS the hop's secret is "radsec" and the TLS session already authenticated the AP.
        client = replace(client, secret=RADSEC_SECRET, require_message_authenticator=False)
        started = time.monotonic()
        action = self.core.on_request(packet, client, peer.port, started)
        if isinstance(action, Ignore):
            self.metrics.dropped.labels(action.reason.split(":")[0][:40]).inc()
            return None
        if isinstance(action, SpoolAccounting):
            self.metrics.requests.labels(client.name, "Accounting-Request").inc()
            self.spool.put(client.name, action.realm, action.request, action.request.to_bytes(), time.time())
            self._acct_wakeup.set()
            return Packet.from_bytes(self.core.on_accounting_stored(action, peer.port, started).data)
        if isinstance(action, Forward):
            self.metrics.requests.labels(client.name, "Access-Request").inc()
            action = await self._complete(action, peer.port, started)
        self.metrics.results.labels("-", action.outcome).inc()
        return Packet.from_bytes(action.data)

    async def close(self, drain: float = 5.0) -> None:
        """Stop taking requests, let those in flight finish (up to ``drain`` s), then stop the rest."""
        if self._radsec is not None:
            await self._radsec.close()
        for sock in self._sockets:
            sock.close()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=drain)
        if self._forwarder:
            self._forwarder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._forwarder
        self.access_log.flush()
        await self.transport.close()
        self.spool.close()

    # -- requests ----------------------------------------------------------------------------------

    def on_datagram(self, sock: DatagramSocket, data: bytes, addr: tuple[str, int]) -> None:
        now = time.monotonic()
        action = self.core.on_datagram(data, addr[0], addr[1], now)
        if isinstance(action, Ignore):
            self.metrics.dropped.labels(action.reason.split(":")[0][:40]).inc()
            logs.event(log, "dropped", logging.DEBUG, client=addr[0], why=action.reason)
        elif isinstance(action, Reply):
            self._send(sock, action, addr, "-", now)
        elif isinstance(action, SpoolAccounting):
            self._spool(sock, action, addr, now)
        else:
            self.metrics.requests.labels(action.client.name, "Access-Request").inc()
            task = asyncio.create_task(self._forward(sock, action, addr, now))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _send(self, sock: DatagramSocket, reply: Reply, addr: tuple[str, int], realm: str,
              started: float) -> None:
        if not sock.is_closing():
            sock.sendto(reply.data, addr)
        self.metrics.results.labels(self.metrics.realm(realm), reply.outcome).inc()
        if reply.reason is not None:
            self.metrics.rejects.labels(str(int(reply.reason))).inc()

    async def _complete(self, fwd: Forward, port: int, started: float) -> Reply:
        """Deliver upstream (with failover, within the request's budget) and translate the answer."""
        peers: list[PeerAddress] = []
        failed = False
        try:
            peers = await self._peers(fwd)
            budget = self.request_timeout - (time.monotonic() - started)
            delivery = await deliver(self.transport, peers, fwd.upstream, budget)
            peer_label = f"{delivery.peer.host}:{delivery.peer.port}"
            self.metrics.latency.labels(self.metrics.realm(fwd.realm), peer_label).observe(time.monotonic() - started)
            return self.core.on_upstream_reply(fwd, delivery.reply, delivery.sent.authenticator, port,
                                               time.monotonic())
        except UpstreamError as exc:
            failed = True
            return self.core.on_upstream_failure(fwd, exc.reason, exc.text, port, time.monotonic())
        finally:
            self._gauge_peers(peers, failed)

    def _gauge_peers(self, peers: list[PeerAddress], now_needed: bool) -> None:
        """Refresh the peer_up gauge: after a failure at once, otherwise at most once a second per peer
        (asking every peer's state on every request cost ~4 % of the proxy's CPU; a scrape is rarer)."""
        now = time.monotonic()
        for peer in peers:
            if not now_needed and now - self._gauged.get(peer, -GAUGE_INTERVAL) < GAUGE_INTERVAL:
                continue
            if len(self._gauged) >= 10_000:  # discovered peers come and go: bounded
                self._gauged.clear()
            self._gauged[peer] = now
            self.metrics.peer_up.labels(f"{peer.host}:{peer.port}").set(1 if self.transport.is_up(peer) else 0)

    async def _forward(self, sock: DatagramSocket, fwd: Forward, addr: tuple[str, int],
                       started: float) -> None:
        reply = await self._complete(fwd, addr[1], started)
        self._send(sock, reply, addr, fwd.realm, started)
        self.metrics.client_latency.labels(fwd.client.name).observe(time.monotonic() - started)
        # Realm and a CUI hash only (never the user part): an operator can follow one subscriber's sessions.
        self.access_log.write(realm=fwd.realm, cui=redact(reply.cui) if reply.cui else None, client=fwd.client.name,
                              outcome=reply.outcome, reason=int(reply.reason) if reply.reason else None,
                              ms=round((time.monotonic() - started) * 1000, 1))

    async def _peers(self, fwd: Forward) -> list[PeerAddress]:
        if isinstance(fwd.decision, UseStatic):
            return list(fwd.decision.route.peers)
        return list(await self.finder.peers(fwd.realm, accounting=False))

    # -- accounting ---------------------------------------------------------------------------------

    def _spool(self, sock: DatagramSocket, acct: SpoolAccounting, addr: tuple[str, int],
               now: float) -> None:
        self.metrics.requests.labels(acct.client.name, "Accounting-Request").inc()
        try:
            self.spool.put(acct.client.name, acct.realm, acct.request, acct.request.to_bytes(), time.time())
        except Exception as exc:  # a full disk must not be acknowledged: the AP will retransmit
            logs.event(log, "accounting not stored", logging.ERROR, client=acct.client.name, why=str(exc))
            return
        self._send(sock, self.core.on_accounting_stored(acct, addr[1], now), addr, acct.realm or "-", now)
        self._acct_wakeup.set()

    async def _accounting_forwarder(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._acct_wakeup.wait(), timeout=1.0)
            self._acct_wakeup.clear()
            due = [r for r in self.spool.due(time.time()) if r.id not in self._inflight]
            self.metrics.spool_pending.set(self.spool.pending())
            if due:
                self._inflight.update(r.id for r in due)
                await asyncio.gather(*(self._forward_record(r) for r in due))

    async def _forward_record(self, record: SpooledRecord) -> None:
        try:
            await self._forward_record_once(record)
        finally:
            self._inflight.discard(record.id)

    async def _forward_record_once(self, record: SpooledRecord) -> None:
        try:
            packet = self._accounting_upstream(record)
            if record.realm is None:
                raise UpstreamError(RejectReason.BAD_REQUEST, "accounting record without a realm")
            peers = await self._acct_peers(record.realm)
            await deliver(self.transport, peers, packet, self.request_timeout)
            self.spool.mark_sent(record.id, time.time())
        except UpstreamError as exc:
            when = self.spool.mark_failed(record.id, time.time())
            logs.event(log, "accounting deferred", logging.WARNING, realm=record.realm, why=exc.text,
                       retry_in=round(when - time.time(), 1))

    async def _acct_peers(self, realm: str) -> list[PeerAddress]:
        decision = self.core.router.decide(realm)
        if isinstance(decision, UseStatic):
            return list(decision.route.accounting_peers or decision.route.peers)
        try:
            return list(await self.finder.peers(realm, accounting=True))
        except UpstreamError:
            return list(await self.finder.peers(realm, accounting=False))

    def _accounting_upstream(self, record: SpooledRecord) -> Packet:
        """The AP's record for the IdP: our Operator-Name, Acct-Delay-Time grown by the time spooled."""
        original = Packet.from_bytes(record.packet)
        waited = max(0, int(time.time() - record.received_at))
        attrs: list[tuple[int, bytes]] = []
        delay = 0
        deco: Decoration = self.core.decoration
        for t, v in original.attributes:
            if t in (MESSAGE_AUTHENTICATOR, PROXY_STATE) or (t == OPERATOR_NAME and deco.wbaid):
                continue
            if t == ACCT_DELAY_TIME and len(v) == 4:
                delay = int.from_bytes(v, "big")
                continue
            attrs.append((t, v))
        attrs.append((ACCT_DELAY_TIME, min(delay + waited, 2**32 - 1).to_bytes(4, "big")))
        if deco.wbaid:
            attrs.append((OPERATOR_NAME, b"4" + deco.wbaid.encode("ascii")))
        return Packet(Code.ACCOUNTING_REQUEST, 0, bytes(16), tuple(attrs))


def describe(packet: Packet) -> str:
    return f"{code_name(packet.code)} id={packet.identifier}"
