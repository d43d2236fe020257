"""The IdP's I/O: RadSec for federation peers (checked against the federation PKI) and RADIUS/UDP for
local NASes, both handing packets to one :class:`~tsunagaru.idp.service.IdpCore` and doing what it asks.

Credential questions (an EAP method's password, NT hash or certificate status; a PAP password) are
answered from the store's cache on the event loop when it has them; otherwise (a store read, a slow
hash) in one bounded worker queue (``checks``), after which the conversation resumes on the loop.
Accounting commits run in another queue (``writes``), so nothing on the event loop waits on a hash or a
database.
When the check queue is full the request gets an Access-Reject with Reject-Reason 21 at once (counted
in ``tsunagaru_idp_check_overflow``); a full write queue drops the Accounting-Request unanswered (the NAS
keeps it and retransmits). :meth:`IdpServer.close` drains: it stops reading on every listener, gives
the requests in flight up to ``drain`` seconds, sends their replies, then closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import ipaddress
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from tsunagaru import logs
from tsunagaru.eap.credentials import CredentialAnswer, CredentialStore, Verdict, VerifyPassword, as_verdict, resolve
from tsunagaru.idp.checks import CheckPool
from tsunagaru.idp.metrics import IdpMetrics, code_label
from tsunagaru.idp.service import Action, CheckPassword, EapCredential, IdpCore, Reply, StoreAccounting
from tsunagaru.idp.settings import RadSecListen, UdpListen
from tsunagaru.net.front import UdpFront
from tsunagaru.radius import Packet
from tsunagaru.radsec import RADSEC_SECRET, PeerInfo, RadSecServer, server_context
from tsunagaru.radsec.federation import TrustFiles, federation_check
from tsunagaru.shutdown import stop_in_thread
from tsunagaru.store import IdpAccounting, Store

log = logging.getLogger("tsunagaru.idp")
DRAIN_SECONDS = 5.0
EXPIRE_EVERY = 10.0


def store_accounting(store: Store, row: IdpAccounting) -> bool:
    """Commit one record (in a worker thread); False when it was stored before (a retransmission)."""
    try:
        with store.session() as s:
            s.add(row)
    except IntegrityError:
        return False
    return True


@dataclass
class IdpServer:
    """The listeners and worker queues around one core; metrics in ``metrics.registry``."""

    core: IdpCore
    credentials: CredentialStore
    store: Store
    metrics: IdpMetrics = field(default_factory=IdpMetrics)
    checks: CheckPool = field(default_factory=lambda: CheckPool("checks", workers=4, queue=256))
    writes: CheckPool = field(default_factory=lambda: CheckPool("writes", workers=1, queue=1024))
    radsec: RadSecServer | None = None
    udp: UdpFront | None = None
    _expiry: asyncio.Task[None] | None = field(default=None, repr=False)
    _radsec_pending: set[asyncio.Future[Packet | None]] = field(default_factory=set, repr=False)
    _stopping: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self.metrics.watch(lambda: self.core.eap.in_progress,
                           {"checks": lambda: self.checks.queued, "writes": lambda: self.writes.queued})

    async def start(self, radsec: RadSecListen | None, udp: UdpListen | None, *, reuse_port: bool = False) -> None:
        if radsec is not None:
            ctx = server_context(certfile=radsec.certificate, keyfile=radsec.key, cafile=radsec.roots[0])
            for extra in radsec.roots[1:]:
                ctx.load_verify_locations(cafile=str(extra))
            trust = TrustFiles(radsec.roots, radsec.crls)
            self.radsec = RadSecServer(self._radsec_request, ctx, verify_peer=federation_check(trust, "client"))
            await self.radsec.start(radsec.host, radsec.port, reuse_port=reuse_port)
        if udp is not None:
            secret = udp.secret
            self.udp = UdpFront(lambda packet, _addr: self.answer(packet, secret),
                                [ipaddress.ip_network(udp.allowed, strict=False)], on_drop=self._dropped)
            await self.udp.bind(udp.host, udp.port, reuse_port=reuse_port)
        self._expiry = asyncio.create_task(self._expire_sessions())

    # -- requests -------------------------------------------------------------------------------------

    def answer(self, packet: Packet, secret: bytes) -> Packet | Awaitable[Packet | None] | None:
        """Do what the core decides: reply now, or later once a worker has done the slow part."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        self.metrics.requests.labels(code_label(packet.code)).inc()
        action: Action = self.core.decide(packet, secret, started, datetime.now(UTC))
        if isinstance(action, Reply):
            return self._replied(action.packet, started, "inline")
        if isinstance(action, StoreAccounting):
            job = self.writes.submit(store_accounting, self.store, action.row)
            if job is None:
                self.metrics.overflow.labels("writes").inc()
                self._dropped("overload")
                return None
            return self._after_store(job, action.reply, started)
        if isinstance(action, CheckPassword):
            known = self.credentials.peek(VerifyPassword(action.user, action.password))
            if known is not None:  # verified within the cache's lifetime: no hash, no thread
                verdict = as_verdict(known)
                self.metrics.pap(verdict is Verdict.OK, verdict.reject_reason)
                return self._replied(self.core.pap_result(action.request, action.secret, action.user, verdict),
                                     started, "inline")
            check = self.checks.submit(self.credentials.check_password, action.user, action.password)
            if check is None:
                return self._overflow(packet, secret, started)
            return self._after_pap(check, action, started)
        assert isinstance(action, EapCredential)
        return self._eap_credential(action, started)

    def _eap_credential(self, action: EapCredential, started: float) -> Packet | Awaitable[Packet | None] | None:
        """Answer the conversation's questions from the cache while it can; the first miss goes to a worker."""
        while True:
            answer = self.credentials.peek(action.query)
            if answer is None:
                break
            step = self.core.resume(action, answer, asyncio.get_running_loop().time())
            if isinstance(step, Reply):
                return self._replied(step.packet, started, "inline")
            action = step
        job = self.checks.submit(resolve, self.credentials, action.query)
        if job is None:
            reply = self.core.credential_failed(action, asyncio.get_running_loop().time())
            self.metrics.overflow.labels("checks").inc()
            logs.event(log, "check queue full: rejected", logging.WARNING, pending=self.checks.pending)
            return self._replied(reply, started, "inline")
        return self._after_credential(job, action, started)

    async def _after_credential(self, job: Awaitable[CredentialAnswer], action: EapCredential,
                                started: float) -> Packet | None:
        loop = asyncio.get_running_loop()
        try:
            answer = await job
        except Exception:  # the store failed: one boundary, one answer (Reject-Reason 21)
            log.exception("credential check failed")
            return self._replied(self.core.credential_failed(action, loop.time()), started, "worker")
        step = self.core.resume(action, answer, loop.time())
        if isinstance(step, Reply):
            return self._replied(step.packet, started, "worker")
        more = self._eap_credential(step, started)  # a second question (none of today's methods asks one)
        return await more if inspect.isawaitable(more) else more

    def _radsec_request(self, packet: Packet, peer: PeerInfo) -> Awaitable[Packet | None] | Packet | None:
        if self._stopping:  # stopping: take nothing new (the peer's watchdog fails over), finish the rest
            self._dropped("busy")
            return None
        result = self.answer(packet, RADSEC_SECRET)
        if result is None or type(result) is Packet or not inspect.isawaitable(result):  # see net.front
            return result
        task = asyncio.ensure_future(result)
        self._radsec_pending.add(task)
        task.add_done_callback(self._radsec_pending.discard)
        return task

    def _overflow(self, packet: Packet, secret: bytes, started: float) -> Packet:
        self.metrics.overflow.labels("checks").inc()
        logs.event(log, "check queue full: rejected", logging.WARNING, pending=self.checks.pending)
        reply = self.core.overloaded(packet, secret)
        self._replied(reply, started, "inline")
        return reply

    async def _after_pap(self, job: Awaitable[Verdict], action: CheckPassword, started: float) -> Packet | None:
        try:
            verdict = await job
        except Exception:  # the store failed: one boundary, one answer (Reject-Reason 21)
            log.exception("PAP check failed")
            reply = self.core.overloaded(action.request, action.secret)
            self.metrics.pap(False, 21)
            return self._replied(reply, started, "worker")
        self.metrics.pap(verdict is Verdict.OK, verdict.reject_reason)
        return self._replied(self.core.pap_result(action.request, action.secret, action.user, verdict),
                             started, "worker")

    async def _after_store(self, job: Awaitable[bool], reply: Packet, started: float) -> Packet | None:
        try:
            await job
        except SQLAlchemyError as exc:  # not stored: no Accounting-Response, the NAS retransmits
            logs.event(log, "accounting not stored", logging.ERROR, why=type(exc).__name__)
            self._dropped("error")
            return None
        return self._replied(reply, started, "worker")

    def _replied(self, reply: Packet | None, started: float, path: str) -> Packet | None:
        if reply is None:
            self._dropped("unverified")
        else:
            self.metrics.reply(reply)
            self.metrics.latency.labels(path).observe(asyncio.get_running_loop().time() - started)
        return reply

    def _dropped(self, why: str) -> None:
        self.metrics.dropped.labels(why).inc()

    async def _expire_sessions(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(EXPIRE_EVERY)
            try:
                self.core.eap.expire(loop.time())
            except Exception:  # supervised: log, count, carry on
                log.exception("expiring EAP sessions failed")
                self._dropped("error")

    # -- stop -----------------------------------------------------------------------------------------

    async def _drain_radsec(self, server: RadSecServer, deadline: float) -> None:
        """Requests in flight on RadSec connections get their replies (written while the connections
        are still open) until ``deadline``; then the server closes."""
        loop = asyncio.get_running_loop()
        if self._radsec_pending:
            await asyncio.wait(set(self._radsec_pending), timeout=max(0.0, deadline - loop.time()))
            for _ in range(3):  # let each connection's handler task write the reply it was waiting for
                await asyncio.sleep(0)
        await server.close()

    async def close(self, drain: float = DRAIN_SECONDS) -> None:
        """Stop accepting, give requests in flight up to ``drain`` seconds (replies are sent), then close."""
        self._stopping = True
        if self._expiry is not None:
            self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain
        parts: list[Awaitable[object]] = []
        if self.udp is not None:
            parts.append(self.udp.drain(drain))
        if self.radsec is not None:
            parts.append(self._drain_radsec(self.radsec, deadline))
        await asyncio.gather(*parts)
        if self.udp is not None:
            self.udp.close()
        # the workers' running jobs (a password hash, a store read or commit) end on their own; not in the
        # default executor, which asyncio.run joins without a bound
        await stop_in_thread("idp-checks", self.checks.close, drain + 5.0)
        await stop_in_thread("idp-writes", self.writes.close, drain + 5.0)
        self.metrics.flush()  # the last tallies: a worker's file outlives it


