"""The ANP proxy's asyncio adapter: UDP and RadSec listeners, forwarding tasks, the accounting forwarder.

All decisions are the core's (:mod:`tsunagaru.anp.core`); this module moves bytes, keeps time, and
counts. Replies go back from the socket (or RadSec connection) the request came in on. UDP and RadSec
requests take one path (:meth:`AnpServer.handle`): the same metrics, the same access line for every
reply the ANP sends (its own rejects included), the same guarded spool write.

Forwarding on callbacks: a UDP Access-Request on a static route, when a RadSec connection to its
first peer is ready, is sent from the datagram callback and answered from the connection's reply
callback (:class:`_Relay`): no asyncio task, coroutine frames or future per request, which were the
largest share of the proxy's CPU (``bench/README.md``). Everything else takes a task through
:meth:`AnpServer.handle`: discovery (the finder awaits DNS), no connection open yet, failover to the
next peer after the first failed, RadSec from APs, accounting. ``TSUNAGARU_ANP_FORWARD=tasks`` sends
every request through the task path (an A/B in the benchmark).

Supervised: the listeners, the accounting forwarder, every forwarding task and every relay catch what
they did not expect, log it with its context, count it (``tsunagaru_anp_internal_errors_total{task}``)
and carry on. Bounded: tasks and relays together stay under ``MAX_PENDING``. Graceful:
:meth:`AnpServer.close` stops taking requests, gives those in flight (tasks and relays) up to ``drain``
seconds to be answered (the sockets stay open for the replies), then flushes the spool and closes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import os
import ssl
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from tsunagaru import logs
from tsunagaru.anp.activity import ActivityRecorder
from tsunagaru.anp.affinity import NodeAffinity
from tsunagaru.anp.core import AnpCore, Forward, Ignore, Reply, Service, SpoolAccounting
from tsunagaru.anp.decorate import Decoration
from tsunagaru.anp.metrics import AnpMetrics
from tsunagaru.anp.routing import PeerAddress, UseStatic
from tsunagaru.anp.spool import AccountingSpool, SpooledRecord, SpoolFull
from tsunagaru.anp.upstream import PeerFinder, Transport, UpstreamError, deliver
from tsunagaru.logs import redact_cached
from tsunagaru.net.datagram import DatagramSocket
from tsunagaru.ops.idp_peers import Outcome
from tsunagaru.radius import Code, Packet
from tsunagaru.radius.packet import MESSAGE_AUTHENTICATOR, OPERATOR_NAME, PROXY_STATE
from tsunagaru.radius.reasons import RejectReason
from tsunagaru.radsec import RADSEC_SECRET, PeerInfo, RadSecError, RadSecServer, RequestTimeout, VerifyPeer

log = logging.getLogger("tsunagaru.anp")
ACCT_DELAY_TIME = 41
GAUGE_INTERVAL = 1.0  # seconds between peer_up refreshes of one peer while requests succeed
SPOOL_KEEP_SENT = 3600.0  # seconds a forwarded record stays in the spool (for duplicate detection), then purged
PURGE_INTERVAL = 60.0
MAX_PENDING = 20_000  # requests being forwarded or spooled at once; more are dropped (the APs retransmit)
T = TypeVar("T")


@dataclass
class AnpServer:
    """One running ANP: listeners for access points, the core, the RadSec transport and the spool."""

    core: AnpCore
    transport: Transport
    finder: PeerFinder
    spool: AccountingSpool
    request_timeout: float = 4.0
    metrics: AnpMetrics = field(default_factory=AnpMetrics)
    access_log: logs.AccessLog = field(default_factory=lambda: logs.AccessLog(log))
    ap_verify: VerifyPeer | None = None  # the AP-side certificate check (AP roots, CRLs)
    ap_client: Callable[[PeerInfo], str | None] | None = None  # the client name an AP's certificate names
    activity: ActivityRecorder | None = None  # per-AP activity for operations (batched, off the loop)
    affinity: NodeAffinity = field(default_factory=NodeAffinity)  # EAP conversations back to their IdP node
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Each listener drains the datagrams already queued on a wake-up (tsunagaru.net.datagram), so their
    # upstream requests leave in one RadSec write: one TLS send instead of one per request.
    _sockets: list[DatagramSocket] = field(default_factory=list)
    _acct_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    _forwarder: asyncio.Task[None] | None = None
    _activity_task: asyncio.Task[None] | None = None
    _radsec: RadSecServer | None = None
    _inflight: set[int] = field(default_factory=set)  # spool ids being forwarded: never sent twice at once
    _gauged: dict[PeerAddress, float] = field(default_factory=dict)  # peer -> when peer_up was last set
    _closing: bool = False
    _last_purge: float = 0.0
    # Forward on callbacks where possible (see the module docstring); requests on relays now, and the
    # future close() waits on until they are all answered.
    callbacks: bool = field(default_factory=lambda: os.environ.get("TSUNAGARU_ANP_FORWARD") != "tasks")
    relayed: int = 0  # requests forwarded on callbacks since start (tests, the benchmark's A/B)
    _relays: int = 0
    _relays_done: asyncio.Future[None] | None = None
    # The spool's fsync'd SQLite writes run on one thread of their own, off the event loop (review 24)
    _spool_io: concurrent.futures.ThreadPoolExecutor = field(
        default_factory=lambda: concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="anp-spool"))

    async def listen(self, host: str, auth_port: int, acct_port: int, *, reuse_port: bool = False) -> None:
        services: tuple[Service, Service] = ("auth", "acct")
        for port, service in zip((auth_port, acct_port), services, strict=True):
            sock = await DatagramSocket.bind(host, port, lambda data, addr: None, reuse_port=reuse_port)
            sock.on_datagram = functools.partial(self.on_datagram, sock, service)  # set before the loop reads
            self._sockets.append(sock)
        self._forwarder = asyncio.create_task(self._accounting_forwarder())
        if self.activity is not None and self._activity_task is None:
            self._activity_task = asyncio.create_task(self.activity.run())

    async def listen_radsec(self, host: str, port: int, ssl_context: ssl.SSLContext,
                            verify_peer: VerifyPeer | None = None, *, reuse_port: bool = False) -> int:
        """RadSec from access points that can do it (RFC 6614): the AP's certificate is checked against
        the AP roots and CRLs (``verify_peer``, by default :attr:`ap_verify`) and names its client."""
        server = self._radsec = RadSecServer(self._radsec_request, ssl_context,
                                             verify_peer=verify_peer or self.ap_verify)
        self.metrics.write_stalls.set_function(lambda: server.write_stalls)
        return await server.start(host, port, reuse_port=reuse_port)

    async def close(self, drain: float = 5.0) -> None:
        """Stop taking requests, let those in flight finish (up to ``drain`` s) and send their replies,
        flush the spool, then stop the rest."""
        self._closing = True
        for sock in self._sockets:  # stop reading; the socket stays open for the replies still due
            sock.on_datagram = lambda data, addr: None
        deadline = time.monotonic() + drain
        radsec = asyncio.create_task(self._radsec.close(drain=drain)) if self._radsec is not None else None
        await self._drain(deadline)
        if radsec is not None:
            await radsec
        self._acct_wakeup.set()
        if self._forwarder:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):  # a forwarding round may finish
                await asyncio.wait_for(asyncio.shield(self._forwarder), max(0.0, deadline - time.monotonic()))
            self._forwarder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._forwarder
        for task in list(self._tasks):
            task.cancel()
        for sock in self._sockets:
            sock.close()
        self.access_log.flush()
        await self._close_activity()
        await self.transport.close()
        await self._spool_call(self.spool.close)
        self._spool_io.shutdown(wait=True)

    async def _drain(self, deadline: float) -> None:
        """Wait (until ``deadline``) for the forwarding tasks and the relays; a relay that fails over
        becomes a task, so look again until both are gone."""
        while self._tasks or self._relays:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            waits: set[asyncio.Future[Any]] = set(self._tasks)
            if self._relays:
                if self._relays_done is None or self._relays_done.done():
                    self._relays_done = asyncio.get_running_loop().create_future()
                waits.add(self._relays_done)
            await asyncio.wait(waits, timeout=left)

    async def _close_activity(self) -> None:
        if self._activity_task is not None:
            self._activity_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._activity_task
        if self.activity is not None:
            await self.activity.close()

    async def release(self) -> None:
        """Give back what building the server took (pool, spool, its thread) without having listened:
        what ``anp check-config`` does after building everything."""
        await self.transport.close()
        await self._spool_call(self.spool.close)
        self._spool_io.shutdown(wait=True)

    # -- requests ----------------------------------------------------------------------------------

    def on_datagram(self, sock: DatagramSocket, service: Service, data: bytes, addr: tuple[str, int]) -> None:
        try:
            now = time.monotonic()
            action = self.core.on_datagram(data, addr[0], addr[1], now, service, time.time())
            if isinstance(action, Ignore):
                self._ignored(action)
            elif isinstance(action, Reply):
                self._sent(action, now)
                if self.activity is not None:
                    self.activity.observe_own(action)
                sock.sendto(action.data, addr)
            elif len(self._tasks) + self._relays >= MAX_PENDING:
                self._overloaded(action, addr[1])
            else:
                self.metrics.requests.labels(action.client.name, _code(action.request)).inc()
                if not (self.callbacks and isinstance(action, Forward) and self._relay(action, sock, addr, now)):
                    self._spawn(self._answer_udp(sock, action, addr, now))
        except Exception as exc:  # never let one datagram stop the listener
            self._internal_error("udp listener", exc, client=addr[0])

    def _relay(self, fwd: Forward, sock: DatagramSocket, addr: tuple[str, int], started: float) -> bool:
        """Send ``fwd`` upstream now with a callback for the answer; False when it needs the task path."""
        if not isinstance(fwd.decision, UseStatic):
            return False  # the finder awaits (DNS)
        try_send = getattr(self.transport, "try_send", None)
        if try_send is None:
            return False
        ordered = self._order(fwd, fwd.decision.route.candidates(), started)
        budget = self.request_timeout - (time.monotonic() - started)
        if budget <= 0:
            return False
        relay = _Relay(self, fwd, sock, addr, started, ordered, started + self.request_timeout)
        if not try_send(ordered[0], fwd.upstream, max(budget / len(ordered), 0.05), relay):
            return False
        self._relays += 1
        self.relayed += 1
        return True

    def _relayed(self, relay: _Relay, reply: Packet | None, error: BaseException | None) -> None:
        """The upstream answer (or error) for a relay: translate, count, log, send; failover goes to a task."""
        self._relays -= 1
        if self._relays == 0 and self._relays_done is not None and not self._relays_done.done():
            self._relays_done.set_result(None)
        fwd, peer = relay.fwd, relay.peers[0]
        port = relay.addr[1]
        try:
            now = time.monotonic()
            if self.activity is not None:
                self.activity.observe_upstream(fwd.realm, peer, _outcome(reply, error), now)
            if reply is not None:
                self._learn(fwd, reply, peer, relay.started, now)
                answer = self.core.on_upstream_reply(fwd, reply, fwd.upstream.authenticator, port, now)
                self._gauge_peers(relay.peers, False)
            elif isinstance(error, TimeoutError | RequestTimeout | OSError | RadSecError):
                rest, left = relay.peers[1:], relay.deadline - now
                if rest and left > 0:  # failover: deliver() tries the others within what is left
                    self._spawn(self._answer_udp(relay.sock, fwd, relay.addr, relay.started, rest))
                    return
                self._gauge_peers(relay.peers, True)
                timed_out = isinstance(error, TimeoutError | RequestTimeout)
                text = f"{peer.host}:{peer.port} " + ("did not answer in time" if timed_out else f"failed: {error}")
                if timed_out or now >= relay.deadline:  # as deliver() words it
                    answer = self.core.on_upstream_failure(fwd, RejectReason.PROTOCOL_TIMEOUT,
                                                           f"identity provider timed out ({text})", port, now)
                else:
                    answer = self.core.on_upstream_failure(fwd, RejectReason.BACKEND_FAILURE,
                                                           f"identity provider unreachable ({text})", port, now)
            else:
                raise error or RuntimeError("relay answered with neither a reply nor an error")
        except Exception as exc:  # a bug must cost one request, not the connection: answer 21
            self._internal_error("request", exc, client=fwd.client.name)
            try:
                answer = self.core.on_upstream_failure(fwd, RejectReason.BACKEND_FAILURE, f"internal error: {exc}",
                                                       port, time.monotonic())
            except Exception as again:
                self._internal_error("request", again, client=fwd.client.name)
                return
        self._answered(fwd, answer, relay.started)
        relay.sock.sendto(answer.data, relay.addr)

    async def _answer_udp(self, sock: DatagramSocket, action: Forward | SpoolAccounting, addr: tuple[str, int],
                          started: float, peers: Sequence[PeerAddress] | None = None) -> None:
        reply = await self.handle(action, addr[1], started, peers)
        if reply is not None:
            sock.sendto(reply.data, addr)

    async def _radsec_request(self, packet: Packet, peer: PeerInfo) -> Packet | None:
        try:
            return await self._radsec_request_once(packet, peer)
        except Exception as exc:  # logged with its context and counted; the connection goes on
            self._internal_error("radsec listener", exc, client=peer.host)
            return None

    async def _radsec_request_once(self, packet: Packet, peer: PeerInfo) -> Packet | None:
        started = time.monotonic()
        name = self.ap_client(peer) if self.ap_client is not None else None
        if name is not None:  # the AP is who its certificate says, wherever it connects from
            client = next((c for c in self.core.clients.clients if c.name == name), None)
        else:  # by address, unless that client is one that must be named by the certificate
            client = self.core.clients.find(peer.host)
            if client is not None and client.certificate_name is not None:
                client = None
        if client is None:
            self.metrics.drop("unknown_client")
            return None
        # Over TLS the hop's secret is "radsec" and the TLS session already authenticated the AP.
        client = replace(client, secret=RADSEC_SECRET, require_message_authenticator=False)
        action = self.core.on_request(packet, client, peer.port, started, wall=time.time())
        if isinstance(action, Ignore):
            self._ignored(action)
            return None
        if isinstance(action, Reply):
            self._sent(action, started)
            if self.activity is not None:
                self.activity.observe_own(action)
            return Packet.from_bytes(action.data)
        if len(self._tasks) >= MAX_PENDING:
            self._overloaded(action, peer.port)
            return None
        self.metrics.requests.labels(client.name, _code(action.request)).inc()
        reply = await self.handle(action, peer.port, started)
        return None if reply is None else Packet.from_bytes(reply.data)

    async def handle(self, action: Forward | SpoolAccounting, port: int, started: float,
                     peers: Sequence[PeerAddress] | None = None) -> Reply | None:
        """The one path for a request that needs I/O (forwarding or the spool), from UDP or RadSec
        (``peers``: the ones left to try after a relay's first peer failed)."""
        try:
            if isinstance(action, Forward):
                reply: Reply | None = await self._complete(action, port, started, peers)
            else:
                reply = await self._store(action, port, started)
        except Exception as exc:  # a bug must cost one request, not the listener: answer 21
            self._internal_error("request", exc, client=action.client.name)
            if not isinstance(action, Forward):
                self.core.on_accounting_not_stored(action, port)
                return None
            reply = self.core.on_upstream_failure(action, RejectReason.BACKEND_FAILURE, f"internal error: {exc}",
                                                  port, time.monotonic())
        if reply is not None:
            self._answered(action, reply, started)
        return reply

    def _answered(self, action: Forward | SpoolAccounting, reply: Reply, started: float) -> None:
        self._sent(reply, started)
        if self.activity is not None:
            if isinstance(action, Forward):
                self.activity.observe_reply(action.request, action.client, reply, reply.realm)
            else:
                self.activity.observe_accounting(action)

    def _sent(self, reply: Reply, started: float) -> None:
        """Metrics and the access line for a reply the ANP sends (every one: forwarded or its own)."""
        realm = reply.realm or "-"
        elapsed = time.monotonic() - started
        self.metrics.results.labels(self.metrics.realm(realm), reply.outcome).inc()
        reason = int(reply.reason) if reply.reason is not None else None
        if reason is not None:
            self.metrics.rejects.labels(str(reason)).inc()
        if reply.client is not None:
            self.metrics.client_latency.labels(reply.client).observe(elapsed)
        if reply.detail is not None:
            logs.event(log, "rejected by the ANP", logging.INFO, client=reply.client, realm=realm,
                       reason=reason or None, why=reply.detail)
        # Realm and a CUI hash only (never the user part): an operator can follow one subscriber's sessions.
        self.access_log.access(realm, redact_cached(reply.cui) if reply.cui else None, reply.client, reply.outcome,
                               reason or None, round(elapsed * 1000, 1))

    def _overloaded(self, action: Forward | SpoolAccounting, port: int) -> None:
        """Too much in flight: drop, and let the retransmission in (the duplicate entry is released)."""
        self.metrics.drop("overloaded")
        key = (action.client.name, port, action.request.identifier, action.request.authenticator)
        self.core.admitter.duplicates.forget(key)

    def _ignored(self, action: Ignore) -> None:
        self.metrics.drop(action.kind)
        logs.event(log, "dropped", logging.DEBUG, why=action.reason)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _internal_error(self, where: str, exc: BaseException, **context: object) -> None:
        self.metrics.errors.labels(where).inc()
        log.error("unexpected error in %s (%s): %s: %s", where,
                  ", ".join(f"{k}={v}" for k, v in context.items()), type(exc).__name__, exc,
                  exc_info=(type(exc), exc, exc.__traceback__))

    async def _complete(self, fwd: Forward, port: int, started: float,
                        given: Sequence[PeerAddress] | None = None) -> Reply:
        """Deliver upstream (with failover, within the request's budget) and translate the answer."""
        peers: list[PeerAddress] = []
        failed = False
        try:
            peers = list(given) if given is not None else list(self._order(fwd, await self._peers(fwd), started))
            budget = self.request_timeout - (time.monotonic() - started)
            delivery = await deliver(self.transport, peers, fwd.upstream, budget, self._attempted(fwd.realm))
            now = time.monotonic()
            self._learn(fwd, delivery.reply, delivery.peer, started, now)
            return self.core.on_upstream_reply(fwd, delivery.reply, delivery.sent.authenticator, port, now)
        except UpstreamError as exc:
            failed = True
            return self.core.on_upstream_failure(fwd, exc.reason, exc.text, port, time.monotonic())
        finally:
            self._gauge_peers(peers, failed)

    def _attempted(self, realm: str | None) -> Callable[[PeerAddress, str], None] | None:
        """What :func:`deliver` tells of each attempt, for the activity's peer table (None: not watched)."""
        activity = self.activity
        if activity is None or activity.peers is None or not realm:
            return None
        return lambda peer, outcome: activity.observe_upstream(realm, peer, Outcome(outcome), time.monotonic())

    def _gauge_peers(self, peers: Sequence[PeerAddress], now_needed: bool) -> None:
        """Refresh the peer_up gauge: after a failure at once, otherwise at most once a second per peer
        (asking every peer's state on every request cost ~4 % of the proxy's CPU; a scrape is rarer)."""
        now = time.monotonic()
        for peer in peers:
            if not now_needed and now - self._gauged.get(peer, -GAUGE_INTERVAL) < GAUGE_INTERVAL:
                continue
            if len(self._gauged) >= 10_000:  # discovered peers come and go: bounded
                self._gauged.clear()
            self._gauged[peer] = now
            label = self.metrics.peer(peer.host, peer.port)
            self.metrics.peer_up.labels(label).set(1 if self.transport.is_up(peer) else 0)

    async def _peers(self, fwd: Forward) -> Sequence[PeerAddress]:
        """The route's peers (configured order, or shuffled when it spreads) or the discovered ones."""
        if isinstance(fwd.decision, UseStatic):
            return fwd.decision.route.candidates()
        return await self.finder.peers(fwd.realm, accounting=False)

    def _order(self, fwd: Forward, peers: Sequence[PeerAddress], started: float) -> tuple[PeerAddress, ...]:
        """The peers of this request in the order to try them, for both paths (relay and task): the
        conversation's IdP node first (State), then those known up first (a stable sort: a spread stays
        spread, and a named node that is down goes behind the up ones, as :func:`deliver` would)."""
        if len(peers) < 2:
            return tuple(peers)
        ordered = self.affinity.order(fwd.realm, fwd.request, peers, started)
        return tuple(sorted(ordered, key=lambda p: 0 if self.transport.is_up(p) else 1))

    def _learn(self, fwd: Forward, reply: Packet, peer: PeerAddress, started: float, now: float) -> None:
        """What the ANP learns from an upstream reply, for both paths: its latency, and the IdP node an
        Access-Challenge's State names (so the conversation's next requests go back to that peer)."""
        peer_label = self.metrics.peer(peer.host, peer.port)
        self.metrics.latency.labels(self.metrics.realm(fwd.realm), peer_label).observe(now - started)
        self.affinity.learn(fwd.realm, reply, peer, started)

    # -- accounting ---------------------------------------------------------------------------------

    async def _spool_call(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._spool_io, functools.partial(fn, *args))

    async def _store(self, acct: SpoolAccounting, port: int, started: float) -> Reply | None:
        try:
            await self._spool_call(self.spool.put, acct.client.name, acct.realm, acct.request,
                                   acct.request.to_bytes(), time.time())
        except Exception as exc:  # a full disk (or spool) must not be acknowledged: the AP will retransmit
            logs.event(log, "accounting not stored", logging.ERROR, client=acct.client.name, why=str(exc))
            self.metrics.drop("spool_full" if isinstance(exc, SpoolFull) else "not_stored")
            self.core.on_accounting_not_stored(acct, port)
            return None
        self._acct_wakeup.set()
        return self.core.on_accounting_stored(acct, port, started)

    async def _accounting_forwarder(self) -> None:
        """Forward what the spool holds, for ever; an unexpected error is logged, counted and survived."""
        while True:
            with contextlib.suppress(TimeoutError):  # asyncio.timeout: wait_for (3.11) can swallow a cancel
                async with asyncio.timeout(1.0):
                    await self._acct_wakeup.wait()
            self._acct_wakeup.clear()
            try:
                await self._forward_round()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._internal_error("accounting forwarder", exc)
                await asyncio.sleep(1.0)  # a persistent fault (the disk) must not spin
            if self._closing:
                return

    async def _forward_round(self) -> None:
        now = time.time()
        due = [r for r in await self._spool_call(self.spool.due, now) if r.id not in self._inflight]
        self.metrics.spool_pending.set(await self._spool_call(self.spool.pending))
        if now - self._last_purge >= PURGE_INTERVAL:
            self._last_purge = now
            await self._spool_call(self.spool.purge_sent, now - SPOOL_KEEP_SENT)
            expired = await self._spool_call(self.spool.expire, now)
            if expired:
                self.metrics.acct_expired.inc(expired)
                logs.event(log, "accounting expired", logging.ERROR, records=expired,
                           why=f"not forwarded within {self.spool.max_age:g} s (anp.spool_max_age)")
        if due:
            self._inflight.update(r.id for r in due)
            results = await asyncio.gather(*(self._forward_record(r) for r in due), return_exceptions=True)
            for record, result in zip(due, results, strict=True):
                if isinstance(result, Exception):
                    self._internal_error("accounting forwarder", result, realm=record.realm)

    async def _forward_record(self, record: SpooledRecord) -> None:
        try:
            await self._forward_record_once(record)
        finally:
            self._inflight.discard(record.id)

    async def _forward_record_once(self, record: SpooledRecord) -> None:
        try:
            packet = self._accounting_upstream(record)
            peers = await self._acct_peers(record.realm)
            await deliver(self.transport, peers, packet, self.request_timeout, self._attempted(record.realm))
            await self._spool_call(self.spool.mark_sent, record.id, time.time())
        except UpstreamError as exc:
            when = await self._spool_call(self.spool.mark_failed, record.id, time.time())
            logs.event(log, "accounting deferred", logging.WARNING, realm=record.realm, why=exc.text,
                       retry_in=round(when - time.time(), 1))
        except Exception:
            await self._spool_call(self.spool.mark_failed, record.id, time.time())  # back off, then raise
            raise

    async def _acct_peers(self, realm: str | None) -> list[PeerAddress]:
        if realm is None:  # no NAI in User-Name: the default route (realm "*") or stay spooled
            route = self.core.router.default_route()
            if route is None:
                raise UpstreamError(RejectReason.BAD_REQUEST, "accounting record without a realm and no "
                                    'default route (realm = "*"): kept in the spool')
            return list(route.accounting_peers or route.peers)
        decision = self.core.router.decide(realm)
        if isinstance(decision, UseStatic):
            return list(decision.route.candidates(accounting=True))
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


class _Relay:
    """One request forwarded on a callback: what its answer needs (the RadSec client calls it once)."""

    __slots__ = ("addr", "deadline", "fwd", "peers", "server", "sock", "started")

    def __init__(self, server: AnpServer, fwd: Forward, sock: DatagramSocket, addr: tuple[str, int],
                 started: float, peers: Sequence[PeerAddress], deadline: float) -> None:
        self.server, self.fwd, self.sock, self.addr = server, fwd, sock, addr
        self.started, self.peers, self.deadline = started, peers, deadline

    def __call__(self, reply: Packet | None, error: BaseException | None) -> None:
        self.server._relayed(self, reply, error)


def _outcome(reply: Packet | None, error: BaseException | None) -> Outcome:
    if reply is not None:
        return Outcome.REPLY
    return Outcome.TIMEOUT if isinstance(error, TimeoutError | RequestTimeout) else Outcome.ERROR


def _code(packet: Packet) -> str:
    return "Accounting-Request" if packet.code == Code.ACCOUNTING_REQUEST else "Access-Request"
