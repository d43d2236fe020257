"""Our RadSec client and pool against our RadSec server in one event loop, over real TLS on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.eap.certs import make_pki as make_eap_pki
from tests.support.radsec_certs import SERVER_NAME, PkiPaths
from tsunagaru.radius import Code, Packet, sign_request
from tsunagaru.radius.packet import MESSAGE_AUTHENTICATOR, REPLY_MESSAGE, USER_NAME
from tsunagaru.radsec import (
    ALPN_RADIUS,
    Backoff,
    ConnectionClosed,
    Peer,
    PeerInfo,
    PeerPool,
    PeerRefused,
    PeerState,
    PeerUnavailable,
    RadSecClient,
    RadSecServer,
    RequestTimeout,
    WatchdogConfig,
    all_of,
    client_context,
    refuse_own_certificate,
    server_context,
)


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))  # type: ignore[arg-type]


def _contexts(pki: PkiPaths) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cli = client_context(certfile=pki.client_cert, keyfile=pki.client_key, cafile=pki.ca)
    srv = server_context(certfile=pki.server_cert, keyfile=pki.server_key, cafile=pki.ca)
    return cli, srv


def _accept(delay: float = 0.0) -> Callable[[Packet, PeerInfo], Awaitable[Packet | None]]:
    async def handler(request: Packet, peer: PeerInfo) -> Packet | None:
        if delay:
            await asyncio.sleep(delay)
        name = request.get(USER_NAME) or b""
        return Packet(Code.ACCESS_ACCEPT, 0, attributes=((REPLY_MESSAGE, b"hello " + name),))

    return handler


def _request(name: bytes = b"alice") -> Packet:
    return Packet(Code.ACCESS_REQUEST, 0, attributes=((USER_NAME, name),))


def test_access_request_is_answered(radsec_pki: PkiPaths) -> None:
    cli_ctx, srv_ctx = _contexts(radsec_pki)
    seen: list[PeerInfo] = []

    async def handler(request: Packet, peer: PeerInfo) -> Packet | None:
        seen.append(peer)
        return await _accept()(request, peer)

    async def main() -> None:
        async with RadSecServer(handler, srv_ctx) as server:
            port = await server.start()
            client = await RadSecClient.connect("127.0.0.1", port, cli_ctx, server_name=SERVER_NAME)
            reply = await client.request(_request())
            assert reply.code == Code.ACCESS_ACCEPT
            assert reply.get(REPLY_MESSAGE) == b"hello alice"
            assert reply.attributes[0][0] == MESSAGE_AUTHENTICATOR
            status = await client.status()
            assert status.code == Code.ACCESS_ACCEPT and status.identifier == 0
            assert client.peer is not None and client.peer.alpn == ALPN_RADIUS
            assert client.peer.tls_version == "TLSv1.3"
            await client.aclose()

    run(main())
    assert seen[0].server_name == SERVER_NAME and seen[0].alpn == ALPN_RADIUS


def test_more_than_256_in_flight_use_several_connections(radsec_pki: PkiPaths) -> None:
    cli_ctx, srv_ctx = _contexts(radsec_pki)

    async def main() -> None:
        async with RadSecServer(_accept(delay=0.2), srv_ctx) as server:
            port = await server.start()
            pool = PeerPool(cli_ctx, max_connections=4, request_timeout=20.0)
            peer = Peer("127.0.0.1", port, SERVER_NAME)
            names = [f"user{i}".encode() for i in range(700)]
            replies = await asyncio.gather(*(pool.request(peer, _request(n)) for n in names))
            assert [r.get(REPLY_MESSAGE) for r in replies] == [b"hello " + n for n in names]
            assert pool.connections(peer) >= 3
            assert pool.is_up(peer)
            await pool.close()

    run(main())


async def _raw(port: int, ctx: ssl.SSLContext) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=SERVER_NAME)


def test_server_closes_on_malformed_frame(radsec_pki: PkiPaths) -> None:
    cli_ctx, srv_ctx = _contexts(radsec_pki)

    async def main() -> None:
        async with RadSecServer(_accept(), srv_ctx) as server:
            reader, writer = await _raw(await server.start(), cli_ctx)
            writer.write(bytes([1, 1, 0, 10]) + b"\x00" * 16)  # length 10 < 20
            assert await reader.read() == b""
            writer.close()

    run(main())


def test_server_closes_on_bad_message_authenticator(radsec_pki: PkiPaths) -> None:
    cli_ctx, srv_ctx = _contexts(radsec_pki)
    handled: list[Packet] = []

    async def handler(request: Packet, peer: PeerInfo) -> Packet | None:
        handled.append(request)
        return None

    async def main() -> None:
        async with RadSecServer(handler, srv_ctx) as server:
            reader, writer = await _raw(await server.start(), cli_ctx)
            signed = sign_request(_request(), b"radsec")
            forged = signed.with_attributes(
                (t, b"\x00" * 16 if t == MESSAGE_AUTHENTICATOR else v) for t, v in signed.attributes
            )
            writer.write(forged.to_bytes())
            assert await reader.read() == b""
            writer.close()

    run(main())
    assert handled == []


async def _fake_server(ctx: ssl.SSLContext, answer: Callable[[Packet], bytes]) -> asyncio.Server:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header = await reader.readexactly(4)
        body = await reader.readexactly(int.from_bytes(header[2:4], "big") - 4)
        writer.write(answer(Packet.from_bytes(header + body)))
        await reader.read()
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0, ssl=ctx)


@pytest.mark.parametrize("kind", ["malformed", "bad-ma"])
def test_client_closes_on_bad_reply(radsec_pki: PkiPaths, kind: str) -> None:
    cli_ctx, srv_ctx = _contexts(radsec_pki)

    def answer(req: Packet) -> bytes:
        if kind == "malformed":
            return bytes([2, req.identifier, 0x20, 0x00]) + b"\x00" * 16  # length 8192
        reply = Packet(
            Code.ACCESS_ACCEPT, req.identifier, attributes=((MESSAGE_AUTHENTICATOR, b"\x00" * 16),)
        )
        wire = reply.replace(authenticator=req.authenticator).to_bytes()  # right Response Auth, wrong M-A
        return reply.replace(authenticator=hashlib.md5(wire + b"radsec").digest()).to_bytes()

    async def main() -> None:
        server = await _fake_server(srv_ctx, answer)
        port = server.sockets[0].getsockname()[1]
        client = await RadSecClient.connect("127.0.0.1", port, cli_ctx, server_name=SERVER_NAME)
        with pytest.raises(ConnectionClosed, match="protocol violation"):
            await client.request(_request())
        assert client.closed
        server.close()
        await server.wait_closed()

    run(main())


def test_request_timeout_without_reply(radsec_pki: PkiPaths) -> None:
    cli_ctx, srv_ctx = _contexts(radsec_pki)

    async def drop(request: Packet, peer: PeerInfo) -> Packet | None:
        return None

    async def main() -> None:
        async with RadSecServer(drop, srv_ctx) as server:
            port = await server.start()
            client = await RadSecClient.connect("127.0.0.1", port, cli_ctx, server_name=SERVER_NAME)
            with pytest.raises(RequestTimeout):
                await client.request(_request(), timeout=0.2)
            assert not client.closed
            await client.aclose()

    run(main())


def test_idle_timeouts_close_connections(radsec_pki: PkiPaths) -> None:
    cli_ctx, srv_ctx = _contexts(radsec_pki)

    async def main() -> None:
        async with RadSecServer(_accept(), srv_ctx, idle_timeout=0.3) as server:
            port = await server.start()
            client = await RadSecClient.connect("127.0.0.1", port, cli_ctx, server_name=SERVER_NAME)
            await client.request(_request())
            assert await asyncio.wait_for(client.wait_closed(), 5) == "closed by peer"
            client = await RadSecClient.connect(
                "127.0.0.1", port, cli_ctx, server_name=SERVER_NAME, idle_timeout=0.1
            )
            await client.request(_request())
            assert await asyncio.wait_for(client.wait_closed(), 5) == "idle timeout"

    run(main())


def test_verify_peer_hook_refuses(radsec_pki: PkiPaths) -> None:
    cli_ctx, srv_ctx = _contexts(radsec_pki)
    chains: list[list[bytes]] = []

    def refuse(chain: list[bytes], peer: PeerInfo) -> str | None:
        chains.append(chain)
        return "policy OID missing"

    async def main() -> None:
        async with RadSecServer(_accept(), srv_ctx) as server:
            port = await server.start()
            with pytest.raises(PeerRefused, match="policy OID"):
                await RadSecClient.connect(
                    "127.0.0.1", port, cli_ctx, server_name=SERVER_NAME, verify_peer=refuse
                )
        async with RadSecServer(_accept(), srv_ctx, verify_peer=refuse) as server:
            port = await server.start()
            client = await RadSecClient.connect("127.0.0.1", port, cli_ctx, server_name=SERVER_NAME)
            with pytest.raises(ConnectionClosed):
                await client.request(_request())

    run(main())
    assert len(chains) == 2 and all(len(c) == 2 for c in chains)  # leaf + CA: the verified chain


def test_pool_marks_peer_down_and_revives_it(radsec_pki: PkiPaths, udp_port: int) -> None:
    cli_ctx, srv_ctx = _contexts(radsec_pki)

    async def main() -> None:
        pool = PeerPool(
            cli_ctx, connect_timeout=2.0, backoff=lambda: Backoff(initial=0.1, jitter=lambda d: d)
        )
        peer = Peer("127.0.0.1", udp_port, SERVER_NAME)
        with pytest.raises(PeerUnavailable):
            await pool.request(peer, _request())
        assert pool.state(peer) is PeerState.DOWN
        async with RadSecServer(_accept(), srv_ctx) as server:
            await server.start(port=udp_port)
            for _ in range(100):
                if pool.is_up(peer):
                    break
                await asyncio.sleep(0.05)
            assert pool.is_up(peer)
            assert (await pool.request(peer, _request())).code == Code.ACCESS_ACCEPT
            await pool.close()

    run(main())


def test_connection_to_ourselves_is_refused(radsec_pki: PkiPaths) -> None:
    cli_ctx, srv_ctx = _contexts(radsec_pki)
    # A node whose own certificate is the server's: connecting to that server means a loop.
    hook = all_of(lambda chain, peer: None, refuse_own_certificate(radsec_pki.server_cert))

    async def main() -> None:
        async with RadSecServer(_accept(), srv_ctx) as server:
            port = await server.start()
            with pytest.raises(PeerRefused, match="ourselves"):
                await RadSecClient.connect(
                    "127.0.0.1", port, cli_ctx, server_name=SERVER_NAME, verify_peer=hook
                )
            ok = refuse_own_certificate(radsec_pki.client_cert)
            client = await RadSecClient.connect(
                "127.0.0.1", port, cli_ctx, server_name=SERVER_NAME, verify_peer=ok
            )
            await client.aclose()

    run(main())


def test_tls_profile(radsec_pki: PkiPaths) -> None:
    cli_ctx, srv_ctx = _contexts(radsec_pki)
    for ctx in (cli_ctx, srv_ctx):
        assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
        assert ctx.options & ssl.OP_NO_RENEGOTIATION
        assert ctx.verify_mode == ssl.CERT_REQUIRED
    plain = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with pytest.raises(ValueError, match="client certificates"):
        RadSecServer(_accept(), plain)


def test_tls12_peer_without_alpn_is_served(radsec_pki: PkiPaths) -> None:
    _, srv_ctx = _contexts(radsec_pki)
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # a TLS 1.2 peer that knows nothing of ALPN
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    old.load_cert_chain(radsec_pki.client_cert, radsec_pki.client_key)
    old.load_verify_locations(radsec_pki.ca)

    async def main() -> None:
        async with RadSecServer(_accept(), srv_ctx) as server:
            port = await server.start()
            client = await RadSecClient.connect("127.0.0.1", port, old, server_name=SERVER_NAME)
            assert (await client.request(_request())).code == Code.ACCESS_ACCEPT
            assert (
                client.peer is not None and client.peer.tls_version == "TLSv1.2" and client.peer.alpn is None
            )
            await client.aclose()

    run(main())


def test_client_without_certificate_is_refused(radsec_pki: PkiPaths) -> None:
    _, srv_ctx = _contexts(radsec_pki)
    anonymous = ssl.create_default_context(cafile=str(radsec_pki.ca))

    async def main() -> None:
        async with RadSecServer(_accept(), srv_ctx) as server:
            port = await server.start()
            # TLS 1.3 reports the missing certificate after the handshake, on first use of the connection.
            with pytest.raises((ssl.SSLError, ConnectionClosed, ConnectionError)):
                client = await RadSecClient.connect("127.0.0.1", port, anonymous, server_name=SERVER_NAME)
                await client.request(_request(), timeout=5)

    run(main())


def test_silent_peer_goes_suspect_then_down(radsec_pki: PkiPaths) -> None:
    cli_ctx, srv_ctx = _contexts(radsec_pki)
    states: list[PeerState] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts the TLS connection and never answers anything
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(silent, "127.0.0.1", 0, ssl=srv_ctx)
        port = server.sockets[0].getsockname()[1]
        dog = WatchdogConfig(interval=0.1, response_timeout=0.2, down_after=2)
        pool = PeerPool(cli_ctx, watchdog=dog, backoff=lambda: Backoff(initial=5.0))
        peer = Peer("127.0.0.1", port, SERVER_NAME)
        with pytest.raises(RequestTimeout):
            await pool.request(peer, _request(), timeout=0.15)
        for _ in range(100):
            states.append(pool.state(peer))
            if states[-1] is PeerState.DOWN:
                break
            await asyncio.sleep(0.02)
        await pool.close()
        server.close()
        await server.wait_closed()

    run(main())
    assert PeerState.SUSPECT in states and states[-1] is PeerState.DOWN


def test_accounting_over_ipv6(radsec_pki: PkiPaths) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    cli_ctx, srv_ctx = _contexts(radsec_pki)

    async def account(request: Packet, peer: PeerInfo) -> Packet | None:
        assert request.code == Code.ACCOUNTING_REQUEST and peer.host == "::1"
        return Packet(Code.ACCOUNTING_RESPONSE, 0)

    async def main() -> None:
        async with RadSecServer(account, srv_ctx) as server:
            port = await server.start(host="::1")
            client = await RadSecClient.connect("::1", port, cli_ctx, server_name=SERVER_NAME)
            acct = Packet(Code.ACCOUNTING_REQUEST, 0, attributes=((USER_NAME, b"alice"), (40, b"\0\0\0\1")))
            assert (await client.request(acct)).code == Code.ACCOUNTING_RESPONSE
            await client.aclose()

    run(main())


def test_failed_handshake_is_logged_with_peer_and_reason(radsec_pki: PkiPaths, tmp_path: Any,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    _, srv_ctx = _contexts(radsec_pki)
    stranger = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    stranger.load_verify_locations(radsec_pki.ca)
    other = make_eap_pki(tmp_path / "other")  # its client certificates chain to a CA this server never saw
    stranger.load_cert_chain(other.client_cert, other.client_key)

    async def main() -> None:
        async with RadSecServer(_accept(), srv_ctx) as server:
            port = await server.start()
            with pytest.raises((ssl.SSLError, ConnectionClosed, ConnectionError, RequestTimeout)):
                client = await RadSecClient.connect("127.0.0.1", port, stranger, server_name=SERVER_NAME)
                await client.request(_request(), timeout=5)
            for _ in range(200):
                if server.handshakes_failed:
                    break
                await asyncio.sleep(0.01)
            assert server.handshakes_failed == 1 and server.connections == 0
            # a good client is still served afterwards
            good, _ = _contexts(radsec_pki)
            client = await RadSecClient.connect("127.0.0.1", port, good, server_name=SERVER_NAME)
            assert (await client.request(_request())).code == Code.ACCESS_ACCEPT
            await client.aclose()

    with caplog.at_level("WARNING", logger="tsunagaru.radsec.server"):
        run(main())
    lines = [r.getMessage() for r in caplog.records if "TLS handshake from 127.0.0.1" in r.getMessage()]
    assert len(lines) == 1 and "certificate verify failed" in lines[0], lines


def test_bare_tcp_connect_is_info_not_warning(radsec_pki: PkiPaths, caplog: pytest.LogCaptureFixture) -> None:
    _, srv_ctx = _contexts(radsec_pki)

    async def main() -> None:
        async with RadSecServer(_accept(), srv_ctx) as server:
            port = await server.start()
            _, writer = await asyncio.open_connection("127.0.0.1", port)  # a health check: connect, close
            writer.close()
            for _ in range(200):
                if server.handshakes_failed:
                    break
                await asyncio.sleep(0.01)
            assert server.handshakes_failed == 1

    with caplog.at_level("INFO", logger="tsunagaru.radsec.server"):
        run(main())
    mine = [r for r in caplog.records if r.name == "tsunagaru.radsec.server"]
    assert [r.levelname for r in mine] == ["INFO"] and "closed the connection" in mine[0].getMessage()


def test_handler_may_answer_at_once_or_later(radsec_pki: PkiPaths, caplog: pytest.LogCaptureFixture) -> None:
    """A plain function's reply is written at once; an awaitable one later; a raising handler is logged
    and the connection keeps serving."""
    cli_ctx, srv_ctx = _contexts(radsec_pki)
    release = asyncio.Event()  # made inside the test's loop (asyncio.run below)

    async def later(request: Packet, peer: PeerInfo) -> Packet | None:
        await release.wait()  # answered only when the test says so: no race with the quick reply
        return await _accept()(request, peer)

    def handler(request: Packet, peer: PeerInfo) -> Awaitable[Packet | None] | Packet | None:
        name = request.get(USER_NAME) or b""
        if name == b"boom":
            raise RuntimeError("a handler bug")
        if name == b"drop":
            return None
        if name == b"later":
            return later(request, peer)
        return Packet(Code.ACCESS_ACCEPT, 0, attributes=((REPLY_MESSAGE, b"now " + name),))

    async def main() -> None:
        async with RadSecServer(handler, srv_ctx) as server:
            port = await server.start()
            client = await RadSecClient.connect("127.0.0.1", port, cli_ctx, server_name=SERVER_NAME)
            slow = asyncio.ensure_future(client.request(_request(b"later")))
            fast = await client.request(_request(b"alice"))
            assert fast.get(REPLY_MESSAGE) == b"now alice" and not slow.done()  # answered before the slow one
            release.set()
            assert (await slow).get(REPLY_MESSAGE) == b"hello later"
            with pytest.raises(RequestTimeout):
                await client.request(_request(b"boom"), timeout=0.3)
            with pytest.raises(RequestTimeout):
                await client.request(_request(b"drop"), timeout=0.3)
            assert (await client.request(_request(b"bob"))).get(REPLY_MESSAGE) == b"now bob"
            await client.aclose()

    with caplog.at_level("ERROR", logger="tsunagaru.radsec.server"):
        run(main())
    assert any("handler failed" in r.getMessage() for r in caplog.records)
