"""RADIUS packets on a byte stream (RFC 6614 2.5): back to back, each sized by its own Length field.

Pure: bytes in, whole frames out. A Length outside 20..4096 is a :class:`FramingError`, after which
the framer refuses further input, because a stream cannot be resynchronised once a length is wrong.
Frames that preceded the bad one in the same chunk are dropped with it: the connection closes anyway.
"""

from __future__ import annotations

from tsunagaru.radius.packet import HEADER_LEN, MAX_PACKET_LEN
from tsunagaru.radsec.errors import FramingError

MIN_FRAME = HEADER_LEN
MAX_FRAME = MAX_PACKET_LEN


class StreamFramer:
    """Splits a TLS byte stream into RADIUS packets (each returned as its exact wire bytes)."""

    __slots__ = ("_broken", "_buf")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._broken: str | None = None

    @property
    def buffered(self) -> int:
        """Octets received that do not yet make a whole frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        """Add received octets; return every frame now complete, in order."""
        if self._broken is not None:
            raise FramingError(f"stream already broken: {self._broken}")
        self._buf += data
        frames: list[bytes] = []
        buf = self._buf
        pos, end = 0, len(buf)
        while end - pos >= 4:
            length = (buf[pos + 2] << 8) | buf[pos + 3]
            if length < MIN_FRAME or length > MAX_FRAME:
                self._broken = f"length field {length} outside {MIN_FRAME}..{MAX_FRAME}"
                self._buf.clear()
                raise FramingError(self._broken)
            if end - pos < length:
                break
            frames.append(bytes(buf[pos : pos + length]))
            pos += length
        if pos:
            del buf[:pos]
        return frames
