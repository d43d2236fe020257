from __future__ import annotations

import pytest

from tsunagaru.radius import Code, Packet
from tsunagaru.radsec import FramingError, StreamFramer


def _packets() -> list[bytes]:
    return [
        Packet(Code.ACCESS_REQUEST, 1, b"\x01" * 16, ((1, b"alice"),)).to_bytes(),
        Packet(Code.STATUS_SERVER, 0, b"\x02" * 16).to_bytes(),
        Packet(Code.ACCESS_REQUEST, 2, b"\x03" * 16, ((1, b"x" * 253),) * 8).to_bytes(),
    ]


def test_whole_stream_gives_every_packet() -> None:
    pkts = _packets()
    framer = StreamFramer()
    assert framer.feed(b"".join(pkts)) == pkts
    assert framer.buffered == 0


def test_byte_by_byte_gives_the_same_packets() -> None:
    pkts = _packets()
    framer = StreamFramer()
    out: list[bytes] = []
    for b in b"".join(pkts):
        out.extend(framer.feed(bytes([b])))
    assert out == pkts


def test_partial_frame_waits() -> None:
    pkt = _packets()[0]
    framer = StreamFramer()
    assert framer.feed(pkt[:3]) == []
    assert framer.feed(pkt[3:-1]) == []
    assert framer.buffered == len(pkt) - 1
    assert framer.feed(pkt[-1:]) == [pkt]


@pytest.mark.parametrize("length", [0, 4, 19, 4097, 65535])
def test_length_out_of_range_breaks_the_stream(length: int) -> None:
    framer = StreamFramer()
    bad = bytes([1, 1]) + length.to_bytes(2, "big") + b"\x00" * 16
    with pytest.raises(FramingError):
        framer.feed(bad)
    with pytest.raises(FramingError):
        framer.feed(_packets()[0])  # once broken, always broken


def test_bounds_are_inclusive() -> None:
    smallest = Packet(Code.ACCESS_REQUEST, 1).to_bytes()
    assert len(smallest) == 20
    biggest = bytes([1, 1]) + (4096).to_bytes(2, "big") + b"\x00" * 4092
    assert StreamFramer().feed(smallest + biggest) == [smallest, biggest]
