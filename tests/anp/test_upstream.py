"""Failover across peers within one time budget (an in-memory transport is the test seam)."""

from __future__ import annotations

import asyncio

import pytest

from tsunagaru.anp.routing import PeerAddress
from tsunagaru.anp.upstream import UpstreamError, deliver
from tsunagaru.radius import Code, Packet
from tsunagaru.radius.reasons import RejectReason

A, B = PeerAddress("127.0.0.1", 1), PeerAddress("127.0.0.1", 2)


class MemoryTransport:
    def __init__(self, behaviour: dict[PeerAddress, str], down: set[PeerAddress] = frozenset()) -> None:  # type: ignore[assignment]
        self.behaviour = behaviour
        self.down = down
        self.tried: list[PeerAddress] = []

    async def close(self) -> None:
        pass

    def is_up(self, peer: PeerAddress) -> bool:
        return peer not in self.down

    async def send(self, peer: PeerAddress, packet: Packet, timeout: float) -> tuple[Packet, Packet]:
        self.tried.append(peer)
        what = self.behaviour[peer]
        if what == "refuse":
            raise ConnectionRefusedError("refused")
        if what == "hang":
            await asyncio.sleep(timeout)
            raise TimeoutError
        return packet, Packet(Code.ACCESS_ACCEPT, packet.identifier)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_first_peer_refusing_fails_over_to_second() -> None:
    t = MemoryTransport({A: "refuse", B: "ok"})
    d = run(deliver(t, [A, B], Packet(Code.ACCESS_REQUEST, 0), 2.0))
    assert d.peer == B and d.attempts == 2


def test_hanging_peer_gets_only_its_share_of_the_budget() -> None:
    t = MemoryTransport({A: "hang", B: "ok"})
    d = run(deliver(t, [A, B], Packet(Code.ACCESS_REQUEST, 0), 0.4))
    assert d.peer == B


def test_peers_known_down_are_tried_last() -> None:
    t = MemoryTransport({A: "ok", B: "ok"}, down={A})
    assert run(deliver(t, [A, B], Packet(Code.ACCESS_REQUEST, 0), 1.0)).peer == B


def test_all_hanging_is_a_protocol_timeout() -> None:
    t = MemoryTransport({A: "hang", B: "hang"})
    with pytest.raises(UpstreamError) as info:
        run(deliver(t, [A, B], Packet(Code.ACCESS_REQUEST, 0), 0.2))
    assert info.value.reason == RejectReason.PROTOCOL_TIMEOUT


def test_all_refusing_is_a_backend_failure() -> None:
    t = MemoryTransport({A: "refuse", B: "refuse"})
    with pytest.raises(UpstreamError) as info:
        run(deliver(t, [A, B], Packet(Code.ACCESS_REQUEST, 0), 1.0))
    assert info.value.reason == RejectReason.BACKEND_FAILURE
