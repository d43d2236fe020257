"""Our UDP client against our UDP server on loopback: signing, verification, retransmission."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from tsunagaru.net import RadiusTimeout, UdpRadiusClient, UdpRadiusServer
from tsunagaru.radius import Code, Packet, Secrets, decode_packet, default_dictionary, encode, get_value

SECRET = b"testing123"


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coro, 20))


def test_access_request_round_trip_with_password_and_proxy_state() -> None:
    d = default_dictionary()

    async def handler(req: Packet, addr: tuple[object, ...]) -> Packet:
        pw = get_value(req, d, "User-Password", Secrets(SECRET, req.authenticator))
        code = Code.ACCESS_ACCEPT if pw == "right" else Code.ACCESS_REJECT
        return Packet(code, 0, attributes=tuple(encode(d, "Reply-Message", f"hello {addr[0]}")))

    async def main() -> tuple[Packet, Packet]:
        async with UdpRadiusServer(handler, "127.0.0.1", 0, secret=SECRET) as server, \
                UdpRadiusClient("127.0.0.1", server.port, SECRET) as client:
            replies = []
            for pw in ("right", "wrong"):
                auth = os.urandom(16)
                attrs = [*encode(d, "User-Name", "alice@example.org"),
                         *encode(d, "User-Password", pw, secrets=Secrets(SECRET, auth)), (33, b"ps-1")]
                replies.append(await client.request(Packet(Code.ACCESS_REQUEST, 0, auth, tuple(attrs)),
                                                    timeout=2.0, retries=1))
            return replies[0], replies[1]

    ok, bad = run(main())
    assert ok.code == Code.ACCESS_ACCEPT and bad.code == Code.ACCESS_REJECT
    assert ok.attributes[0][0] == 80  # Message-Authenticator first
    assert ok.get(33) == b"ps-1"  # Proxy-State copied back
    assert [a.value for a in decode_packet(ok, d) if a.name == "Reply-Message"] == ["hello 127.0.0.1"]


def test_retransmits_same_datagram_and_server_answers_duplicates_from_cache() -> None:
    seen: list[bytes] = []

    async def main() -> Packet:
        calls = 0

        async def handler(req: Packet, addr: tuple[object, ...]) -> Packet | None:
            nonlocal calls
            calls += 1
            seen.append(req.to_bytes())
            return None if calls == 1 else Packet(Code.ACCOUNTING_RESPONSE, 0)

        async with UdpRadiusServer(handler, "127.0.0.1", 0, secret=SECRET) as server, \
                UdpRadiusClient("127.0.0.1", server.port, SECRET) as client:
            return await client.request(Packet(Code.ACCOUNTING_REQUEST, 0, attributes=((44, b"s1"),)),
                                        timeout=0.3, retries=3)

    reply = run(main())
    assert reply.code == Code.ACCOUNTING_RESPONSE
    assert len(seen) == 2 and seen[0] == seen[1]  # same ID and authenticator


def test_timeout_when_nobody_answers_and_wrong_secret_is_dropped() -> None:
    async def main() -> None:
        async def handler(req: Packet, addr: tuple[object, ...]) -> Packet:
            return Packet(Code.ACCESS_ACCEPT, 0)

        async with UdpRadiusServer(handler, "127.0.0.1", 0, secret=b"other") as server, \
                UdpRadiusClient("127.0.0.1", server.port, SECRET) as client:
            with pytest.raises(RadiusTimeout):
                await client.request(Packet(Code.STATUS_SERVER, 0), timeout=0.2, retries=1)

    run(main())


def test_server_drops_garbage_and_keeps_serving() -> None:
    async def main() -> Packet:
        async def handler(req: Packet, addr: tuple[object, ...]) -> Packet:
            return Packet(Code.ACCESS_ACCEPT, 0)

        async with UdpRadiusServer(handler, "127.0.0.1", 0, secret=SECRET) as server:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(b"\x01\x00\x00\x05garbage", ("127.0.0.1", server.port))
            async with UdpRadiusClient("127.0.0.1", server.port, SECRET) as client:
                return await client.request(Packet(Code.STATUS_SERVER, 0), timeout=2.0, retries=1)

    assert run(main()).code == Code.ACCESS_ACCEPT


def test_server_bounds_requests_in_flight() -> None:
    async def main() -> tuple[int, int]:
        release = asyncio.Event()

        async def handler(req: Packet, addr: tuple[object, ...]) -> Packet:
            await release.wait()
            return Packet(Code.ACCOUNTING_RESPONSE, 0)

        async with UdpRadiusServer(handler, "127.0.0.1", 0, max_in_flight=3) as server:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for ident in range(10):
                    s.sendto(Packet(Code.ACCOUNTING_REQUEST, ident).to_bytes(), ("127.0.0.1", server.port))
                for _ in range(100):
                    if server.dropped_busy + len(server._tasks) >= 10:
                        break
                    await asyncio.sleep(0.01)
            busy = len(server._tasks)
            release.set()
            return busy, server.dropped_busy

    busy, dropped = run(main())
    assert busy == 3 and dropped == 7
