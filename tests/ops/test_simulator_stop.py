"""The traffic simulator ends when it is cancelled, also while replies are arriving.

Why this test: on Python 3.11, ``asyncio.wait_for`` returns a reply that came in the same loop turn as a
cancellation and swallows the cancellation. The simulator waited for its replies that way, so a virtual
AP sometimes outlived its cancellation (and went on for hours), and ``tsunagaru demo`` did not exit after
SIGTERM (about one stop in five under load). Here a real UDP peer on loopback answers every request at
once, and the simulator is cancelled many times while hundreds of replies are in flight.
"""

from __future__ import annotations

import asyncio
import random
import socket
from pathlib import Path

from tsunagaru.ops.simulator import SimConfig, Simulator
from tsunagaru.ops.usage import Placement
from tsunagaru.radius.codes import Code
from tsunagaru.radius.packet import Packet
from tsunagaru.store import Store


class _Answer(asyncio.DatagramProtocol):
    """A peer that answers every request at once (Access-Reject or Accounting-Response)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.answered = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
        request = Packet.from_bytes(data)
        code = Code.ACCOUNTING_RESPONSE if request.code == Code.ACCOUNTING_REQUEST else Code.ACCESS_REJECT
        self.transport.sendto(Packet(code, request.identifier, bytes(16)).to_bytes(), addr)  # type: ignore[attr-defined]
        self.answered += 1


async def _cancel_while_answering(store: Store, rounds: int) -> int:
    loop = asyncio.get_running_loop()
    transport, peer = await loop.create_datagram_endpoint(_Answer, local_addr=("127.0.0.1", 0),
                                                          family=socket.AF_INET)
    port = transport.get_extra_info("sockname")[1]
    config = SimConfig(auth_port=port, acct_port=port, aps=300, period=0.01, seconds=60, record=False)
    placements = {ap: Placement(str(ap), "131041", "city") for ap in range(1, 301)}
    ended = 0
    try:
        for _ in range(rounds):
            sim = Simulator(store, config)
            task = asyncio.create_task(sim.run(placements, flush_every=60))
            while peer.answered < 400:  # replies are flowing to every AP
                await asyncio.sleep(0.01)
            peer.answered = 0
            await asyncio.sleep(random.uniform(0, 0.05))
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=15)  # a cap, not a measurement
            assert done, "a virtual AP outlived the simulator's cancellation"
            ended += 1
    finally:
        transport.close()
    return ended


def test_the_simulator_ends_when_cancelled_while_replies_arrive(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'sim.sqlite'}")
    try:
        assert asyncio.run(_cancel_while_answering(store, rounds=8)) == 8
    finally:
        store.dispose()
