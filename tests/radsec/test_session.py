"""ClientSession and ServerSession paired in memory with a fake clock: no sockets, no sleeping."""

from __future__ import annotations

import pytest

from tsunagaru.radius import Code, Packet, sign_request
from tsunagaru.radius.packet import MESSAGE_AUTHENTICATOR, USER_NAME
from tsunagaru.radsec import ClientSession, PeerState, ProtocolViolation, ServerSession, WatchdogConfig
from tsunagaru.radsec.session import Answered, Close, Received, Send, TimedOut

REQ = Packet(Code.ACCESS_REQUEST, 0, attributes=((USER_NAME, b"alice"),))


def _pair(**kw: object) -> tuple[ClientSession[str], ServerSession]:
    return ClientSession(now=0.0, **kw), ServerSession(now=0.0)  # type: ignore[arg-type]


def _serve(server: ServerSession, data: bytes, now: float = 0.0) -> bytes:
    """What the server sends back for ``data``: Status-Server answers and Access-Accept for requests."""
    out = b""
    for ev in server.receive_data(data, now=now):
        if isinstance(ev, Send):
            out += ev.data
        else:
            assert isinstance(ev, Received)
            out += server.reply(ev.packet, Packet(Code.ACCESS_ACCEPT, 0))
    return out


def test_request_and_reply_fed_byte_by_byte() -> None:
    client, server = _pair()
    wire = client.send_request(REQ, "r1", now=0.0) + client.send_request(REQ, "r2", now=0.0)
    answer = b"".join(_serve(server, bytes([b])) for b in wire)
    events = [ev for b in answer for ev in client.receive_data(bytes([b]), now=0.1)]
    assert [(ev.value, ev.packet.code) for ev in events] == [
        ("r1", Code.ACCESS_ACCEPT),
        ("r2", Code.ACCESS_ACCEPT),
    ]
    assert client.tracker.in_flight == 0


def test_timeout_then_late_reply_is_dropped() -> None:
    client, server = _pair(request_timeout=5.0, watchdog=WatchdogConfig(interval=30.0))
    answer = _serve(server, client.send_request(REQ, "r1", now=0.0))
    assert client.timer() == 5.0
    assert [type(ev) for ev in client.handle_timer(5.0)] == [TimedOut, Send]  # the timeout triggers a probe
    assert client.receive_data(answer, now=6.0) == []  # quarantined identifier: discarded, no violation


def test_watchdog_probe_is_answered_by_the_server() -> None:
    client, server = _pair(watchdog=WatchdogConfig(interval=30.0, response_timeout=5.0))
    assert client.timer() == 30.0
    (probe,) = client.handle_timer(30.0)
    assert isinstance(probe, Send)
    assert Packet.from_bytes(probe.data).identifier == 0
    assert Packet.from_bytes(probe.data).attributes[0][0] == MESSAGE_AUTHENTICATOR
    assert client.receive_data(_serve(server, probe.data), now=31.0) == []  # probes are not user replies
    assert client.state is PeerState.UP and client.timer() == 61.0


def test_unanswered_probes_close_the_connection() -> None:
    client, _ = _pair(watchdog=WatchdogConfig(interval=10.0, response_timeout=2.0, down_after=2))
    assert isinstance(client.handle_timer(10.0)[0], Send)
    assert isinstance(client.handle_timer(12.0)[0], Send)
    assert client.state is PeerState.SUSPECT
    assert client.handle_timer(14.0) == [Close("watchdog: peer did not answer Status-Server")]
    assert client.state is PeerState.DOWN


def test_idle_client_closes_only_when_nothing_is_in_flight() -> None:
    client, server = _pair(idle_timeout=10.0, request_timeout=30.0)
    wire = client.send_request(REQ, "r1", now=0.0)
    assert client.handle_timer(10.0) == []
    assert [type(e) for e in client.receive_data(_serve(server, wire), now=11.0)] == [Answered]
    assert client.handle_timer(21.0) == [Close("idle timeout")]


def test_client_rejects_wrong_secret_and_wrong_code() -> None:
    client = ClientSession[str](now=0.0)
    other = ServerSession(now=0.0, secret=b"not-radsec")
    wire = client.send_request(REQ, "r1", now=0.0)
    request = Packet.from_bytes(wire)
    with pytest.raises(ProtocolViolation):
        client.receive_data(other.reply(request, Packet(Code.ACCESS_ACCEPT, 0)), now=0.0)
    client2 = ClientSession[str](now=0.0)
    request = Packet.from_bytes(client2.send_request(REQ, "r1", now=0.0))
    with pytest.raises(ProtocolViolation, match="does not answer"):
        client2.receive_data(
            ServerSession(now=0.0).reply(request, Packet(Code.ACCOUNTING_RESPONSE, 0)), now=0.0
        )


def test_server_rejects_replies_and_status_server_without_message_authenticator() -> None:
    with pytest.raises(ProtocolViolation, match="not a request"):
        ServerSession(now=0.0).receive_data(Packet(Code.ACCESS_ACCEPT, 1).to_bytes(), now=0.0)
    bare = sign_request(Packet(Code.STATUS_SERVER, 0), b"radsec", add_message_authenticator=False)
    with pytest.raises(ProtocolViolation):
        ServerSession(now=0.0).receive_data(bare.to_bytes(), now=0.0)


def test_server_idle_timeout() -> None:
    server = ServerSession(now=0.0, idle_timeout=30.0)
    assert server.timer() == 30.0 and server.handle_timer(29.0) == []
    assert server.handle_timer(30.0) == [Close("idle timeout")]
