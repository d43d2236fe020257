"""RadSec peers we control for the fault tests, each in a thread with its own event loop (not a test module).

:class:`SlowIdp` answers every request after ``delay`` seconds and counts what it sees (requests, the
most at once, accounting sessions); :class:`SilentTcp` accepts TCP connections and never speaks TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

from tsunagaru.radius import Code, Packet
from tsunagaru.radsec import RadSecServer, server_context

ACCT_SESSION_ID = 44


class SlowIdp:
    """A federation IdP (the demo's idp-radsec certificate) that answers after ``delay`` seconds."""

    def __init__(self, state_root: Path, delay: float) -> None:
        self.delay = delay
        self.requests = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.sessions: set[bytes] = set()
        self.ctx = server_context(certfile=state_root / "idp-radsec.pem", keyfile=state_root / "idp-radsec.key",
                                  cafile=state_root / "federation-roots.pem")
        self.port = 0

    async def handle(self, request: Packet, peer: object) -> Packet:
        self.requests += 1
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        if request.code == Code.ACCOUNTING_REQUEST:
            self.sessions.add(request.get(ACCT_SESSION_ID) or b"")
            return Packet(Code.ACCOUNTING_RESPONSE, 0)
        return Packet(Code.ACCESS_ACCEPT, 0)


@contextlib.contextmanager
def slow_idp(state_root: Path, delay: float) -> Iterator[SlowIdp]:
    idp = SlowIdp(state_root, delay)
    loop = asyncio.new_event_loop()
    server = RadSecServer(idp.handle, idp.ctx)
    idp.port = loop.run_until_complete(server.start("127.0.0.1", 0))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        asyncio.run_coroutine_threadsafe(server.close(timeout=1), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


class SilentTcp:
    """Accepts TCP connections and holds them open without a byte of TLS (a stalled handshake)."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(512)
        self.port = int(self.listener.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self.listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def open_now(self) -> int:
        """Connections still open from the other side (a read of 0 octets: the peer closed it)."""
        alive = 0
        for conn in self.accepted:
            conn.setblocking(False)
            try:
                data = conn.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                alive += 1
                continue
            except OSError:
                continue
            alive += bool(data)
        return alive

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()
        for conn in self.accepted:
            conn.close()


@contextlib.contextmanager
def silent_tcp() -> Iterator[SilentTcp]:
    peer = SilentTcp()
    try:
        yield peer
    finally:
        peer.close()
