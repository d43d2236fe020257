"""Connections to RadSec peers, shared by every realm that resolves to the same peer.

A peer is (host, port, SNI name). The pool opens connections lazily, one more only when every open
one has all 255 identifiers in use, up to ``max_connections``. Peer state for failover comes from the
connections' watchdogs; a peer that went DOWN is reconnected in the background with exponential
back-off (0.5 s first), so it can come back UP without user traffic being risked on it.

Bounded, because peers come from DNS that anyone can write: at most ``max_peers`` peers have a slot;
a slot no request used for ``slot_idle`` seconds is dropped with its connections; a peer that stays
DOWN for ``give_up_after`` seconds loses its reviver and its slot (it is tried again, from discovery,
when a request needs it); at most ``max_opening`` connection attempts run at once. ``pinned`` peers
(static routes) keep their slot and reviver. ``on_forget(peer)`` runs for every slot dropped, so the
metrics can drop the peer's series. A reviver that meets an unexpected error logs it, counts it in
``errors`` and keeps going.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tsunagaru.radius import Packet
from tsunagaru.radsec.client import SHUTDOWN_TIMEOUT, RadSecClient, Waiter
from tsunagaru.radsec.errors import PeerRefused, PeerUnavailable, RequestTimeout
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
    last_used: float = 0.0  # loop time of the last request (or creation)
    down_since: float | None = None

    def pick(self) -> RadSecClient | None:
        if len(self.clients) == 1:  # the common case: no list, no sort key
            only = self.clients[0]
            return only if only.can_send else None
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
        max_peers: int = 10_000,
        slot_idle: float = 600.0,
        give_up_after: float = 900.0,
        max_opening: int = 64,
        pinned: Iterable[Peer] = (),
        on_forget: Callable[[Peer], None] | None = None,
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
        self.max_peers = max_peers
        self.slot_idle = slot_idle
        self.give_up_after = give_up_after
        self.max_opening = max_opening
        self.pinned = set(pinned)
        self.on_forget = on_forget
        self._slots: dict[Peer, _Slot] = {}
        self._closing = False
        self._opening = 0
        self._reaper: asyncio.Task[None] | None = None
        self._notifiers: set[asyncio.Task[None]] = set()
        self.connect_attempts = 0  # every TLS connection attempt, for metrics and tests
        self.given_up = 0  # peers forgotten after staying down
        self.expired = 0  # slots dropped because no request used them
        self.errors = 0  # unexpected exceptions in revivers, survived

    @property
    def peers(self) -> int:
        """Peers the pool keeps state for (bounded by ``max_peers``)."""
        return len(self._slots)

    @property
    def tasks(self) -> int:
        """Background tasks the pool runs now (revivers, watchers, the reaper)."""
        alive = [s.reviver for s in self._slots.values() if s.reviver is not None and not s.reviver.done()]
        return len(alive) + sum(len(s.watchers) for s in self._slots.values()) + (
            1 if self._reaper is not None and not self._reaper.done() else 0)

    # -- state for routing ---------------------------------------------------------------------------

    def state(self, peer: Peer) -> PeerState:
        slot = self._slots.get(peer)
        return slot.state() if slot is not None else PeerState.UP

    def known_state(self, peer: Peer) -> PeerState | None:
        """The peer's state while the pool keeps a slot for it; None for a peer never tried or forgotten
        (where :meth:`state` is optimistically UP, which says nothing for health)."""
        slot = self._slots.get(peer)
        return slot.state() if slot is not None else None

    def is_up(self, peer: Peer) -> bool:
        return self.state(peer) is PeerState.UP

    def connections(self, peer: Peer) -> int:
        slot = self._slots.get(peer)
        return sum(1 for c in slot.clients if not c.closed) if slot is not None else 0

    # -- requests ------------------------------------------------------------------------------------

    async def request(self, peer: Peer, packet: Packet, *, timeout: float | None = None,
                      authorize: Callable[[RadSecClient], str | None] | None = None) -> Packet:
        """Send ``packet`` to ``peer`` and wait for the verified reply (see RadSecClient.request).

        ``timeout`` covers waiting for a connection and for the reply. Nothing is retried, not even
        on another connection: the caller decides about failover. ``authorize(client)`` may refuse the
        connection for this request (e.g. its certificate does not name the request's realm): it raises
        :class:`PeerRefused`. Raises :class:`RequestTimeout`, :class:`ConnectionClosed` (the connection
        died under the request) or :class:`PeerUnavailable`.
        """
        slot = self._slot(peer)
        loop = asyncio.get_running_loop()
        slot.last_used = loop.time()
        deadline = loop.time() + (timeout or self.request_timeout)
        client = slot.pick() or await self._acquire(peer, slot, deadline)
        if authorize is not None:
            refused = authorize(client)
            if refused is not None:
                raise PeerRefused(refused)
        try:
            return await client.request(packet, timeout=max(0.001, deadline - loop.time()))
        finally:
            if slot.waiters:
                async with slot.changed:
                    slot.changed.notify()

    def try_send(self, peer: Peer, packet: Packet, done: Waiter, *, timeout: float | None = None,
                 authorize: Callable[[RadSecClient], str | None] | None = None) -> bool:
        """The fast path of :meth:`request` for a proxy: when an open connection to ``peer`` can take the
        request now (and ``authorize`` lets it), send it, return True, and ``done(reply, error)`` is called
        later (see :meth:`RadSecClient.send`). False: nothing was sent (no usable connection yet, requests
        waiting for one, or refused); :meth:`request` then does the waiting, opening and refusing."""
        slot = self._slots.get(peer)
        if slot is None or slot.waiters:
            return False
        client = slot.pick()
        if client is None or (authorize is not None and authorize(client) is not None):
            return False
        slot.last_used = client.loop_time()
        client.send(packet, done, timeout=timeout or self.request_timeout)
        return True

    def _settled(self, slot: _Slot) -> None:
        """Identifiers came free on a connection: wake a request waiting for one (request() does the same
        when it completes; a callback from try_send cannot wait on the condition itself)."""
        if slot.waiters and not self._closing:
            task = asyncio.get_running_loop().create_task(self._notify(slot))
            self._notifiers.add(task)  # referenced until done
            task.add_done_callback(self._notifiers.discard)

    @staticmethod
    async def _notify(slot: _Slot) -> None:
        async with slot.changed:
            slot.changed.notify()

    async def close(self, timeout: float = SHUTDOWN_TIMEOUT) -> None:
        """Close every connection and wait (up to ``timeout``) for their TLS shutdowns."""
        self._closing = True
        if self._reaper is not None:
            self._reaper.cancel()
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
            loop = asyncio.get_running_loop()
            if len(self._slots) >= self.max_peers:
                self.reap(loop.time())
                if len(self._slots) >= self.max_peers:
                    raise PeerUnavailable(f"{peer.host}:{peer.port}: the pool already holds {self.max_peers} peers")
            slot = self._slots[peer] = _Slot(self._backoff(), last_used=loop.time())
            if self._reaper is None or self._reaper.done():
                self._reaper = loop.create_task(self._reap_forever())
        return slot

    # -- bounds --------------------------------------------------------------------------------------

    def reap(self, now: float) -> int:
        """Drop slots of unpinned peers that no request used for ``slot_idle`` s, or that stayed DOWN
        for ``give_up_after`` s; returns how many were dropped."""
        dropped = 0
        for peer, slot in list(self._slots.items()):
            if peer in self.pinned or slot.waiters or slot.opening:
                continue
            dead = slot.down_since is not None and now - slot.down_since >= self.give_up_after
            idle = now - slot.last_used >= self.slot_idle
            if dead or idle:
                self._forget(peer, slot, "stayed down" if dead else "idle")
                dropped += 1
        return dropped

    def _forget(self, peer: Peer, slot: _Slot, why: str) -> None:
        if self._slots.get(peer) is not slot:
            return
        del self._slots[peer]
        if why == "stayed down":
            self.given_up += 1
            log.warning("radsec: giving up on %s:%s (%s) after %.0f s down (last error: %s); it is tried again "
                        "when a request needs it", peer.host, peer.port, peer.server_name, self.give_up_after,
                        slot.last_error)
        else:
            self.expired += 1
        if slot.reviver is not None and slot.reviver is not asyncio.current_task():
            slot.reviver.cancel()
        for client in slot.clients:
            client.close(f"peer forgotten ({why})")
        if self.on_forget is not None:
            try:
                self.on_forget(peer)
            except Exception:
                self.errors += 1
                log.exception("radsec: on_forget(%s:%s) failed", peer.host, peer.port)

    async def _reap_forever(self) -> None:
        interval = max(0.05, min(self.slot_idle, self.give_up_after) / 4)
        loop = asyncio.get_running_loop()
        while not self._closing and self._slots:
            await asyncio.sleep(interval)
            try:
                self.reap(loop.time())
            except Exception:
                self.errors += 1
                log.exception("radsec: reaping idle peers failed")

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
                    async with asyncio.timeout_at(deadline):  # wait_for (3.11) can swallow a cancellation
                        await slot.changed.wait()
                except TimeoutError:
                    raise RequestTimeout(f"no free connection to {peer.host}:{peer.port} in time") from None
                finally:
                    slot.waiters -= 1

    async def _open(self, peer: Peer, slot: _Slot) -> RadSecClient:
        loop = asyncio.get_running_loop()
        if self._opening >= self.max_opening:
            raise PeerUnavailable(f"{peer.host}:{peer.port}: {self.max_opening} connection attempts already "
                                  "in progress")
        slot.opening = True
        self._opening += 1
        self.connect_attempts += 1
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
            slot.down_since = slot.down_since if slot.down_since is not None else loop.time()
            slot.backoff.failed(loop.time())
            self._start_reviver(peer, slot)
            raise PeerUnavailable(f"cannot connect to {peer.host}:{peer.port}: {slot.last_error}") from exc
        finally:
            slot.opening = False
            self._opening -= 1
            async with slot.changed:
                slot.changed.notify_all()
        slot.backoff.succeeded()
        slot.last_state = PeerState.UP
        slot.down_since = None
        slot.clients.append(client)
        client.on_settled = lambda: self._settled(slot)
        slot.watchers.add(loop.create_task(self._watch(peer, slot, client)))
        return client

    async def _watch(self, peer: Peer, slot: _Slot, client: RadSecClient) -> None:
        reason = await client.wait_closed()
        current = asyncio.current_task()
        if current is not None:
            slot.watchers.discard(current)
        if self._closing or reason in ("idle timeout", "pool closed") or self._slots.get(peer) is not slot:
            return
        log.info("radsec: connection to %s:%s closed: %s", peer.host, peer.port, reason)
        if not any(not c.closed for c in slot.clients):
            slot.last_state = PeerState.DOWN
            slot.down_since = asyncio.get_running_loop().time()
            slot.last_error = reason
            slot.backoff.failed(asyncio.get_running_loop().time())
            self._start_reviver(peer, slot)

    def _start_reviver(self, peer: Peer, slot: _Slot) -> None:
        if self._closing or (slot.reviver is not None and not slot.reviver.done()):
            return
        slot.reviver = asyncio.get_running_loop().create_task(self._revive(peer, slot))

    async def _revive(self, peer: Peer, slot: _Slot) -> None:
        """Reconnect a DOWN peer with back-off until one connection succeeds, or give it up after
        ``give_up_after`` seconds (pinned peers: never). Unexpected errors are logged and survived."""
        loop = asyncio.get_running_loop()
        while not self._closing and slot.last_state is PeerState.DOWN and self._slots.get(peer) is slot:
            if (peer not in self.pinned and slot.down_since is not None
                    and loop.time() - slot.down_since >= self.give_up_after):
                self._forget(peer, slot, "stayed down")
                return
            await asyncio.sleep(max(0.0, slot.backoff.not_before - loop.time()))
            if any(not c.closed for c in slot.clients) or slot.opening:
                return
            try:
                await self._open(peer, slot)
            except PeerUnavailable:
                if slot.backoff.not_before <= loop.time():  # refused before trying (too many attempts at once)
                    await asyncio.sleep(0.1)
            except Exception:
                self.errors += 1
                log.exception("radsec: reconnecting to %s:%s failed unexpectedly; retrying", peer.host, peer.port)
                slot.backoff.failed(loop.time())
