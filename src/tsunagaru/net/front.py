"""The RADIUS/UDP server front: datagrams from allowed sources in, an answer function, replies out.

It only moves packets. ``answer(packet, address)`` returns the reply at once (a Packet or None: drop) or an
awaitable of one when the work runs elsewhere (a password check in a worker); such requests are tracked,
at most ``max_in_flight`` at a time (more are dropped and counted: the NAS retransmits), and a graceful
:meth:`UdpFront.drain` stops reading, lets them finish for up to a deadline and still sends their replies.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from tsunagaru.net.datagram import Address, DatagramSocket
from tsunagaru.radius import MalformedPacket, Packet

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Answer = Callable[[Packet, Address], "Packet | Awaitable[Packet | None] | None"]
MAX_VERDICTS = 4096  # source addresses whose allowed/refused verdict is remembered


class UdpFront:
    """One bound socket; ``on_drop(why)`` is told of every datagram dropped here (for a counter)."""

    def __init__(self, answer: Answer, allowed: Sequence[Network], *, max_in_flight: int = 4096,
                 on_drop: Callable[[str], None] | None = None) -> None:
        self.answer = answer
        self.allowed = tuple(allowed)
        self.max_in_flight = max_in_flight
        self.on_drop = on_drop or (lambda _why: None)
        self.socket: DatagramSocket | None = None
        self._verdicts: dict[str, bool] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._draining = False

    async def bind(self, host: str, port: int, *, reuse_port: bool = False) -> Address:
        self.socket = await DatagramSocket.bind(host, port, self._datagram, reuse_port=reuse_port)
        return self.socket.sockname

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def _allowed(self, host: str) -> bool:
        verdict = self._verdicts.get(host)
        if verdict is None:
            if len(self._verdicts) >= MAX_VERDICTS:  # bounded: spoofed sources must not grow it
                self._verdicts.clear()
            address = ipaddress.ip_address(host.split("%", 1)[0])
            verdict = self._verdicts[host] = any(address in net for net in self.allowed)
        return verdict

    def _datagram(self, data: bytes, addr: Address) -> None:
        if self._draining:
            return
        try:
            if not self._allowed(addr[0]):
                self.on_drop("unknown_client")
                return
            request = Packet.from_bytes(data)
        except (ValueError, MalformedPacket):
            self.on_drop("malformed")
            return
        result = self.answer(request, addr)
        if not inspect.isawaitable(result):
            self._send(result, addr)
            return
        if len(self._tasks) >= self.max_in_flight:
            _close(result)
            self.on_drop("busy")
            return
        task = asyncio.ensure_future(self._later(result, addr))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _later(self, pending: Awaitable[Packet | None], addr: Address) -> None:
        try:
            reply = await pending
        except asyncio.CancelledError:
            raise
        except Exception:  # one request's failure must not end the listener; the NAS retransmits
            log.exception("answering a RADIUS/UDP request failed")
            self.on_drop("error")
            return
        self._send(reply, addr)

    def _send(self, reply: Packet | None, addr: Address) -> None:
        if reply is None or self.socket is None:
            return
        try:
            self.socket.sendto(reply.to_bytes(), addr)
        except MalformedPacket as exc:
            log.error("reply not sent: %s", exc.reason)

    async def drain(self, timeout: float) -> int:
        """Stop reading, wait up to ``timeout`` s for the requests in flight (their replies are sent),
        cancel what is left; returns how many were cancelled."""
        self._draining = True
        if self.socket is not None:
            self.socket.pause_reading()
        pending = set(self._tasks)
        if pending:
            _, late = await asyncio.wait(pending, timeout=timeout)
            for task in late:
                task.cancel()
            if late:
                await asyncio.gather(*late, return_exceptions=True)
            return len(late)
        return 0

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()


def _close(result: Any) -> None:
    """Discard an awaitable that will not be awaited (a coroutine must be closed, a future cancelled)."""
    if inspect.iscoroutine(result):
        result.close()
    elif isinstance(result, asyncio.Future):
        result.cancel()
