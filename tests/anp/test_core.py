"""The ANP pipeline without sockets: every decision from bytes in to bytes out."""

from __future__ import annotations

import ipaddress

import pytest

from tsunagaru.anp.clients import Client, ClientRegistry
from tsunagaru.anp.core import AnpCore, Forward, Ignore, Reply, SpoolAccounting
from tsunagaru.anp.decorate import Decoration
from tsunagaru.anp.routing import PeerAddress, RealmPattern, Router, StaticRoute, UseDiscovery, UseStatic
from tsunagaru.radius import (
    Code,
    Packet,
    Secrets,
    decode_packet,
    default_dictionary,
    encode,
    sign_reply,
    sign_request,
    verify_reply,
)
from tsunagaru.radius.reasons import RejectReason, parse_reject_reason

AP_SECRET = b"testing123"
D = default_dictionary()


def make_core(**router: object) -> AnpCore:
    clients = ClientRegistry.of([Client("ap", ipaddress.ip_network("127.0.0.0/8"), AP_SECRET)])
    routes = [StaticRoute(RealmPattern.parse("idp.example"), (PeerAddress("127.0.0.1", 2083),))]
    return AnpCore(clients, Router(routes=routes, **router),  # type: ignore[arg-type]
                   Decoration(wbaid="TSUNAGARU:JP", offered_service="OpenRoaming Bronze"))


def access_request(user: str, *, ma: bool = True, ident: int = 7, extra: tuple[tuple[int, bytes], ...] = ()) -> bytes:
    pkt = Packet(Code.ACCESS_REQUEST, ident, attributes=(*encode(D, "User-Name", user), *extra))
    return sign_request(pkt, AP_SECRET, add_message_authenticator=ma).to_bytes()


def test_static_route_forwards_with_operator_name_and_cui_request() -> None:
    action = make_core().on_datagram(access_request("anonymous@idp.example"), "127.0.0.1", 5000, 0.0)
    assert isinstance(action, Forward) and isinstance(action.decision, UseStatic)
    names = {a.name: a.value for a in decode_packet(action.upstream, D)}
    assert names["Operator-Name"] == "4TSUNAGARU:JP"
    assert names["Chargeable-User-Identity"] == b"\x00"
    assert names["WBA-Offered-Service"] == "OpenRoaming Bronze"
    assert "Message-Authenticator" not in names


def test_unknown_realm_without_discovery_is_rejected_with_reason() -> None:
    data = access_request("a@nowhere.example")
    action = make_core(discovery=False).on_datagram(data, "127.0.0.1", 5000, 0.0)
    assert isinstance(action, Reply) and action.reason == RejectReason.INVALID_IDENTITY
    reply = Packet.from_bytes(action.data)
    request = Packet.from_bytes(data)
    assert reply.code == Code.ACCESS_REJECT and reply.attributes[0][0] == 80  # Message-Authenticator first
    verify_reply(reply, request.authenticator, AP_SECRET, require_message_authenticator=True)
    assert parse_reject_reason(reply.get(18) or b"") == 11


def test_other_realms_go_to_discovery() -> None:
    action = make_core().on_datagram(access_request("a@other.example"), "127.0.0.1", 5000, 0.0)
    assert isinstance(action, Forward) and action.decision == UseDiscovery("other.example")


def test_missing_message_authenticator_is_dropped() -> None:
    action = make_core().on_datagram(access_request("a@idp.example", ma=False), "127.0.0.1", 5000, 0.0)
    assert isinstance(action, Ignore) and "Message-Authenticator" in action.reason


def test_unknown_client_and_garbage_are_ignored() -> None:
    core = make_core()
    assert isinstance(core.on_datagram(access_request("a@idp.example"), "192.0.2.1", 1, 0.0), Ignore)
    assert isinstance(core.on_datagram(b"\x01\x02", "127.0.0.1", 1, 0.0), Ignore)


@pytest.mark.parametrize("user", ["noatsign", "a@b@c.example", "a@-bad-.example", "a@single", "bad user@x.example"])
def test_bad_outer_identities_are_rejected(user: str) -> None:
    action = make_core().on_datagram(access_request(user), "127.0.0.1", 5000, 0.0)
    assert isinstance(action, Reply) and action.reason == RejectReason.INVALID_IDENTITY


def test_deny_list_wins() -> None:
    core = make_core(deny=[RealmPattern.parse("*.example")])
    action = core.on_datagram(access_request("a@idp.example"), "127.0.0.1", 5000, 0.0)
    assert isinstance(action, Reply) and action.reason == RejectReason.ROAMING_NOT_ALLOWED


def test_duplicate_gets_the_cached_reply() -> None:
    core = make_core(discovery=False)
    data = access_request("a@nowhere.example")
    first = core.on_datagram(data, "127.0.0.1", 5000, 0.0)
    second = core.on_datagram(data, "127.0.0.1", 5000, 1.0)
    assert isinstance(first, Reply) and isinstance(second, Reply)
    assert second.data == first.data and second.outcome == "resend"


def test_reply_keys_are_reencrypted_for_the_ap_and_local_attributes_stripped() -> None:
    core = make_core()
    proxy_state = (33, b"ap-state")
    fwd = core.on_datagram(access_request("a@idp.example", extra=(proxy_state,)), "127.0.0.1", 5000, 0.0)
    assert isinstance(fwd, Forward)
    upstream_auth = fwd.upstream.authenticator
    key = bytes(range(32))
    upstream_secrets = Secrets(b"radsec", upstream_auth)
    idp_reply = Packet(Code.ACCESS_ACCEPT, 9, upstream_auth, (
        *encode(D, "MS-MPPE-Recv-Key", key, secrets=upstream_secrets),
        *encode(D, "Tunnel-Private-Group-Id", "100"),
        (79, b"\x03\x01\x00\x04"),
    ))
    idp_reply = sign_reply(idp_reply, upstream_auth, b"radsec")
    out = core.on_upstream_reply(fwd, idp_reply, upstream_auth, 5000, 0.1)
    reply = Packet.from_bytes(out.data)
    request = fwd.request
    verify_reply(reply, request.authenticator, AP_SECRET, require_message_authenticator=True)
    values = {a.name: a.value for a in decode_packet(reply, D, Secrets(AP_SECRET, request.authenticator))}
    assert values["MS-MPPE-Recv-Key"] == key
    assert "Tunnel-Private-Group-Id" not in values
    assert values["EAP-Message"] == b"\x03\x01\x00\x04"
    assert reply.get(33) == b"ap-state" and out.outcome == "accept"


def test_accounting_is_spooled_before_the_response() -> None:
    core = make_core()
    pkt = Packet(Code.ACCOUNTING_REQUEST, 3, attributes=(*encode(D, "User-Name", "a@idp.example"),
                                                        *encode(D, "Acct-Status-Type", "Start")))
    data = sign_request(pkt, AP_SECRET, add_message_authenticator=False).to_bytes()
    action = core.on_datagram(data, "127.0.0.1", 5000, 0.0)
    assert isinstance(action, SpoolAccounting) and action.realm == "idp.example"
    reply = core.on_accounting_stored(action, 5000, 0.0)
    assert Packet.from_bytes(reply.data).code == Code.ACCOUNTING_RESPONSE
    again = core.on_datagram(data, "127.0.0.1", 5000, 1.0)
    assert isinstance(again, Reply) and again.outcome == "resend"


def test_nas_identifier_pattern_is_enforced() -> None:
    import re

    clients = ClientRegistry.of([Client("ap", ipaddress.ip_network("127.0.0.0/8"), AP_SECRET,
                                        nas_identifier=re.compile(r"ap-[0-9]+\.city\.example"))])
    core = AnpCore(clients, Router(discovery=False))
    good = access_request("a@nowhere.example", extra=(*encode(D, "NAS-Identifier", "ap-12.city.example"),))
    bad = access_request("a@nowhere.example", extra=(*encode(D, "NAS-Identifier", "rogue"),))
    assert isinstance(core.on_datagram(good, "127.0.0.1", 1, 0.0), Reply)
    assert isinstance(core.on_datagram(bad, "127.0.0.1", 2, 0.0), Ignore)


def test_cui_from_the_idp_is_carried_for_the_log() -> None:
    core = make_core()
    fwd = core.on_datagram(access_request("a@idp.example"), "127.0.0.1", 5001, 0.0)
    assert isinstance(fwd, Forward)
    auth = fwd.upstream.authenticator
    reply = sign_reply(Packet(Code.ACCESS_ACCEPT, 1, auth, ((89, b"cui-abc"),)), auth, b"radsec")
    assert core.on_upstream_reply(fwd, reply, auth, 5001, 0.1).cui == b"cui-abc"


def test_site_location_is_added_per_client() -> None:
    info, data = bytes(21), bytes.fromhex("00004a500105546f6b796f")
    clients = ClientRegistry.of([Client("ap", ipaddress.ip_network("127.0.0.0/8"), AP_SECRET, location=(info, data))])
    core = AnpCore(clients, Router(routes=[StaticRoute(RealmPattern.parse("idp.example"),
                                                       (PeerAddress("127.0.0.1", 2083),))]))
    fwd = core.on_datagram(access_request("a@idp.example"), "127.0.0.1", 5002, 0.0)
    assert isinstance(fwd, Forward)
    assert fwd.upstream.get(127) == info and fwd.upstream.get(128) == data
