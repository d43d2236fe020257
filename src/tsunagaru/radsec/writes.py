"""Coalesce writes made in one event-loop iteration into one send(), one TLS record per packet.

Without it every packet costs its own system call (measured: the largest single cost of the server
under 64 requests in flight). The price is at most one loop iteration of latency.

Each packet still gets its own TLS record: FreeRADIUS 3.2.1 treats a record holding two RADIUS
packets as a bad packet ("Received bad packet: Length 126 contents 63") and closes the connection,
although RFC 6614 defines a byte stream. ``writelines`` on asyncio's TLS transport (3.11+) encrypts
each item as its own record and sends the records together.
"""

from __future__ import annotations

import asyncio


class CoalescingWriter:
    """``write()`` buffers; the packets go to the transport together at the end of this loop iteration."""

    __slots__ = ("_loop", "_parts", "_scheduled", "_size", "_transport")

    def __init__(self, loop: asyncio.AbstractEventLoop, transport: asyncio.WriteTransport) -> None:
        self._loop = loop
        self._transport = transport
        self._parts: list[bytes] = []
        self._size = 0  # octets in _parts: kept as they come, not summed on every check
        self._scheduled = False

    def write(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        parts, self._parts, self._size = self._parts, [], 0
        if parts and not self._transport.is_closing():
            self._transport.writelines(parts)

    def flush(self) -> None:
        """Hand what is buffered to the transport now (before closing it)."""
        if self._parts:
            self._flush()

    @property
    def buffered(self) -> int:
        """Octets waiting: ours plus the transport's write buffer (what a peer that never reads grows)."""
        return self._size + self._transport.get_write_buffer_size()
