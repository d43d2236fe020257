"""radclient (freeradius-utils) against a small responder built on our codec and tsunagaru.net."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Iterator

import pytest

from tests.support.freeradius import radclient
from tsunagaru.net.front import UdpFront
from tsunagaru.radius import Code, Packet, Secrets, default_dictionary, encode, get_value, sign_reply, verify_request
from tsunagaru.radius.packet import PROXY_STATE

pytestmark = pytest.mark.interop
SECRET = b"testing123"
KEY = bytes(range(100, 132))


def signed(req: Packet, _addr: object) -> Packet | None:
    """Verify, answer, copy Proxy-State, sign (Message-Authenticator on Access-Request/Status-Server)."""
    needs_ma = req.code in (Code.ACCESS_REQUEST, Code.STATUS_SERVER)
    verify_request(req, SECRET, require_message_authenticator=needs_ma)
    reply = handler(req)
    if reply is None:
        return None
    reply = reply.replace(identifier=req.identifier).add(*((PROXY_STATE, v) for v in req.get_all(PROXY_STATE)))
    return sign_reply(reply, req.authenticator, SECRET, add_message_authenticator=needs_ma)


def handler(req: Packet) -> Packet | None:
    d = default_dictionary()
    if req.code == Code.ACCESS_REQUEST:
        pw = get_value(req, d, "User-Password", Secrets(SECRET, req.authenticator))
        if pw != "password":
            return Packet(Code.ACCESS_REJECT, 0, attributes=tuple(encode(d, "Reply-Message", "pw was False")))
        hide = Secrets(SECRET, req.authenticator)  # salt-encrypted for radclient to decrypt
        attrs = (encode(d, "Reply-Message", "pw was True") + encode(d, "MS-MPPE-Send-Key", KEY, secrets=hide)
                 + encode(d, "Tunnel-Password", "vlan-secret", tag=1, secrets=hide))
        return Packet(Code.ACCESS_ACCEPT, 0, attributes=tuple(attrs))
    if req.code == Code.ACCOUNTING_REQUEST:
        return Packet(Code.ACCOUNTING_RESPONSE, 0)
    if req.code == Code.STATUS_SERVER:
        return Packet(Code.ACCESS_ACCEPT, 0)
    return None


@pytest.fixture
def responder() -> Iterator[tuple[int, int]]:
    """Our server (the production UDP front) on two kernel-chosen ports, in a thread with its own loop."""
    loop = asyncio.new_event_loop()
    auth = UdpFront(signed, [ipaddress.ip_network("127.0.0.0/8")])
    acct = UdpFront(signed, [ipaddress.ip_network("127.0.0.0/8")])
    auth_port = loop.run_until_complete(auth.bind("127.0.0.1", 0))[1]
    acct_port = loop.run_until_complete(acct.bind("127.0.0.1", 0))[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield auth_port, acct_port
    finally:
        for server in (auth, acct):
            asyncio.run_coroutine_threadsafe(server.drain(1.0), loop).result(5)
            loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_access_request_accept_and_reject(responder: tuple[int, int]) -> None:
    auth, _ = responder
    ok = radclient(f"127.0.0.1:{auth}", "auth", "testing123",
                   'User-Name = "alice", User-Password = "password", Message-Authenticator = 0x00\n')
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Received Access-Accept" in ok.stdout and 'Reply-Message = "pw was True"' in ok.stdout
    reply = ok.stdout.split("Received Access-Accept", 1)[1]
    assert "Message-Authenticator" in reply
    assert f"MS-MPPE-Send-Key = 0x{KEY.hex()}" in reply
    assert 'Tunnel-Password:1 = "vlan-secret"' in reply
    bad = radclient(f"127.0.0.1:{auth}", "auth", "testing123",
                    'User-Name = "alice", User-Password = "nope", Message-Authenticator = 0x00\n')
    assert "Received Access-Reject" in bad.stdout, bad.stdout + bad.stderr


def test_accounting_request(responder: tuple[int, int]) -> None:
    _, acct = responder
    res = radclient(f"127.0.0.1:{acct}", "acct", "testing123",
                    'User-Name = "alice", Acct-Status-Type = Start, Acct-Session-Id = "s-1"\n')
    assert res.returncode == 0 and "Received Accounting-Response" in res.stdout, res.stdout + res.stderr


def test_status_server(responder: tuple[int, int]) -> None:
    auth, _ = responder
    res = radclient(f"127.0.0.1:{auth}", "status", "testing123", "Message-Authenticator = 0x00\n")
    assert res.returncode == 0 and "Received Access-Accept" in res.stdout, res.stdout + res.stderr


def test_wrong_secret_gets_no_answer(responder: tuple[int, int]) -> None:
    auth, _ = responder
    res = radclient(f"127.0.0.1:{auth}", "auth", "not-the-secret",
                    'User-Name = "alice", User-Password = "password", Message-Authenticator = 0x00\n',
                    timeout=0.3, retries=1)
    assert "Received" not in res.stdout and res.returncode != 0
