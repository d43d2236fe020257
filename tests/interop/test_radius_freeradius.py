"""Our UdpRadiusClient against a real FreeRADIUS 3.2 (private raddb, free ports)."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from tests.support.freeradius import freeradius, make_raddb
from tests.support.procs import free_port
from tests.support.radius_udp import UdpRadiusClient
from tsunagaru.radius import Code, Packet, Secrets, decode_packet, default_dictionary, encode

pytestmark = pytest.mark.interop
SECRET = b"testing123"
SEND_KEY = bytes(range(32))
RECV_KEY = bytes(range(32, 64))
# FreeRADIUS salt-encrypts these on the way out (RFC 2868 3.5, RFC 2548 2.4.2): an independent check of
# our salt decryption.
USERS = f"""alice\tCleartext-Password := "password"
\tReply-Message := "Hello alice",
\tTunnel-Password:1 := "vlan-secret",
\tMS-MPPE-Send-Key := 0x{SEND_KEY.hex()},
\tMS-MPPE-Recv-Key := 0x{RECV_KEY.hex()}
"""


async def _login(port: int, user: str, password: str) -> tuple[Packet, bytes]:
    d = default_dictionary()
    auth = os.urandom(16)
    hidden = encode(d, "User-Password", password, secrets=Secrets(SECRET, auth))
    attrs = [*encode(d, "User-Name", user), *hidden,
             *encode(d, "NAS-IP-Address", "127.0.0.1"), *encode(d, "NAS-Port-Type", "Wireless-802.11")]
    request = Packet(Code.ACCESS_REQUEST, 0, auth, tuple(attrs))
    async with UdpRadiusClient("127.0.0.1", port, SECRET) as client:
        return await client.request(request, timeout=3.0, retries=2), auth


async def _accounting_and_status(auth_port: int, acct_port: int) -> tuple[Packet, Packet]:
    d = default_dictionary()
    attrs = [*encode(d, "User-Name", "alice"), *encode(d, "Acct-Status-Type", "Start"),
             *encode(d, "Acct-Session-Id", "tsunagaru-1")]
    async with UdpRadiusClient("127.0.0.1", acct_port, SECRET) as acct, \
            UdpRadiusClient("127.0.0.1", auth_port, SECRET) as auth:
        a = await acct.request(Packet(Code.ACCOUNTING_REQUEST, 0, attributes=tuple(attrs)), 3.0, 2)
        s = await auth.request(Packet(Code.STATUS_SERVER, 0), 3.0, 2)
    return a, s


def test_access_accept_and_reject_from_freeradius(tmp_path: Path) -> None:
    auth_port, acct_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    raddb = make_raddb(tmp_path, auth_port=auth_port, acct_port=acct_port, users=USERS)
    with freeradius(raddb, tmp_path / "freeradius.log"):
        accept, auth = asyncio.run(_login(auth_port, "alice", "password"))
        reject, _ = asyncio.run(_login(auth_port, "alice", "wrong-password"))
        acct, status = asyncio.run(_accounting_and_status(auth_port, acct_port))
    assert accept.code == Code.ACCESS_ACCEPT
    decoded = decode_packet(accept, default_dictionary(), Secrets(SECRET, auth))
    got = {a.name: (a.value, a.tag) for a in decoded}
    assert got["Reply-Message"] == ("Hello alice", None)
    assert got["Tunnel-Password"] == ("vlan-secret", 1)
    assert got["MS-MPPE-Send-Key"] == (SEND_KEY, None)
    assert got["MS-MPPE-Recv-Key"] == (RECV_KEY, None)
    assert reject.code == Code.ACCESS_REJECT
    assert acct.code == Code.ACCOUNTING_RESPONSE
    assert status.code == Code.ACCESS_ACCEPT
