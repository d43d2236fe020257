"""DatagramSocket: drains bursts, answers, survives a failing handler, closes once; IPv4 and IPv6."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tsunagaru.net.datagram import Address, DatagramSocket


async def _exchange(host: str, family: socket.AddressFamily) -> None:
    seen: list[bytes] = []
    server: DatagramSocket | None = None

    def on_datagram(data: bytes, addr: Address) -> None:
        if data == b"boom":
            raise RuntimeError("a handler bug")
        seen.append(data)
        assert server is not None
        server.sendto(data.upper(), addr)

    server = await DatagramSocket.bind(host, 0, on_datagram, burst=4)
    client = socket.socket(family, socket.SOCK_DGRAM)
    client.setblocking(False)
    try:
        port = server.sockname[1]
        client.sendto(b"boom", (host, port))  # logged, not fatal
        for i in range(10):  # more than one burst waiting at once
            client.sendto(b"ping%d" % i, (host, port))
        loop = asyncio.get_running_loop()
        replies = []
        for _ in range(10):
            replies.append(await asyncio.wait_for(loop.sock_recv(client, 100), 5))
        assert seen == [b"ping%d" % i for i in range(10)]
        assert sorted(replies) == sorted(b"PING%d" % i for i in range(10))
    finally:
        client.close()
        server.close()
        server.close()  # twice is harmless
    assert server.is_closing()
    server.sendto(b"late", ("127.0.0.1", 9))  # after close: ignored


def test_ipv4_burst_and_replies() -> None:
    asyncio.run(_exchange("127.0.0.1", socket.AF_INET))


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1 here")
    asyncio.run(_exchange("::1", socket.AF_INET6))


def test_port_in_use_is_an_oserror() -> None:
    async def run() -> None:
        first = await DatagramSocket.bind("127.0.0.1", 0, lambda d, a: None)
        try:
            with pytest.raises(OSError):
                await DatagramSocket.bind("127.0.0.1", first.sockname[1], lambda d, a: None)
        finally:
            first.close()

    asyncio.run(run())
