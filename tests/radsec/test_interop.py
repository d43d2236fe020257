"""RadSec against real peers started from private folders: FreeRADIUS 3.2 and radsecproxy 1.9."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.procs import need
from tests.support.radsec_certs import SERVER_NAME, PkiPaths
from tests.support.radsec_peers import UDP_SECRET, freeradius_tls_idp, radsecproxy
from tsunagaru.radius import Code, Packet
from tsunagaru.radius.hiding import hide_user_password
from tsunagaru.radius.packet import REPLY_MESSAGE, USER_NAME, USER_PASSWORD
from tsunagaru.radsec import (
    ALPN_RADIUS,
    Peer,
    PeerInfo,
    PeerPool,
    RadSecClient,
    RadSecServer,
    client_context,
    server_context,
)

pytestmark = pytest.mark.interop
ACCT_STATUS_TYPE, START = 40, (1).to_bytes(4, "big")


def pap_request(user: bytes, password: bytes, secret: bytes = b"radsec") -> Packet:
    """An Access-Request with User-Password hidden for the RadSec hop (the client keeps its authenticator)."""
    auth = os.urandom(16)
    hidden = hide_user_password(password, secret, auth)
    return Packet(Code.ACCESS_REQUEST, 0, auth, ((USER_NAME, user), (USER_PASSWORD, hidden)))


@pytest.mark.parametrize("tls_max", ["1.2", "1.3"])
def test_our_client_to_freeradius(tmp_path: Path, radsec_pki: PkiPaths, tls_max: str) -> None:
    ctx = client_context(certfile=radsec_pki.client_cert, keyfile=radsec_pki.client_key, cafile=radsec_pki.ca)

    async def main(port: int) -> None:
        client = await RadSecClient.connect(
            "127.0.0.1", port, ctx, server_name=SERVER_NAME, request_timeout=10
        )
        status = await client.status()
        assert status.code == Code.ACCESS_ACCEPT
        accept = await client.request(pap_request(b"alice", b"password"))
        assert accept.code == Code.ACCESS_ACCEPT
        assert accept.get(REPLY_MESSAGE) == b"Hello alice"
        reject = await client.request(pap_request(b"alice", b"wrong"))
        assert reject.code == Code.ACCESS_REJECT
        acct = Packet(
            Code.ACCOUNTING_REQUEST, 0, attributes=((USER_NAME, b"alice"), (ACCT_STATUS_TYPE, START))
        )
        assert (await client.request(acct)).code == Code.ACCOUNTING_RESPONSE
        assert client.peer is not None and client.peer.tls_version == f"TLSv{tls_max}"
        # A burst written in one loop iteration: FreeRADIUS 3.2.1 needs one TLS record per packet.
        burst = await asyncio.gather(
            *(client.request(pap_request(b"alice", b"password")) for _ in range(200))
        )
        assert {r.code for r in burst} == {Code.ACCESS_ACCEPT}
        await client.aclose(timeout=0.5)
        pool = PeerPool(ctx, max_connections=3, request_timeout=20)
        peer = Peer("127.0.0.1", port, SERVER_NAME)
        replies = await asyncio.gather(
            *(pool.request(peer, pap_request(b"alice", b"password")) for _ in range(600))
        )
        assert {r.code for r in replies} == {Code.ACCESS_ACCEPT}
        assert pool.connections(peer) >= 1 and pool.is_up(peer)  # a second one only when 255 are in flight
        await pool.close(timeout=0.5)

    with freeradius_tls_idp(tmp_path, radsec_pki, users={"alice": "password"}, tls_max=tls_max) as ports:
        asyncio.run(asyncio.wait_for(main(ports.radsec), 60))


def test_radsecproxy_to_our_server(tmp_path: Path, radsec_pki: PkiPaths) -> None:
    need("radclient")
    ctx = server_context(certfile=radsec_pki.server_cert, keyfile=radsec_pki.server_key, cafile=radsec_pki.ca)
    peers: list[PeerInfo] = []

    async def handler(request: Packet, peer: PeerInfo) -> Packet | None:
        peers.append(peer)
        if request.get(USER_NAME) != b"alice@idp.radsec.test":
            return Packet(Code.ACCESS_REJECT, 0)
        return Packet(Code.ACCESS_ACCEPT, 0, attributes=((REPLY_MESSAGE, b"welcome via radsec"),))

    async def main() -> str:
        async with RadSecServer(handler, ctx) as server:
            port = await server.start()
            with radsecproxy(tmp_path, radsec_pki, server_port=port) as udp_port:
                cmd = ["radclient", "-x", "-r", "3", "-t", "5", f"127.0.0.1:{udp_port}", "auth", UDP_SECRET]
                body = b'User-Name = "alice@idp.radsec.test"\nUser-Password = "pw"\n'
                proc = await asyncio.create_subprocess_exec(
                    *cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
                )
                out, _ = await asyncio.wait_for(proc.communicate(body), 40)
                return out.decode(errors="replace")

    out = asyncio.run(asyncio.wait_for(main(), 60))
    assert "Received Access-Accept" in out, out
    assert "welcome via radsec" in out
    assert peers and peers[0].alpn in (None, ALPN_RADIUS)  # radsecproxy 1.9 offers no ALPN: still fine
