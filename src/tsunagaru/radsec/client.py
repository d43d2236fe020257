"""asyncio adapter for one RadSec client connection: moves bytes and re-arms one timer.

All decisions (identifiers, reply checks, timeouts, watchdog, idle) live in
:class:`~tsunagaru.radsec.session.ClientSession`; this module only connects, writes, reads and
resolves futures or calls callbacks. There is no retransmission: a request gets its reply, a
:class:`RequestTimeout`, or a :class:`ConnectionClosed` when the connection goes away.

Two ways to wait: ``await request(...)`` (a future), or ``send(packet, done)``, where ``done(reply,
None)`` or ``done(None, error)`` is called from the loop later, exactly once, never before ``send``
returns. A proxy forwards on ``send``: no task, coroutine frames or future per request (the ANP's
figures are in ``bench/README.md``). A callback that raises is logged and does not disturb the others.

Write back-pressure: while the transport's buffer is above its high-water mark the connection takes no
new requests (``can_send`` is false, so the pool uses another); a peer that reads nothing for
``WRITE_STALL`` seconds, or lets more than ``MAX_BUFFERED`` octets pile up, is disconnected.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from typing import Any

from tsunagaru.radius import Code, Packet
from tsunagaru.radsec.errors import ConnectionClosed, PeerRefused, ProtocolViolation, RequestTimeout
from tsunagaru.radsec.session import (
    DEFAULT_REQUEST_TIMEOUT,
    RADSEC_SECRET,
    ClientSession,
    Close,
    Send,
    TimedOut,
)
from tsunagaru.radsec.tls import PeerInfo, VerifyPeer, check_peer, peer_chain, peer_info
from tsunagaru.radsec.watchdog import DEFAULT_WATCHDOG, PeerState, WatchdogConfig
from tsunagaru.radsec.writes import CoalescingWriter

log = logging.getLogger(__name__)

#: Called with (reply, None) or (None, the error: RequestTimeout, ConnectionClosed)
Done = Callable[[Packet | None, BaseException | None], None]
Waiter = asyncio.Future[Packet] | Done
#: Seconds we wait for the peer's close_notify before dropping TCP (FreeRADIUS 3.2.1 sent none in our tests).
SHUTDOWN_TIMEOUT = 2.0
WRITE_STALL = 10.0
MAX_BUFFERED = 4 * 1024 * 1024
HIGH_WATER = 64 * 1024  # octets in the transport's buffer at which the peer counts as not reading


class RadSecClient:
    """One TLS connection to one RadSec peer. Create it with :meth:`connect`."""

    def __init__(
        self, session: ClientSession[Waiter], verify_peer: VerifyPeer | None, server_name: str | None
    ) -> None:
        self._session = session
        self._verify_peer = verify_peer
        self._server_name = server_name
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._writer: CoalescingWriter | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._closed = self._loop.create_future()  # result: the reason
        self._gone = self._loop.create_future()  # the transport is released (connection_lost)
        self.peer: PeerInfo | None = None
        self.refused: str | None = None
        self.chain: list[bytes] = []  # the peer's verified chain, leaf first (DER)
        self.write_paused = False
        self._stall: asyncio.TimerHandle | None = None
        self.on_settled: Callable[[], None] | None = None  # after replies or timeouts freed identifiers

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext,
        *,
        server_name: str | None = None,
        secret: bytes = RADSEC_SECRET,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        watchdog: WatchdogConfig | None = DEFAULT_WATCHDOG,
        idle_timeout: float | None = None,
        verify_peer: VerifyPeer | None = None,
        connect_timeout: float = 10.0,
    ) -> RadSecClient:
        """Open the TLS connection (SNI = ``server_name`` or ``host``) and run ``verify_peer``."""
        loop = asyncio.get_running_loop()
        session: ClientSession[Waiter] = ClientSession(
            now=loop.time(),
            secret=secret,
            request_timeout=request_timeout,
            watchdog=watchdog,
            idle_timeout=idle_timeout,
        )
        client = cls(session, verify_peer, server_name)
        async with asyncio.timeout(connect_timeout):  # not wait_for: on 3.11 it can swallow a cancellation
            await loop.create_connection(
                lambda: _ClientProtocol(client),
                host,
                port,
                ssl=ssl_context,
                server_hostname=server_name or host,
                ssl_handshake_timeout=connect_timeout,
                ssl_shutdown_timeout=SHUTDOWN_TIMEOUT,
            )
        if client.refused is not None:
            raise PeerRefused(client.refused)
        return client

    # -- state ---------------------------------------------------------------------------------------

    @property
    def state(self) -> PeerState:
        return PeerState.DOWN if self.closed else self._session.state

    @property
    def closed(self) -> bool:
        return self._closed.done()

    @property
    def close_reason(self) -> str | None:
        return self._closed.result() if self._closed.done() else None

    @property
    def in_flight(self) -> int:
        return self._session.tracker.in_flight

    @property
    def can_send(self) -> bool:
        return not self.closed and not self.write_paused and self._session.tracker.free > 0

    def loop_time(self) -> float:
        """The time of the loop this connection runs on (what the pool's bookkeeping uses)."""
        return self._loop.time()

    # -- requests ------------------------------------------------------------------------------------

    async def request(self, packet: Packet, *, timeout: float | None = None) -> Packet:
        """Send ``packet`` (identifier assigned here) and wait for its verified reply."""
        waiter: asyncio.Future[Packet] = self._loop.create_future()
        self.send(packet, waiter, timeout=timeout)
        return await waiter

    def send(self, packet: Packet, done: Waiter, *, timeout: float | None = None) -> None:
        """Send ``packet`` (identifier assigned here); ``done`` gets the verified reply or the error later.

        Raises :class:`ConnectionClosed` (and sends nothing) when the connection is not usable, and
        :class:`~tsunagaru.radsec.errors.IdentifiersExhausted` when all 255 identifiers are in use.
        """
        writer = self._writer
        if writer is None or self.closed:
            raise ConnectionClosed(self.close_reason or "not connected")
        now = self._loop.time()
        data = self._session.send_request(packet, done, now=now, timeout=timeout)
        writer.write(data)
        if writer.buffered > MAX_BUFFERED:
            self._cut_off(f"more than {MAX_BUFFERED} octets of requests unread by the peer")
        # A new request only adds a later deadline (and pushes idle later): a timer armed before it
        # fires first and re-arms for the rest, so asking the session again is needed only when none is.
        at = self._timer_at
        if at is None or at > now + (timeout or self._session.request_timeout):
            self._arm()

    async def status(self, *, timeout: float | None = None) -> Packet:
        """Send a Status-Server (identifier 0, RFC 5997) and wait for the peer's answer."""
        return await self.request(Packet(Code.STATUS_SERVER, 0), timeout=timeout)

    def close(self, reason: str = "closed by us") -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()
        self._finish(reason)

    async def wait_closed(self) -> str:
        """Wait until the connection is unusable; returns the reason (the TLS shutdown may continue)."""
        return await asyncio.shield(self._closed)

    async def aclose(self, reason: str = "closed by us", timeout: float = SHUTDOWN_TIMEOUT) -> None:
        """Close and wait for the TLS shutdown to finish, aborting the transport after ``timeout``."""
        self.close(reason)
        if self._transport is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._gone), timeout)
        except TimeoutError:
            self._transport.abort()

    # -- protocol callbacks --------------------------------------------------------------------------

    def _made(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        transport.set_write_buffer_limits(high=HIGH_WATER)  # pause_writing well before 255 x 4 KiB piles up
        self._writer = CoalescingWriter(self._loop, transport)
        sslobj = transport.get_extra_info("ssl_object")
        self.peer = peer_info(sslobj, transport.get_extra_info("peername"), self._server_name)
        self.chain = peer_chain(sslobj)
        self.refused = check_peer(sslobj, self.peer, self._verify_peer)
        if self.refused is not None:
            log.warning("radsec: refusing %s:%s: %s", self.peer.host, self.peer.port, self.refused)
            self.close(f"peer refused: {self.refused}")
            return
        self._arm()

    def _received(self, data: bytes) -> None:
        try:
            events = self._session.receive_data(data, now=self._loop.time())
        except ProtocolViolation as exc:
            log.warning("radsec: closing connection to %s: %s", self.peer, exc.reason)
            self.close(f"protocol violation: {exc.reason}")
            return
        for ev in events:
            _settle(ev.value, ev.packet, None)
        if events and self.on_settled is not None:
            self.on_settled()

    def _pause_writing(self) -> None:
        self.write_paused = True
        if self._stall is None:
            self._stall = self._loop.call_later(WRITE_STALL, self._stalled)

    def _resume_writing(self) -> None:
        self.write_paused = False
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def _stalled(self) -> None:
        self._stall = None
        if self.write_paused:
            self._cut_off(f"the peer read nothing for {WRITE_STALL:g} s")

    def _cut_off(self, why: str) -> None:
        log.warning("radsec: disconnecting %s: %s", self.peer, why)
        if self._transport is not None:
            self._transport.abort()
        self._finish(f"write stall: {why}")

    def _lost(self, exc: Exception | None) -> None:
        if not self._gone.done():
            self._gone.set_result(None)
        self._finish(f"connection lost: {exc}" if exc else "closed by peer")

    def _finish(self, reason: str) -> None:
        if self._closed.done():
            return
        self._closed.set_result(reason)
        if self._timer is not None:
            self._timer.cancel()
        if self._stall is not None:
            self._stall.cancel()
        for waiter in self._session.connection_lost():
            _settle(waiter, None, ConnectionClosed(reason))

    # -- the one timer -------------------------------------------------------------------------------

    def _arm(self) -> None:
        when = self._session.timer()
        if when is None or self.closed:
            return
        if self._timer_at is not None and self._timer_at <= when:
            return  # the armed timer fires earlier; it re-arms for the rest
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        self._timer = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        """The watchdog and request timers; an unexpected error closes this connection (logged), never
        leaves it without a timer."""
        self._timer = self._timer_at = None
        try:
            self._on_timer()
        except Exception:
            log.exception("radsec: timer of the connection to %s failed; closing it", self.peer)
            self.close("internal error in the connection timer")

    def _on_timer(self) -> None:
        timed_out = False
        for ev in self._session.handle_timer(self._loop.time()):
            if isinstance(ev, TimedOut):
                timed_out = True
                _settle(ev.value, None, RequestTimeout("no reply within the request timeout"))
            elif isinstance(ev, Send) and self._writer is not None:
                self._writer.write(ev.data)
            elif isinstance(ev, Close):
                self.close(ev.reason)
                return
        if timed_out and self.on_settled is not None:
            self.on_settled()
        self._arm()


def _settle(waiter: Waiter, reply: Packet | None, error: BaseException | None) -> None:
    """Hand a reply or an error to whoever waits: a future (if still waiting) or a callback."""
    if isinstance(waiter, asyncio.Future):
        if not waiter.done():
            if error is not None or reply is None:
                waiter.set_exception(error or ConnectionClosed("no reply"))
            else:
                waiter.set_result(reply)
        return
    try:
        waiter(reply, error)
    except Exception:  # the caller's bug: the connection and the other requests on it go on
        log.exception("radsec: a reply callback failed")


class _ClientProtocol(asyncio.Protocol):
    def __init__(self, client: RadSecClient) -> None:
        self.client = client

    def connection_made(self, transport: Any) -> None:
        self.client._made(transport)

    def data_received(self, data: bytes) -> None:
        self.client._received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client._lost(exc)

    def pause_writing(self) -> None:
        self.client._pause_writing()

    def resume_writing(self) -> None:
        self.client._resume_writing()
