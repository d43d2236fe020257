"""A RADIUS/UDP client for tests (the product sends RADIUS over RadSec, never as a UDP client).

It retransmits the identical datagram on a fixed schedule (RFC 2865 2.5, RFC 5080 2.2), takes
Identifiers from a pool of 256, and returns the first reply whose authenticators verify. Moved here from
``tsunagaru.net`` (review 31): only tests used it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, cast

from tsunagaru.radius import (
    AuthenticatorMismatch,
    Code,
    MalformedPacket,
    Packet,
    sign_request,
    verify_reply,
)

log = logging.getLogger(__name__)


class RadiusTimeout(Exception):
    """No verified reply arrived after the first transmission and every retransmission."""


class Step(Enum):
    WAIT = "wait"
    RESEND = "resend"
    GIVE_UP = "give-up"


@dataclass(slots=True)
class Retransmit:
    """When to resend one request: ``1 + retries`` transmissions, each waiting ``timeout`` seconds.

    Fixed per-try timeouts, as radclient and most NASes use, keep the worst case easy to state:
    ``timeout * (1 + retries)`` seconds.
    """

    timeout: float
    retries: int
    started: float
    sent: int = 1
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.retries < 0:
            raise ValueError("timeout must be positive and retries not negative")
        self.deadline = self.started + self.timeout

    def step(self, now: float) -> Step:
        """What to do at ``now``: keep waiting, resend (and re-arm), or give up."""
        if now < self.deadline:
            return Step.WAIT
        if self.sent > self.retries:
            return Step.GIVE_UP
        self.sent += 1
        self.deadline = now + self.timeout
        return Step.RESEND


@dataclass(slots=True)
class IdentifierPool:
    """The 256 RADIUS Identifiers of one client socket; an ID stays taken until its exchange ends."""

    next_id: int = 0
    taken: set[int] = field(default_factory=set)

    def take(self) -> int:
        if len(self.taken) >= 256:
            raise RuntimeError("all 256 RADIUS identifiers are in flight on this socket")
        while self.next_id in self.taken:
            self.next_id = (self.next_id + 1) % 256
        ident = self.next_id
        self.taken.add(ident)
        self.next_id = (ident + 1) % 256
        return ident

    def release(self, ident: int) -> None:
        self.taken.discard(ident)

Address = tuple[Any, ...]

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
