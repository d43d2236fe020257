"""asyncio RadSec listener: TLS with client certificates, one handler coroutine for every request.

Each connection runs a :class:`~tsunagaru.radsec.session.ServerSession`; requests are verified with
the secret ``radsec`` before the handler sees them, Status-Server is answered here (RFC 5997), and a
malformed packet or a bad authenticator closes the connection (RFC 6614 2.5). Requests on one
connection are handled concurrently and answered in completion order, as TCP transport allows.

Bounded per connection: at most ``max_in_flight`` requests are handled at once (reading pauses until
one is answered), and a peer that does not read its replies is cut off: when the transport's buffer
stays above its high-water mark for ``write_stall`` seconds, or holds more than ``max_buffered`` octets,
the connection is aborted (``write_stalls`` counts it). :meth:`RadSecServer.close` drains: it stops
accepting connections and reading requests, gives the requests in flight ``drain`` seconds to be
answered, writes the replies, then closes.

Bounded per listener: at most ``max_handshakes`` TLS handshakes are in progress at once; a new
connection beyond that drops the oldest pending one (``handshakes_evicted`` counts them). Each pending
handshake holds asyncio's 256 KiB TLS read buffer, so 2,000 TCP connections that never speak TLS (the
fault tests' flood) took 500 MB for the 10 s of the handshake timeout; dropping the oldest (not refusing
the newest) keeps a good peer's handshake, done in milliseconds, out of reach of a slow flood.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import logging
import ssl
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, cast

from tsunagaru.radius import Packet
from tsunagaru.radsec.client import SHUTDOWN_TIMEOUT
from tsunagaru.radsec.errors import ProtocolViolation
from tsunagaru.radsec.session import RADSEC_SECRET, Close, Received, Send, ServerSession
from tsunagaru.radsec.tls import PeerInfo, VerifyPeer, check_peer, peer_info
from tsunagaru.radsec.writes import CoalescingWriter

log = logging.getLogger(__name__)
HANDSHAKE_TIMEOUT = 10.0
MAX_EARLY = 64 * 1024  # octets a client may send before TLS is set up (a ClientHello is a few KiB)
MAX_IN_FLIGHT = 256  # one identifier space; more at once is a peer that does not wait for its replies
WRITE_STALL = 10.0  # seconds a connection may keep its write buffer full before it is cut off
MAX_BUFFERED = 4 * 1024 * 1024  # octets of replies a connection may hold unread
HIGH_WATER = 64 * 1024  # octets buffered at which reading pauses (and the stall clock starts)
MAX_HANDSHAKES = 256  # TLS handshakes in progress at once per listener (each holds a 256 KiB buffer)
COLLECT_EVERY = 64  # failed handshakes between young collections of their leftovers (see _handshake)
EVICTION_LOG_EVERY = 10.0  # seconds between warnings about dropped handshakes

#: ``handler(request, peer) -> reply`` (identifier and authenticators are filled in) or None to drop.
#: The handler may answer at once (return the reply or None) or later (return an awaitable, e.g. be a
#: coroutine function): a reply known at once is written without creating a task for it.
Handler = Callable[[Packet, PeerInfo], Awaitable[Packet | None] | Packet | None]


class RadSecServer:
    """A RadSec listener. ``async with RadSecServer(...) as srv: await srv.start(...)``."""

    def __init__(
        self,
        handler: Handler,
        ssl_context: ssl.SSLContext,
        *,
        secret: bytes = RADSEC_SECRET,
        idle_timeout: float | None = None,
        verify_peer: VerifyPeer | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
        write_stall: float = WRITE_STALL,
        max_buffered: int = MAX_BUFFERED,
        max_handshakes: int = MAX_HANDSHAKES,
    ) -> None:
        if ssl_context.verify_mode != ssl.CERT_REQUIRED:
            raise ValueError("a RadSec server must require client certificates (CERT_REQUIRED)")
        self.handler = handler
        self.ssl_context = ssl_context
        self.secret = secret
        self.idle_timeout = idle_timeout
        self.verify_peer = verify_peer
        self.max_in_flight = max_in_flight
        self.write_stall = write_stall
        self.max_buffered = max_buffered
        self.max_handshakes = max_handshakes
        self._server: asyncio.Server | None = None
        self._connections: set[_ServerConnection] = set()
        self._handshakes: dict[asyncio.Task[None], asyncio.Transport] = {}  # oldest first
        self.handshakes_failed = 0
        self.handshakes_evicted = 0  # pending handshakes dropped for newer connections (max_handshakes)
        self._evictions_logged_at = -EVICTION_LOG_EVERY
        self.write_stalls = 0  # connections cut off because the peer did not read its replies
        self.draining = False

    async def start(self, host: str = "127.0.0.1", port: int = 0, *, reuse_port: bool = False) -> int:
        """Listen on ``host``:``port`` (0 = any free port); returns the bound port. ``reuse_port``:
        SO_REUSEPORT, one listener per pre-fork worker, each connection staying with its acceptor."""
        loop = asyncio.get_running_loop()
        # Plain TCP first, TLS with start_tls per connection: a handshake that fails (an unknown CA, an
        # expired or missing client certificate, a timeout) then reaches us and is logged with its peer
        # and reason. create_server(ssl=...) would swallow it (asyncio logs it only in debug mode), and
        # "why does the federation peer not connect" is the first question an operator asks.
        self._server = await loop.create_server(lambda: _Accept(self), host, port, reuse_port=reuse_port or None)
        return self.port

    def _accepted(self, transport: asyncio.Transport, accept: _Accept) -> None:
        loop = asyncio.get_running_loop()
        while len(self._handshakes) >= self.max_handshakes:
            self._evict_oldest(loop.time())
        task = loop.create_task(self._handshake(transport, accept))
        self._handshakes[task] = transport
        task.add_done_callback(self._handshake_done)

    def _handshake_done(self, task: asyncio.Task[None]) -> None:
        self._handshakes.pop(task, None)

    def _evict_oldest(self, now: float) -> None:
        task, transport = next(iter(self._handshakes.items()))
        del self._handshakes[task]
        transport.abort()
        task.cancel()
        self.handshakes_evicted += 1
        if now - self._evictions_logged_at >= EVICTION_LOG_EVERY:
            self._evictions_logged_at = now
            log.warning("radsec: %d TLS handshakes in progress, the most this listener allows: the oldest "
                        "dropped for a new connection (%d so far; a connection flood?)", self.max_handshakes,
                        self.handshakes_evicted)

    async def _handshake(self, transport: asyncio.Transport, accept: _Accept) -> None:
        peer = transport.get_extra_info("peername") or ("?", 0)
        conn = _ServerConnection(self)
        loop = asyncio.get_running_loop()
        # Runs before the TLS protocol's connection_made and the resume_reading that start_tls schedules
        # when it is called below (the ready queue is FIFO): early octets first, then the rest.
        loop.call_soon(accept.hand_over, transport)
        try:
            tls = await loop.start_tls(
                transport, conn, self.ssl_context, server_side=True,
                ssl_handshake_timeout=HANDSHAKE_TIMEOUT, ssl_shutdown_timeout=SHUTDOWN_TIMEOUT)
        except asyncio.CancelledError:
            transport.abort()
            raise
        except Exception as exc:  # ssl.SSLError, a reset, the handshake timeout: one line, no traceback
            self.handshakes_failed += 1
            transport.abort()
            # A failed start_tls leaves the connection in reference cycles (futures holding exceptions whose
            # tracebacks hold the frames that hold the TLS state with its 256 KiB buffer), freed only when
            # the cyclic collector runs: under a flood hundreds pile up and the allocator keeps the peak
            # (2,000 connects and closes: +310 MB, never returned). Dropping our traceback and a young
            # collection every COLLECT_EVERY failures (cheap: the start-up heap is frozen, tsunagaru.heap)
            # keep it near the live set (measured: +60 MB, flat over rounds).
            exc.__traceback__ = None
            if self.handshakes_failed % COLLECT_EVERY == 0:
                gc.collect(1)
            if isinstance(exc, (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError)):
                # a TCP health check or a port scan: connect, close. Visible at info, not a warning each time.
                log.info("radsec: %s:%s closed the connection during the TLS handshake", peer[0], peer[1])
            else:
                log.warning("radsec: TLS handshake from %s:%s failed: %s", peer[0], peer[1], _why(exc))
            return
        if tls is None:  # the peer went away at the last moment
            return
        conn.connection_made(tls)

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("server is not listening")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def connections(self) -> int:
        return len(self._connections)

    async def close(self, timeout: float = SHUTDOWN_TIMEOUT, drain: float = 0.0) -> None:
        """Stop listening and reading; give requests in flight up to ``drain`` seconds to be answered;
        then close every connection and wait (up to ``timeout``) for the TLS shutdowns."""
        self.draining = True
        if self._server is not None:
            self._server.close()
        for task in list(self._handshakes):
            task.cancel()
        conns = list(self._connections)
        for conn in conns:
            conn.stop_reading()
        pending = [t for c in conns for t in c.tasks]
        if pending and drain > 0:
            await asyncio.wait(pending, timeout=drain)
        for conn in conns:
            conn.close("server shutting down")
        if conns:
            await asyncio.wait([asyncio.shield(c.gone) for c in conns], timeout=timeout)
        for conn in conns:
            if not conn.gone.done() and conn.transport is not None:
                conn.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> RadSecServer:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def _why(exc: BaseException) -> str:
    """The reason of a failed handshake in a few words (OpenSSL's verify message when there is one)."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).lower().replace("_", " ")
    return str(exc) or type(exc).__name__


class _Accept(asyncio.Protocol):
    """The plain TCP side of a new connection: hold its bytes until TLS takes over.

    asyncio keeps reading paused from ``connection_made`` on, so nothing arrives here. uvloop starts
    reading right after ``connection_made`` returns, whatever it did, so the ClientHello may arrive here
    before ``start_tls`` has put the TLS protocol in place: it is kept (bounded) and handed to that
    protocol before its ``connection_made`` starts the handshake (see ``_handshake``).
    """

    def __init__(self, server: RadSecServer) -> None:
        self.server = server
        self.early = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transport is no asyncio.Transport subclass, though it is one in every other respect
        self.transport = cast(asyncio.Transport, transport)
        self.transport.pause_reading()  # the ClientHello must wait for start_tls
        self.server._accepted(self.transport, self)

    def data_received(self, data: bytes) -> None:
        self.early += data
        if self.transport is not None:
            self.transport.pause_reading()
            if len(self.early) > MAX_EARLY:  # more than a TLS client ever sends before the server's hello
                self.transport.abort()

    def hand_over(self, transport: asyncio.Transport) -> None:
        """Give the early octets to the TLS protocol ``start_tls`` installed: its ``buffer_updated`` keeps
        them in its incoming BIO until its ``connection_made`` (scheduled next) starts the handshake."""
        if not self.early or transport.is_closing():  # nothing kept, or evicted / aborted meanwhile
            return
        tls = transport.get_protocol()  # uvloop's SSLProtocol is no BufferedProtocol subclass, yet one in effect
        if not (hasattr(tls, "get_buffer") and hasattr(tls, "buffer_updated")):
            transport.abort()  # cannot happen with asyncio's or uvloop's SSLProtocol; never guess
            return
        tls = cast(asyncio.BufferedProtocol, tls)
        data, self.early = bytes(self.early), bytearray()
        view = memoryview(data)
        while view:
            buf = memoryview(tls.get_buffer(len(view)))
            n = min(len(buf), len(view))
            buf[:n] = view[:n]
            tls.buffer_updated(n)
            view = view[n:]


class _ServerConnection(asyncio.Protocol):
    """One AP or peer connected to us: its session, its handler tasks, its write back-pressure."""

    def __init__(self, server: RadSecServer) -> None:
        self.server = server
        self.loop = asyncio.get_running_loop()
        self.session = ServerSession(
            now=self.loop.time(), secret=server.secret, idle_timeout=server.idle_timeout
        )
        self.transport: asyncio.Transport | None = None
        self.writer: CoalescingWriter | None = None
        self.peer: PeerInfo | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.timer: asyncio.TimerHandle | None = None
        self.close_reason: str | None = None
        self.gone: asyncio.Future[None] = self.loop.create_future()
        self._early: list[bytes] = []
        self._reading = True
        self._backlog: collections.deque[Packet] = collections.deque()  # read while max_in_flight were busy
        self._write_paused = False
        self._stall: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.set_write_buffer_limits(high=HIGH_WATER)
        self.writer = CoalescingWriter(self.loop, transport)
        self.server._connections.add(self)
        sslobj = transport.get_extra_info("ssl_object")
        self.peer = peer_info(sslobj, transport.get_extra_info("peername"))
        refused = check_peer(sslobj, self.peer, self.server.verify_peer)
        if refused is not None:
            log.warning("radsec: refusing client %s:%s: %s", self.peer.host, self.peer.port, refused)
            self.close(f"peer refused: {refused}")
            return
        if self.server.draining:
            self.close("server shutting down")
            return
        self._arm()
        early, self._early = self._early, []
        for data in early:
            self.data_received(data)

    def data_received(self, data: bytes) -> None:
        if self.transport is None:  # TLS delivered records before start_tls handed us the connection
            self._early.append(data)
            return
        if self.server.draining or self.close_reason is not None:
            return  # shutting down: requests already read are answered, new ones are not taken
        try:
            events = self.session.receive_data(data, now=self.loop.time())
        except ProtocolViolation as exc:
            log.warning("radsec: closing connection from %s: %s", self.peer, exc.reason)
            self.close(f"protocol violation: {exc.reason}")
            return
        for ev in events:
            if isinstance(ev, Send):
                self._write(ev.data)
            elif isinstance(ev, Received):
                if len(self.tasks) >= self.server.max_in_flight or self._backlog:
                    self._backlog.append(ev.packet)  # bounded by one read; reading pauses below
                else:
                    self._dispatch(ev.packet)
        self._flow()

    def _dispatch(self, request: Packet) -> None:
        assert self.peer is not None
        try:
            result = self.server.handler(request, self.peer)
        except Exception:
            log.exception("radsec: handler failed on request %d from %s", request.identifier, self.peer)
            return
        if result is None or isinstance(result, Packet):
            self._answer(request, result)
            return
        task = self.loop.create_task(self._handle(request, result))
        self.tasks.add(task)
        task.add_done_callback(self._done)
        self._flow()

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        while self._backlog and len(self.tasks) < self.server.max_in_flight and self.close_reason is None:
            self._dispatch(self._backlog.popleft())
        self._flow()

    def _flow(self) -> None:
        """Read while fewer than max_in_flight requests are handled and the peer reads its replies."""
        want = (len(self.tasks) < self.server.max_in_flight and not self._backlog and not self._write_paused
                and not self.server.draining and self.close_reason is None)
        if self.transport is None or want == self._reading:
            return
        self._reading = want
        with contextlib.suppress(RuntimeError, AttributeError):  # the transport may be closing
            if want:
                self.transport.resume_reading()
            else:
                self.transport.pause_reading()

    def stop_reading(self) -> None:
        self._flow()

    # -- write back-pressure (asyncio calls these when the transport's buffer crosses its marks) ---------

    def pause_writing(self) -> None:
        self._write_paused = True
        self._flow()
        if self._stall is None:
            self._stall = self.loop.call_later(self.server.write_stall, self._stalled)

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None
        self._flow()

    def _stalled(self) -> None:
        self._stall = None
        if self._write_paused:
            self._cut_off(f"the peer read no replies for {self.server.write_stall:g} s")

    def _cut_off(self, why: str) -> None:
        self.server.write_stalls += 1
        log.warning("radsec: cutting off %s: %s", self.peer, why)
        self.close_reason = self.close_reason or f"write stall: {why}"
        if self.transport is not None:
            self.transport.abort()

    async def _handle(self, request: Packet, later: Awaitable[Packet | None]) -> None:
        try:
            reply = await later
        except Exception:
            log.exception("radsec: handler failed on request %d from %s", request.identifier, self.peer)
            return
        self._answer(request, reply)

    def _answer(self, request: Packet, reply: Packet | None) -> None:
        if reply is not None and self.close_reason is None:
            self.session.idle.touch(self.loop.time())
            self._write(self.session.reply(request, reply))

    def _write(self, data: bytes) -> None:
        if self.writer is not None:
            self.writer.write(data)
            if self.writer.buffered > self.server.max_buffered:
                self._cut_off(f"more than {self.server.max_buffered} octets of replies unread")

    def _arm(self) -> None:
        when = self.session.timer()
        if when is not None and self.close_reason is None:
            self.timer = self.loop.call_at(when, self._fire)

    def _fire(self) -> None:
        now = self.loop.time()
        if self.tasks:
            self.session.idle.touch(now)  # requests still being handled: not idle
        for ev in self.session.handle_timer(now):
            if isinstance(ev, Close):
                self.close(ev.reason)
                return
        self._arm()

    def close(self, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = reason
        if self.writer is not None:
            self.writer.flush()  # replies written in this loop turn still go out before the close
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.close_reason is None:
            self.close_reason = f"connection lost: {exc}" if exc else "closed by peer"
        if self.timer is not None:
            self.timer.cancel()
        if self._stall is not None:
            self._stall.cancel()
        for task in self.tasks:
            task.cancel()
        self.server._connections.discard(self)
        if not self.gone.done():
            self.gone.set_result(None)
