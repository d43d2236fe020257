"""Thin asyncio adapters for RADIUS over UDP: a server that runs a handler per request, and a client.

All protocol decisions live in :mod:`tsunagaru.radius` (codec, authenticators) and
:mod:`tsunagaru.net.schedule` (retransmission, identifiers, duplicates); this module moves datagrams.
Errors are caught at one boundary per datagram: a malformed or unauthenticated packet is dropped and
logged, never answered (RFC 2865 3, RFC 6614 and BlastRADIUS advice).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

from tsunagaru.net.schedule import IdentifierPool, RadiusTimeout, ReplyCache, Retransmit, Step
from tsunagaru.radius import (
    AuthenticatorMismatch,
    Code,
    MalformedPacket,
    Packet,
    is_request,
    sign_reply,
    sign_request,
    verify_reply,
    verify_request,
)
from tsunagaru.radius.packet import PROXY_STATE

log = logging.getLogger(__name__)

Address = tuple[Any, ...]
Handler = Callable[[Packet, Address], Awaitable[Packet | None]]
SecretFor = Callable[[Address], bytes | None]

#: Requests whose replies must carry Message-Authenticator (RFC 3579 3.2, RFC 5997, BlastRADIUS).
_MA_CODES = frozenset({Code.ACCESS_REQUEST, Code.STATUS_SERVER})


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, Address], None]) -> None:
        self.on_datagram = on_datagram
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # selector transports lack the ABC

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:  # ICMP unreachable and the like: not fatal
        log.debug("UDP error: %s", exc)


class UdpRadiusServer:
    """Receive RADIUS requests on ``host:port`` and answer with what ``handler`` returns.

    With ``secret`` (bytes, or a function of the client address returning bytes or None for unknown
    clients) the server verifies each request (Message-Authenticator required on Access-Request and
    Status-Server when ``require_message_authenticator``), copies Proxy-State into the reply, and signs
    it (Response Authenticator, Message-Authenticator first). Without a secret the handler sees every
    well-formed packet and must return a finished, signed packet. ``None`` from the handler: no reply.
    At most ``max_in_flight`` requests are handled at once; datagrams beyond that are dropped (a NAS
    retransmits), so a flood cannot make the server hold unbounded work.
    """

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 1812,
        *,
        secret: bytes | SecretFor | None = None,
        require_message_authenticator: bool = True,
        duplicate_lifetime: float = 5.0,
        max_in_flight: int = 1024,
    ) -> None:
        self.handler = handler
        self.host, self.port = host, port
        self._secret_for: SecretFor | None = (lambda _a: secret) if isinstance(secret, bytes) else secret
        self.require_ma = require_message_authenticator
        self.cache = ReplyCache(lifetime=duplicate_lifetime)
        self._endpoint: _Endpoint | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.max_in_flight = max_in_flight
        self.dropped_busy = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self._datagram), local_addr=(self.host, self.port)
        )
        self._endpoint = proto
        assert proto.transport is not None
        self.port = proto.transport.get_extra_info("sockname")[1]  # the real port when 0 was asked

    async def close(self) -> None:
        if self._endpoint and self._endpoint.transport:
            self._endpoint.transport.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> UdpRadiusServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _datagram(self, data: bytes, addr: Address) -> None:
        if len(self._tasks) >= self.max_in_flight:
            self.dropped_busy += 1
            return
        task = asyncio.get_running_loop().create_task(self._serve(data, addr))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, data: bytes, addr: Address) -> None:
        try:
            request = Packet.from_bytes(data)
        except MalformedPacket as exc:
            log.warning("dropped malformed packet from %s: %s", addr[0], exc.reason)
            return
        if not is_request(request.code):
            log.warning("dropped code %d from %s: not a request", request.code, addr[0])
            return
        now = asyncio.get_running_loop().time()
        key = (addr, request.identifier, request.authenticator)
        seen, cached = self.cache.lookup(key, now)
        if seen:
            if cached is not None and self._endpoint and self._endpoint.transport:
                self._endpoint.transport.sendto(cached, addr)  # RFC 5080 2.2.2: same reply again
            return
        self.cache.start(key, now)
        wire: bytes | None = None
        try:
            wire = await self._answer(request, addr)
        finally:
            self.cache.finish(key, wire, asyncio.get_running_loop().time())
        if wire is not None and self._endpoint and self._endpoint.transport:
            self._endpoint.transport.sendto(wire, addr)

    async def _answer(self, request: Packet, addr: Address) -> bytes | None:
        secret = self._secret_for(addr) if self._secret_for else None
        if self._secret_for is not None:
            if secret is None:
                log.warning("dropped request from unknown client %s", addr[0])
                return None
            try:
                verify_request(request, secret, require_message_authenticator=self._needs_ma(request))
            except (AuthenticatorMismatch, MalformedPacket) as exc:
                log.warning("dropped request from %s: %s", addr[0], exc)
                return None
        try:
            reply = await self.handler(request, addr)
        except Exception:  # one bad request must not stop the listener
            log.exception("handler failed for a request from %s", addr[0])
            return None
        if reply is None:
            return None
        if secret is not None:
            reply = self._finish(request, reply, secret)
        try:
            return reply.to_bytes()
        except MalformedPacket as exc:
            log.error("reply to %s not sent: %s", addr[0], exc.reason)
            return None

    def _needs_ma(self, request: Packet) -> bool:
        return self.require_ma and request.code in _MA_CODES

    @staticmethod
    def _finish(request: Packet, reply: Packet, secret: bytes) -> Packet:
        reply = reply.replace(identifier=request.identifier)
        if not reply.has(PROXY_STATE):  # RFC 2865 5.33: copied unmodified and in order
            reply = reply.add(*((PROXY_STATE, v) for v in request.get_all(PROXY_STATE)))
        add_ma = request.code in _MA_CODES
        return sign_reply(reply, request.authenticator, secret, add_message_authenticator=add_ma)


class UdpRadiusClient:
    """Send RADIUS requests to one server and return verified replies.

    ``request`` assigns the Identifier, signs the packet (Request Authenticator, Message-Authenticator
    first on Access-Request and Status-Server), retransmits the identical datagram on the
    :class:`~tsunagaru.net.schedule.Retransmit` schedule, and returns the first reply whose
    authenticators verify. Hidden attributes (User-Password) must be encoded with the authenticator the
    packet carries: give the packet a random authenticator first (``os.urandom(16)``).
    """

    def __init__(
        self, host: str, port: int, secret: bytes, *, require_message_authenticator: bool = True
    ) -> None:
        self.host, self.port, self.secret = host, port, secret
        self.require_ma = require_message_authenticator
        self.ids = IdentifierPool()
        self._pending: dict[int, tuple[Packet, asyncio.Future[Packet]]] = {}
        self._endpoint: _Endpoint | None = None

    async def _transport(self) -> asyncio.DatagramTransport:
        if self._endpoint is None or self._endpoint.transport is None:
            loop = asyncio.get_running_loop()
            _, proto = await loop.create_datagram_endpoint(
                lambda: _Endpoint(self._datagram), remote_addr=(self.host, self.port)
            )
            self._endpoint = proto
        assert self._endpoint.transport is not None
        return self._endpoint.transport

    async def request(self, packet: Packet, timeout: float = 3.0, retries: int = 2) -> Packet:
        """Send ``packet`` and return the verified reply; raises :class:`RadiusTimeout`."""
        transport = await self._transport()
        ident = self.ids.take()
        try:
            sent = sign_request(
                packet.replace(identifier=ident), self.secret,
                add_message_authenticator=packet.code in _MA_CODES,
            )
            wire = sent.to_bytes()
            future: asyncio.Future[Packet] = asyncio.get_running_loop().create_future()
            self._pending[ident] = (sent, future)
            return await self._exchange(transport, wire, future, timeout, retries)
        finally:
            self._pending.pop(ident, None)
            self.ids.release(ident)

    async def _exchange(
        self,
        transport: asyncio.DatagramTransport,
        wire: bytes,
        future: asyncio.Future[Packet],
        timeout: float,
        retries: int,
    ) -> Packet:
        loop = asyncio.get_running_loop()
        schedule = Retransmit(timeout, retries, started=loop.time())
        transport.sendto(wire)
        while True:
            wait = max(0.0, schedule.deadline - loop.time())
            try:
                return await asyncio.wait_for(asyncio.shield(future), wait)
            except TimeoutError:
                pass
            step = schedule.step(loop.time())
            if step is Step.GIVE_UP:
                raise RadiusTimeout(f"no reply from {self.host}:{self.port} after {schedule.sent} tries")
            if step is Step.RESEND:
                transport.sendto(wire)

    def _datagram(self, data: bytes, addr: Address) -> None:
        try:
            reply = Packet.from_bytes(data)
        except MalformedPacket as exc:
            log.warning("dropped malformed reply from %s: %s", addr[0], exc.reason)
            return
        pending = self._pending.get(reply.identifier)
        if pending is None or pending[1].done():
            return  # late, duplicate, or never asked
        sent, future = pending
        needs_ma = self.require_ma and sent.code in _MA_CODES
        try:
            verify_reply(reply, sent.authenticator, self.secret, require_message_authenticator=needs_ma)
        except (AuthenticatorMismatch, MalformedPacket) as exc:
            log.warning("dropped reply from %s: %s", addr[0], exc)
            return
        future.set_result(reply)

    async def close(self) -> None:
        if self._endpoint and self._endpoint.transport:
            self._endpoint.transport.close()
        self._endpoint = None

    async def __aenter__(self) -> UdpRadiusClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
