"""Forwarding on callbacks (``AnpServer._relay``) over the real RadSec pool to our RadSec server as the IdP,
in one event loop on 127.0.0.1: answers, timeouts, failover, supervision, the in-flight bound, the drain."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import tsunagaru.anp.server as server_module
from tests.support.radsec_certs import SERVER_NAME, PkiPaths, make_pki
from tsunagaru.anp.clients import Client, ClientRegistry
from tsunagaru.anp.core import AnpCore
from tsunagaru.anp.routing import PeerAddress, RealmPattern, Router, StaticRoute
from tsunagaru.anp.server import AnpServer
from tsunagaru.anp.spool import AccountingSpool
from tsunagaru.anp.wiring import RadSecTransport
from tsunagaru.radius import Code, Packet, sign_request
from tsunagaru.radius.packet import REPLY_MESSAGE, USER_NAME
from tsunagaru.radius.reasons import parse_reject_reason
from tsunagaru.radsec import PeerInfo, PeerPool, RadSecServer, client_context, server_context

SECRET = b"testing123"
Handler = Callable[[Packet, PeerInfo], Awaitable[Packet | None]]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return make_pki(tmp_path_factory.mktemp("relay-pki"))


def accept(delay: float = 0.0) -> Handler:
    async def handler(request: Packet, peer: PeerInfo) -> Packet | None:
        if delay:
            await asyncio.sleep(delay)
        return Packet(Code.ACCESS_ACCEPT, 0, attributes=((REPLY_MESSAGE, b"ok"),))

    return handler


async def silent(request: Packet, peer: PeerInfo) -> Packet | None:
    return None


def request(n: int) -> bytes:
    pkt = Packet(Code.ACCESS_REQUEST, n % 256, os.urandom(16), ((USER_NAME, f"u{n}@idp.example".encode()),))
    return sign_request(pkt, SECRET).to_bytes()


class Ap:
    """A UDP client on 127.0.0.1 (non-blocking, read from the loop)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)

    async def ask(self, port: int, datagrams: list[bytes], expect: int, within: float = 5.0) -> list[Packet]:
        for d in datagrams:
            self.sock.sendto(d, ("127.0.0.1", port))
        loop, got = asyncio.get_running_loop(), []
        deadline = loop.time() + within
        while len(got) < expect and loop.time() < deadline:  # bounded by count and time
            try:
                got.append(Packet.from_bytes(self.sock.recv(4096)))
            except BlockingIOError:
                await asyncio.sleep(0.01)
        return got


async def stack(tmp_path: Path, pki: PkiPaths, handlers: list[Handler], timeout: float = 4.0,
                ) -> tuple[AnpServer, list[RadSecServer], int]:
    srv_ctx = server_context(certfile=pki.server_cert, keyfile=pki.server_key, cafile=pki.ca)
    idps = [RadSecServer(h, srv_ctx) for h in handlers]
    ports = [await idp.start("127.0.0.1", 0) for idp in idps]
    route = StaticRoute(RealmPattern.parse("idp.example"),
                        tuple(PeerAddress("127.0.0.1", p, SERVER_NAME) for p in ports))
    core = AnpCore(ClientRegistry.of([Client("ap", ipaddress.ip_network("127.0.0.0/8"), SECRET,
                                             require_message_authenticator=False)]), Router(routes=[route]))
    pool = PeerPool(client_context(certfile=pki.client_cert, keyfile=pki.client_key, cafile=pki.ca),
                    request_timeout=timeout)
    server = AnpServer(core, RadSecTransport(pool), NoFinder(), AccountingSpool(tmp_path / "spool.sqlite"),
                       request_timeout=timeout)
    await server.listen("127.0.0.1", 0, 0)
    return server, idps, server._sockets[0].sockname[1]


class NoFinder:
    async def peers(self, realm: str, accounting: bool) -> list[PeerAddress]:
        return []


async def teardown(server: AnpServer, idps: list[RadSecServer]) -> None:
    await server.close(drain=2)
    for idp in idps:
        await idp.close(drain=0)


def sample(server: AnpServer, name: str, labels: dict[str, str]) -> float:
    return server.metrics.registry.get_sample_value(name, labels) or 0.0


def reason(packet: Packet) -> int | None:
    value = packet.get(REPLY_MESSAGE)
    return parse_reject_reason(value) if value is not None else None


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))  # type: ignore[arg-type]


def test_requests_go_on_callbacks_once_a_connection_is_open(tmp_path: Path, pki: PkiPaths) -> None:
    async def main() -> tuple[list[int], list[int], int, int]:
        server, idps, port = await stack(tmp_path, pki, [accept()])
        ap = Ap()
        first = await ap.ask(port, [request(0)], 1)  # no connection yet: the task path opens one
        relays_before = server.relayed
        rest = await ap.ask(port, [request(n) for n in range(1, 101)], 100)
        relayed = server.relayed - relays_before
        await teardown(server, idps)
        return [p.code for p in first], [p.code for p in rest], relayed, server._relays

    first, rest, relayed, pending = run(main())
    assert first == [Code.ACCESS_ACCEPT] and rest == [Code.ACCESS_ACCEPT] * 100
    assert relayed == 100 and pending == 0


def test_a_silent_idp_gets_a_timeout_reject(tmp_path: Path, pki: PkiPaths) -> None:
    async def main() -> tuple[list[Packet], int]:
        server, idps, port = await stack(tmp_path, pki, [silent], timeout=0.5)
        ap = Ap()
        await ap.ask(port, [request(0)], 1)  # opens the connection (times out on the task path)
        before = server.relayed
        replies = await ap.ask(port, [request(1), request(2)], 2)
        relayed = server.relayed - before
        await teardown(server, idps)
        return replies, relayed

    replies, relayed = run(main())
    assert relayed == 2
    assert [(p.code, reason(p)) for p in replies] == [(Code.ACCESS_REJECT, 22)] * 2


def test_a_relay_fails_over_to_the_next_peer(tmp_path: Path, pki: PkiPaths) -> None:
    async def main() -> tuple[list[int], int]:
        server, idps, port = await stack(tmp_path, pki, [silent, accept()], timeout=1.0)
        ap = Ap()
        await ap.ask(port, [request(0)], 1)  # opens both connections through the task path
        before = server.relayed
        replies = await ap.ask(port, [request(1)], 1)
        relayed = server.relayed - before
        await teardown(server, idps)
        return [p.code for p in replies], relayed

    codes, relayed = run(main())
    assert relayed == 1 and codes == [Code.ACCESS_ACCEPT]  # the first peer timed out after its share


def test_an_error_in_the_completion_costs_one_request(tmp_path: Path, pki: PkiPaths,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> tuple[list[tuple[int, int | None]], float]:
        server, idps, port = await stack(tmp_path, pki, [accept()])
        ap = Ap()
        await ap.ask(port, [request(0)], 1)

        def broken(*args: object) -> None:
            raise RuntimeError("a bug in the translation")

        monkeypatch.setattr(AnpCore, "on_upstream_reply", broken)
        replies = await ap.ask(port, [request(1)], 1)
        monkeypatch.undo()
        replies += await ap.ask(port, [request(2)], 1)  # the connection and the listener go on
        errors = sample(server, "tsunagaru_anp_internal_errors_total", {"task": "request"})
        await teardown(server, idps)
        return [(p.code, reason(p)) for p in replies], errors

    replies, errors = run(main())
    assert replies == [(Code.ACCESS_REJECT, 21), (Code.ACCESS_ACCEPT, None)] and errors == 1


def test_relays_count_against_the_in_flight_bound(tmp_path: Path, pki: PkiPaths,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> tuple[int, float]:
        server, idps, port = await stack(tmp_path, pki, [accept(delay=0.5)])
        ap = Ap()
        await ap.ask(port, [request(0)], 1)
        monkeypatch.setattr(server_module, "MAX_PENDING", 3)
        replies = await ap.ask(port, [request(n) for n in range(1, 9)], 8, within=2.0)
        dropped = sample(server, "tsunagaru_anp_dropped_total", {"why": "overloaded"})
        await teardown(server, idps)
        return len(replies), dropped

    answered, dropped = run(main())
    assert answered == 3 and dropped == 5


def test_close_drains_the_relays_in_flight(tmp_path: Path, pki: PkiPaths) -> None:
    async def main() -> tuple[list[int], int]:
        server, idps, port = await stack(tmp_path, pki, [accept(delay=0.3)])
        ap = Ap()
        await ap.ask(port, [request(0)], 1)
        for n in range(1, 21):
            ap.sock.sendto(request(n), ("127.0.0.1", port))
        for _ in range(100):  # bounded: until the listener has read them all
            if server._relays == 20:
                break
            await asyncio.sleep(0.01)
        in_flight = server._relays
        await server.close(drain=3)  # the socket stays open for the replies
        replies = await ap.ask(port, [], 20, within=0.5)
        for idp in idps:
            await idp.close(drain=0)
        return [p.code for p in replies], in_flight

    codes, in_flight = run(main())
    assert in_flight == 20 and codes == [Code.ACCESS_ACCEPT] * 20
