"""A UDP socket served straight from the event loop, draining every datagram that is waiting.

Why not ``loop.create_datagram_endpoint``: asyncio's datagram transport reads one datagram per
readiness event and then goes round the whole loop (epoll_wait, timers, the ready queue) before it
reads the next, and its ``sendto`` adds a layer of checks and buffering that a RADIUS server never
needs (a reply that does not fit the socket buffer is dropped; the NAS retransmits). Under load that
round trip through the loop cost about as much per datagram as verifying and answering a simple
RADIUS request. :class:`DatagramSocket` registers a reader and, when woken, reads up to ``burst``
datagrams before returning to the loop, so a busy server pays the loop once per burst. It stays an
I/O adapter: the callback gets bytes and an address, nothing else.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Address = tuple[Any, ...]
MAX_DATAGRAM = 65535


class DatagramSocket:
    """A bound, non-blocking UDP socket; ``on_datagram(data, addr)`` runs for each datagram received."""

    def __init__(self, sock: socket.socket, on_datagram: Callable[[bytes, Address], None], *,
                 burst: int = 64) -> None:
        self.sock = sock
        self.on_datagram = on_datagram
        self.burst = burst
        self.sends_dropped = 0  # replies the kernel refused (full buffer): counted, never queued
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self._paused = False
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self._readable)

    @classmethod
    async def bind(cls, host: str, port: int, on_datagram: Callable[[bytes, Address], None], *,
                   burst: int = 64, reuse_port: bool = False) -> DatagramSocket:
        """Bind ``host:port`` (IPv4 or IPv6 literal or name; port 0 picks one) and start reading;
        ``reuse_port``: SO_REUSEPORT, one socket per pre-fork worker (tsunagaru.net.workers)."""
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        if not infos:
            raise OSError(f"cannot resolve {host!r}")
        family, kind, proto, _, addr = infos[0]
        sock = socket.socket(family, kind, proto)
        try:
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(addr)
        except OSError:
            sock.close()
            raise
        return cls(sock, on_datagram, burst=burst)

    @property
    def sockname(self) -> Address:
        return tuple(self.sock.getsockname())

    def sendto(self, data: bytes, addr: Address) -> None:
        if self._closed:
            return
        try:
            self.sock.sendto(data, addr)
        except (BlockingIOError, InterruptedError):
            self.sends_dropped += 1
        except OSError as exc:  # e.g. no route: the request's sender is gone; nothing to do
            log.debug("UDP send to %s failed: %s", addr[0], exc)

    def pause_reading(self) -> None:
        """Stop reading (a graceful stop: no new requests) while replies can still be sent."""
        if not self._closed and not self._paused:
            self._paused = True
            self._loop.remove_reader(self.sock.fileno())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if not self._paused:
            self._loop.remove_reader(self.sock.fileno())
        self.sock.close()

    def is_closing(self) -> bool:
        return self._closed

    def _readable(self) -> None:
        for _ in range(self.burst):
            if self._closed or self._paused:
                return
            try:
                data, addr = self.sock.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # ICMP errors surface on the next read (ECONNREFUSED): not fatal
                log.debug("UDP receive error: %s", exc)
                continue
            try:
                self.on_datagram(data, addr)
            except Exception:  # one bad datagram must not stop the socket
                log.exception("datagram handler failed")
