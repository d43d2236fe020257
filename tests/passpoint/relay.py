"""A recording UDP relay between hostapd and the ANP: it forwards every datagram both ways unchanged and
keeps a copy of what hostapd sent, so a test can assert on the exact bytes the ANP received.
Bounded: at most MAX_RECORDED datagrams kept; stopped by the context manager."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from collections.abc import Iterator

MAX_RECORDED = 1000


class Relay:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.bind(("127.0.0.1", 0))
        self.port = int(self.front.getsockname()[1])
        self.seen: list[bytes] = []
        self._client: tuple[str, int] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.front, selectors.EVENT_READ)
        sel.register(self.back, selectors.EVENT_READ)
        while not self._stop.is_set():
            for key, _ in sel.select(timeout=0.1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                data, addr = sock.recvfrom(65535)
                if sock is self.front:
                    self._client = addr
                    if len(self.seen) < MAX_RECORDED:
                        self.seen.append(data)
                    self.back.sendto(data, self.target)
                elif self._client is not None:
                    self.front.sendto(data, self._client)
        sel.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.front.close()
        self.back.close()


@contextlib.contextmanager
def relay(port: int) -> Iterator[Relay]:
    r = Relay(("127.0.0.1", port))
    r._thread.start()
    try:
        yield r
    finally:
        r.close()
