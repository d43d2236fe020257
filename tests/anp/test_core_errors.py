"""The core under bad input: typed rejects with the right Reject-Reason, the duplicate cache released,
RFC 5997 per port, accounting without an NAI, no IdP address in what the AP reads (reviews 18, 19, 44-46)."""

from __future__ import annotations

import os

from tests.anp.test_core import AP_SECRET, D, access_request, make_core
from tsunagaru.anp.core import Forward, Ignore, Reply, SpoolAccounting
from tsunagaru.radius import Code, Packet, encode, sign_reply, sign_request
from tsunagaru.radius.packet import REPLY_MESSAGE, TUNNEL_PASSWORD, VENDOR_SPECIFIC
from tsunagaru.radius.reasons import RejectReason, parse_reject_reason


def test_five_octet_user_password_is_rejected_30_and_its_retransmission_answered() -> None:
    core = make_core()
    data = access_request("a@idp.example", extra=((2, b"12345"),))
    first = core.on_datagram(data, "127.0.0.1", 5000, 0.0)
    assert isinstance(first, Reply) and first.reason == RejectReason.BAD_REQUEST
    assert first.detail is not None and "User-Password" in first.detail
    again = core.on_datagram(data, "127.0.0.1", 5000, 1.0)  # not "in progress" for 30 s
    assert isinstance(again, Reply) and again.data == first.data


def _forward(core_port: int = 5001) -> tuple[Forward, object]:
    core = make_core()
    fwd = core.on_datagram(access_request("a@idp.example"), "127.0.0.1", core_port, 0.0)
    assert isinstance(fwd, Forward)
    return fwd, core


def test_bad_mppe_salt_from_the_idp_is_reject_21() -> None:
    fwd, core = _forward()
    auth = fwd.upstream.authenticator
    bad_key = (311).to_bytes(4, "big") + bytes((16, 2 + 18)) + b"\x00\x01" + bytes(16)  # salt without its top bit
    reply = sign_reply(Packet(Code.ACCESS_ACCEPT, 1, auth, ((VENDOR_SPECIFIC, bad_key),)), auth, b"radsec")
    out = core.on_upstream_reply(fwd, reply, auth, 5001, 0.1)  # type: ignore[attr-defined]
    assert out.reason == RejectReason.BACKEND_FAILURE and out.outcome == "reject"
    assert Packet.from_bytes(out.data).code == Code.ACCESS_REJECT
    assert "malformed reply" in (out.detail or "")


def test_bad_tunnel_password_from_the_idp_is_reject_21() -> None:
    fwd, core = _forward(5002)
    auth = fwd.upstream.authenticator
    reply = sign_reply(Packet(Code.ACCESS_ACCEPT, 1, auth, ((TUNNEL_PASSWORD, b"\x01\x80"),)), auth, b"radsec")
    out = core.on_upstream_reply(fwd, reply, auth, 5002, 0.1)  # type: ignore[attr-defined]
    assert out.reason == RejectReason.BACKEND_FAILURE


def test_reply_message_never_carries_the_idp_address() -> None:
    fwd, core = _forward(5003)
    out = core.on_upstream_failure(fwd, RejectReason.PROTOCOL_TIMEOUT,  # type: ignore[attr-defined]
                                   "identity provider timed out (192.0.2.9:2083 did not answer in time)", 5003, 1.0)
    message = Packet.from_bytes(out.data).get(REPLY_MESSAGE) or b""
    assert b"192.0.2.9" not in message and parse_reject_reason(message) == 22
    assert "192.0.2.9" in (out.detail or "")  # for the operator's log


def _status() -> bytes:
    pkt = Packet(Code.STATUS_SERVER, 9, os.urandom(16))
    return sign_request(pkt, AP_SECRET, add_message_authenticator=True).to_bytes()


def test_status_server_gets_accounting_response_on_the_accounting_port() -> None:
    core = make_core()
    acct = core.on_datagram(_status(), "127.0.0.1", 6000, 0.0, "acct")
    auth = core.on_datagram(_status(), "127.0.0.1", 6001, 0.0, "auth")
    assert isinstance(acct, Reply) and Packet.from_bytes(acct.data).code == Code.ACCOUNTING_RESPONSE
    assert isinstance(auth, Reply) and Packet.from_bytes(auth.data).code == Code.ACCESS_ACCEPT


def test_access_request_on_the_accounting_port_is_dropped() -> None:
    action = make_core().on_datagram(access_request("a@idp.example"), "127.0.0.1", 6002, 0.0, "acct")
    assert isinstance(action, Ignore) and action.kind == "wrong_port"


def test_accounting_without_an_nai_is_still_acknowledged() -> None:
    pkt = Packet(Code.ACCOUNTING_REQUEST, 3, attributes=(*encode(D, "User-Name", "00:11:22:33:44:55"),
                                                         *encode(D, "Acct-Status-Type", "Start"),
                                                         *encode(D, "Acct-Session-Id", "s1")))
    data = sign_request(pkt, AP_SECRET, add_message_authenticator=False).to_bytes()
    action = make_core().on_datagram(data, "127.0.0.1", 6003, 0.0, "acct")
    assert isinstance(action, SpoolAccounting) and action.realm is None


def test_unknown_source_is_one_kind_not_its_address() -> None:
    action = make_core().on_datagram(access_request("a@idp.example"), "192.0.2.55", 1, 0.0)
    assert isinstance(action, Ignore) and action.kind == "unknown_client" and "192.0.2.55" in action.reason


def test_a_reload_that_changes_the_rate_takes_effect() -> None:
    import ipaddress

    from tsunagaru.anp.clients import Client, ClientRegistry

    core = make_core()
    slow = Client("ap", ipaddress.ip_network("127.0.0.0/8"), AP_SECRET, rate_per_second=1, burst=1)
    core.clients = ClientRegistry.of([slow])  # what a reload does: new clients, the same admitter
    results = [core.on_datagram(access_request("a@idp.example", ident=i), "127.0.0.1", 7000, 0.0) for i in range(3)]
    assert isinstance(results[0], Forward)
    assert all(isinstance(r, Ignore) and r.kind == "rate_limit" for r in results[1:])
    fast = Client("ap", ipaddress.ip_network("127.0.0.0/8"), AP_SECRET, rate_per_second=1000, burst=1000)
    core.clients = ClientRegistry.of([fast])
    later = [core.on_datagram(access_request("a@idp.example", ident=10 + i), "127.0.0.1", 7000, 0.5) for i in range(20)]
    assert all(isinstance(r, Forward) for r in later)


def test_a_rate_limited_request_is_not_left_in_progress_so_its_retransmission_gets_through() -> None:
    import ipaddress

    from tsunagaru.anp.clients import Client, ClientRegistry

    core = make_core()
    core.clients = ClientRegistry.of([Client("ap", ipaddress.ip_network("127.0.0.0/8"), AP_SECRET,
                                             rate_per_second=1, burst=1)])
    assert isinstance(core.on_datagram(access_request("a@idp.example", ident=1), "127.0.0.1", 7001, 0.0), Forward)
    data = access_request("a@idp.example", ident=2)
    dropped = core.on_datagram(data, "127.0.0.1", 7001, 0.1)
    assert isinstance(dropped, Ignore) and dropped.kind == "rate_limit"
    again = core.on_datagram(data, "127.0.0.1", 7001, 3.1)  # the AP retransmits 3 s later: tokens again
    assert isinstance(again, Forward), again  # not "duplicate of a request in progress" for 30 s
