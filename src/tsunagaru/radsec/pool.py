"""Connections to RadSec peers, shared by every realm that resolves to the same peer.

A peer is (host, port, SNI name). The pool opens connections lazily, one more only when every open
one has all 255 identifiers in use, up to ``max_connections``. Peer state for failover comes from the
connections' watchdogs; a peer that went DOWN is reconnected in the background with exponential
back-off (0.5 s first), so it can come back UP without user traffic being risked on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

from tsunagaru.radius import Packet
from tsunagaru.radsec.client import SHUTDOWN_TIMEOUT, RadSecClient
from tsunagaru.radsec.errors import PeerUnavailable, RequestTimeout
from tsunagaru.radsec.session import DEFAULT_REQUEST_TIMEOUT, RADSEC_SECRET
from tsunagaru.radsec.tls import VerifyPeer
from tsunagaru.radsec.watchdog import DEFAULT_WATCHDOG, Backoff, PeerState, WatchdogConfig

log = logging.getLogger(__name__)

_PREFERENCE = {PeerState.UP: 0, PeerState.SUSPECT: 1, PeerState.DOWN: 2}


@dataclass(frozen=True, slots=True)
class Peer:
    """A RadSec peer as routing knows it; ``server_name`` is the SNI and the expected certificate name."""

    host: str
    port: int = 2083
    server_name: str | None = None


@dataclass(eq=False)
class _Slot:
    backoff: Backoff
    clients: list[RadSecClient] = field(default_factory=list)
    opening: bool = False
    last_state: PeerState = PeerState.UP  # optimistic for a peer never tried
    last_error: str | None = None
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    waiters: int = 0
    reviver: asyncio.Task[None] | None = None
    watchers: set[asyncio.Task[None]] = field(default_factory=set)

    def pick(self) -> RadSecClient | None:
        usable = [c for c in self.clients if c.can_send]
        return min(usable, key=lambda c: (_PREFERENCE[c.state], c.in_flight)) if usable else None

    def state(self) -> PeerState:
        live = [c.state for c in self.clients if not c.closed]
        return min(live, key=_PREFERENCE.__getitem__) if live else self.last_state


class PeerPool:
    """Requests to any number of peers over up to ``max_connections`` TLS connections each."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        *,
        secret: bytes = RADSEC_SECRET,
        max_connections: int = 4,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        connect_timeout: float = 10.0,
        watchdog: WatchdogConfig | None = DEFAULT_WATCHDOG,
        idle_timeout: float | None = None,
        verify_peer: VerifyPeer | None = None,
        backoff: Callable[[], Backoff] = Backoff,
    ) -> None:
        self.ssl_context = ssl_context
        self.secret = secret
        self.max_connections = max_connections
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.watchdog = watchdog
        self.idle_timeout = idle_timeout
        self.verify_peer = verify_peer
        self._backoff = backoff
        self._slots: dict[Peer, _Slot] = {}
        self._closing = False

    # -- state for routing ---------------------------------------------------------------------------

    def state(self, peer: Peer) -> PeerState:
        slot = self._slots.get(peer)
        return slot.state() if slot is not None else PeerState.UP

    def is_up(self, peer: Peer) -> bool:
        return self.state(peer) is PeerState.UP

    def connections(self, peer: Peer) -> int:
        slot = self._slots.get(peer)
        return sum(1 for c in slot.clients if not c.closed) if slot is not None else 0

    # -- requests ------------------------------------------------------------------------------------

    async def request(self, peer: Peer, packet: Packet, *, timeout: float | None = None) -> Packet:
        """Send ``packet`` to ``peer`` and wait for the verified reply (see RadSecClient.request).

        ``timeout`` covers waiting for a connection and for the reply. Nothing is retried, not even
        on another connection: the caller decides about failover. Raises :class:`RequestTimeout`,
        :class:`ConnectionClosed` (the connection died under the request) or :class:`PeerUnavailable`.
        """
        slot = self._slot(peer)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout or self.request_timeout)
        client = slot.pick() or await self._acquire(peer, slot, deadline)
        try:
            return await client.request(packet, timeout=max(0.001, deadline - loop.time()))
        finally:
            if slot.waiters:
                async with slot.changed:
                    slot.changed.notify()

    async def close(self, timeout: float = SHUTDOWN_TIMEOUT) -> None:
        """Close every connection and wait (up to ``timeout``) for their TLS shutdowns."""
        self._closing = True
        clients: list[RadSecClient] = []
        for slot in self._slots.values():
            if slot.reviver is not None:
                slot.reviver.cancel()
            clients.extend(slot.clients)
        await asyncio.gather(*(c.aclose("pool closed", timeout) for c in clients))

    # -- connections ---------------------------------------------------------------------------------

    def _slot(self, peer: Peer) -> _Slot:
        slot = self._slots.get(peer)
        if slot is None:
            slot = self._slots[peer] = _Slot(self._backoff())
        return slot

    async def _acquire(self, peer: Peer, slot: _Slot, deadline: float) -> RadSecClient:
        loop = asyncio.get_running_loop()
        while True:
            slot.clients = [c for c in slot.clients if not c.closed]
            client = slot.pick()
            if client is not None:
                return client
            if not slot.opening and len(slot.clients) < self.max_connections:
                if not slot.backoff.may_attempt(loop.time()):
                    raise PeerUnavailable(f"{peer.host}:{peer.port} in back-off: {slot.last_error}")
                return await self._open(peer, slot)
            async with slot.changed:
                slot.waiters += 1
                try:
                    await asyncio.wait_for(slot.changed.wait(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    raise RequestTimeout(f"no free connection to {peer.host}:{peer.port} in time") from None
                finally:
                    slot.waiters -= 1

    async def _open(self, peer: Peer, slot: _Slot) -> RadSecClient:
        loop = asyncio.get_running_loop()
        slot.opening = True
        try:
            client = await RadSecClient.connect(
                peer.host,
                peer.port,
                self.ssl_context,
                server_name=peer.server_name,
                secret=self.secret,
                request_timeout=self.request_timeout,
                watchdog=self.watchdog,
                idle_timeout=self.idle_timeout,
                verify_peer=self.verify_peer,
                connect_timeout=self.connect_timeout,
            )
        except Exception as exc:  # OSError, TimeoutError, ssl.SSLError, PeerRefused: all mean "not now"
            slot.last_error = f"{type(exc).__name__}: {exc}"
            slot.last_state = PeerState.DOWN
            slot.backoff.failed(loop.time())
            self._start_reviver(peer, slot)
            raise PeerUnavailable(f"cannot connect to {peer.host}:{peer.port}: {slot.last_error}") from exc
        finally:
            slot.opening = False
            async with slot.changed:
                slot.changed.notify_all()
        slot.backoff.succeeded()
        slot.last_state = PeerState.UP
        slot.clients.append(client)
        slot.watchers.add(loop.create_task(self._watch(peer, slot, client)))
        return client

    async def _watch(self, peer: Peer, slot: _Slot, client: RadSecClient) -> None:
        reason = await client.wait_closed()
        current = asyncio.current_task()
        if current is not None:
            slot.watchers.discard(current)
        if self._closing or reason in ("idle timeout", "pool closed"):
            return
        log.info("radsec: connection to %s:%s closed: %s", peer.host, peer.port, reason)
        if not any(not c.closed for c in slot.clients):
            slot.last_state = PeerState.DOWN
            slot.last_error = reason
            slot.backoff.failed(asyncio.get_running_loop().time())
            self._start_reviver(peer, slot)

    def _start_reviver(self, peer: Peer, slot: _Slot) -> None:
        if self._closing or (slot.reviver is not None and not slot.reviver.done()):
            return
        slot.reviver = asyncio.get_running_loop().create_task(self._revive(peer, slot))

    async def _revive(self, peer: Peer, slot: _Slot) -> None:
        """Reconnect a DOWN peer with back-off until one connection succeeds."""
        loop = asyncio.get_running_loop()
        while not self._closing and slot.last_state is PeerState.DOWN:
            await asyncio.sleep(max(0.0, slot.backoff.not_before - loop.time()))
            if any(not c.closed for c in slot.clients) or slot.opening:
                return
            with contextlib.suppress(PeerUnavailable):
                await self._open(peer, slot)
