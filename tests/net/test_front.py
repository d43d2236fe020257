"""The one RADIUS/UDP server front: allowed sources, answers now or later, bounded in-flight, graceful drain."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from tsunagaru.net.front import UdpFront
from tsunagaru.radius import Code, Packet


def test_drain_sends_the_replies_of_requests_in_flight() -> None:
    """Review 6 (IdP side): replies of requests in flight at stop were thrown away."""

    async def main() -> tuple[list[int], int, list[str]]:
        release = asyncio.Event()
        drops: list[str] = []

        async def later(packet: Packet) -> Packet:
            await release.wait()
            return Packet(Code.ACCESS_REJECT, packet.identifier, bytes(16))

        front = UdpFront(lambda p, _a: later(p), [ipaddress.ip_network("127.0.0.0/8")], on_drop=drops.append,
                         max_in_flight=3)
        host, port = (await front.bind("127.0.0.1", 0))[:2]
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.setblocking(False)
        for ident in range(5):
            client.sendto(Packet(Code.ACCESS_REQUEST, ident, bytes(16)).to_bytes(), (host, port))
        while front.in_flight < 3:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        draining = asyncio.ensure_future(front.drain(5.0))
        await asyncio.sleep(0.05)
        client.sendto(Packet(Code.ACCESS_REQUEST, 9, bytes(16)).to_bytes(), (host, port))  # after stop: unread
        release.set()
        cancelled = await draining
        got: list[int] = []
        loop = asyncio.get_running_loop()
        for _ in range(3):
            data = await asyncio.wait_for(loop.sock_recv(client, 4096), 2)
            got.append(Packet.from_bytes(data).identifier)
        front.close()
        client.close()
        return sorted(got), cancelled, drops

    got, cancelled, drops = asyncio.run(main())
    assert got == [0, 1, 2] and cancelled == 0
    assert drops == ["busy", "busy"]  # in flight is bounded: 3 admitted, 2 dropped and counted
