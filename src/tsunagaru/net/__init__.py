"""RADIUS over UDP: sans-IO schedules (:mod:`.schedule`) and thin asyncio adapters (:mod:`.udp`).

    server = UdpRadiusServer(handler, "127.0.0.1", 1812, secret=b"testing123")   # handler(pkt, addr)
    await server.start()
    async with UdpRadiusClient("127.0.0.1", 1812, b"testing123") as client:
        reply = await client.request(Packet(Code.STATUS_SERVER, 0), timeout=1.0, retries=2)
"""

from tsunagaru.net.schedule import IdentifierPool, RadiusTimeout, ReplyCache, Retransmit, Step
from tsunagaru.net.udp import Handler, UdpRadiusClient, UdpRadiusServer

__all__ = [
    "Handler",
    "IdentifierPool",
    "RadiusTimeout",
    "ReplyCache",
    "Retransmit",
    "Step",
    "UdpRadiusClient",
    "UdpRadiusServer",
]
