"""The IdP's listeners: RadSec for federation peers (checked against the federation PKI) and
RADIUS/UDP for local NASes and tests. Both hand packets to one :class:`~tsunagaru.idp.service.IdpCore`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path

from tsunagaru.idp.service import IdpCore, serve_udp
from tsunagaru.net.datagram import DatagramSocket
from tsunagaru.radius import Packet
from tsunagaru.radsec import RADSEC_SECRET, PeerInfo, RadSecServer, server_context
from tsunagaru.radsec.federation import TrustFiles, federation_check


@dataclass(frozen=True, slots=True)
class RadSecListen:
    host: str
    port: int
    certificate: Path
    key: Path
    roots: tuple[Path, ...]
    crls: tuple[Path, ...] = ()


@dataclass(frozen=True, slots=True)
class UdpListen:
    host: str
    port: int
    secret: bytes
    allowed: str = "127.0.0.0/8"


@dataclass
class IdpServer:
    core: IdpCore
    radsec: RadSecServer | None = None
    udp: DatagramSocket | None = None
    _expiry: asyncio.Task[None] | None = field(default=None, repr=False)

    async def start(self, radsec: RadSecListen | None, udp: UdpListen | None) -> None:
        if radsec is not None:
            ctx = server_context(certfile=radsec.certificate, keyfile=radsec.key, cafile=radsec.roots[0])
            for extra in radsec.roots[1:]:
                ctx.load_verify_locations(cafile=str(extra))
            trust = TrustFiles(radsec.roots, radsec.crls)
            self.radsec = RadSecServer(self._radsec_request, ctx, verify_peer=federation_check(trust, "client"))
            await self.radsec.start(radsec.host, radsec.port)
        if udp is not None:
            self.udp = await serve_udp(self.core, udp.host, udp.port, udp.secret, udp.allowed)
        self._expiry = asyncio.create_task(self._expire_sessions())

    def _radsec_request(self, packet: Packet, peer: PeerInfo) -> Awaitable[Packet | None] | Packet | None:
        """Answer at once unless the step may wait on a password hash (then in a worker, later)."""
        if self.core.may_block(packet):
            return self.core.answer(packet, RADSEC_SECRET)
        return self.core.handle_locked(packet, RADSEC_SECRET, time.monotonic())

    async def _expire_sessions(self) -> None:
        while True:
            await asyncio.sleep(10)
            with self.core.lock:
                self.core.eap.expire(time.monotonic())

    async def close(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
        if self.udp is not None:
            self.udp.close()
        if self.radsec is not None:
            await self.radsec.close()
        await asyncio.get_running_loop().run_in_executor(None, self.core.close)
