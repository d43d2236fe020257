"""Properties of the ANP core on requests it forwards (review 34): random but routable NAIs, passwords,
Proxy-States, CUI and Operator-Name from the AP, and random IdP replies with MPPE keys and Tunnel-Password.

For every such request the core forwards (never rejects or raises), decorates exactly once, hides the
password again for the next hop, and turns the IdP's reply into one the AP can verify, with its keys
decryptable under the AP's secret and its Proxy-States echoed in order.
"""

from __future__ import annotations

import ipaddress
import itertools
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagaru.anp.clients import Client, ClientRegistry
from tsunagaru.anp.core import AnpCore, Forward
from tsunagaru.anp.decorate import Decoration
from tsunagaru.anp.routing import PeerAddress, RealmPattern, Router, StaticRoute, UseDiscovery, UseStatic
from tsunagaru.radius import Code, Packet, sign_reply, sign_request, verify_reply
from tsunagaru.radius.hiding import hide_user_password, reveal_user_password, salt_decrypt, salt_encrypt
from tsunagaru.radius.packet import (
    CHARGEABLE_USER_IDENTITY,
    MESSAGE_AUTHENTICATOR,
    OPERATOR_NAME,
    PROXY_STATE,
    TUNNEL_PASSWORD,
    USER_NAME,
    USER_PASSWORD,
    VENDOR_SPECIFIC,
)

AP_SECRET, UPSTREAM = b"testing123", b"radsec"
CORE = AnpCore(
    ClientRegistry.of([Client("ap", ipaddress.ip_network("127.0.0.0/8"), AP_SECRET, rate_per_second=1e9,
                              burst=10**9)]),
    Router(routes=[StaticRoute(RealmPattern.parse("*.static.example"), (PeerAddress("192.0.2.1", 2083, "idp"),))],
           discovery=True),
    Decoration(wbaid="CITY:JP", offered_service="OpenRoaming Bronze"))

CLOCK = itertools.count(1)  # the core's time only moves forward (it is monotonic time)
label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
realm = st.one_of(st.lists(label, min_size=1, max_size=3).map(lambda ls: ".".join([*ls, "static", "example"])),
                  st.lists(label, min_size=2, max_size=4).map(".".join))
user = st.from_regex(r"[A-Za-z0-9._-]{1,20}", fullmatch=True)
password = st.binary(min_size=1, max_size=64).filter(lambda b: not b.endswith(b"\x00"))
proxy_states = st.lists(st.binary(min_size=1, max_size=20), max_size=3)
key = st.binary(min_size=16, max_size=64)


def _request(name: str, pw: bytes, states: list[bytes], cui: bool, operator: bool, ident: int) -> Packet:
    auth = os.urandom(16)
    attrs: list[tuple[int, bytes]] = [(USER_NAME, name.encode()),
                                      (USER_PASSWORD, hide_user_password(pw, AP_SECRET, auth))]
    attrs += [(PROXY_STATE, s) for s in states]
    if cui:
        attrs.append((CHARGEABLE_USER_IDENTITY, b"\x00"))
    if operator:
        attrs.append((OPERATOR_NAME, b"1ap-operator.example"))
    return sign_request(Packet(Code.ACCESS_REQUEST, ident, auth, tuple(attrs)), AP_SECRET)


def _ms(sub: int, value: bytes) -> bytes:
    return (311).to_bytes(4, "big") + bytes((sub, len(value) + 2)) + value


@settings(max_examples=300, deadline=None)
@given(user, realm, password, proxy_states, st.booleans(), st.booleans(), st.integers(0, 255), key, key,
       st.binary(min_size=1, max_size=32), st.integers(1, 65535))
def test_routable_requests_are_forwarded_decorated_and_translated(
        name: str, where: str, pw: bytes, states: list[bytes], cui: bool, operator: bool, ident: int,
        send_key: bytes, recv_key: bytes, tunnel: bytes, port: int) -> None:
    request = _request(f"{name}@{where}", pw, states, cui, operator, ident)
    now = float(next(CLOCK))
    action = CORE.on_datagram(request.to_bytes(), "127.0.0.1", port, now)
    assert isinstance(action, Forward), action
    assert isinstance(action.decision, UseStatic if where.endswith(".static.example") else UseDiscovery)
    up = action.upstream
    # decorate: our Operator-Name once (the AP's replaced), one CUI request, no Proxy-State/Message-Authenticator
    assert up.get_all(OPERATOR_NAME) == [b"4CITY:JP"]
    assert len(up.get_all(CHARGEABLE_USER_IDENTITY)) == 1
    assert not up.get_all(PROXY_STATE) and not up.get_all(MESSAGE_AUTHENTICATOR)
    hidden = up.get(USER_PASSWORD)
    assert hidden is not None and reveal_user_password(hidden, UPSTREAM, up.authenticator) == pw
    assert Packet.from_bytes(up.to_bytes()).attributes == up.attributes
    # translate: keys and Tunnel-Password re-encrypted for the AP; local attributes stripped; Proxy-State echoed
    auth = up.authenticator
    reply = Packet(Code.ACCESS_ACCEPT, 1, auth, (
        (VENDOR_SPECIFIC, _ms(16, salt_encrypt(send_key, UPSTREAM, auth))),
        (VENDOR_SPECIFIC, _ms(17, salt_encrypt(recv_key, UPSTREAM, auth))),
        (TUNNEL_PASSWORD, b"\x01" + salt_encrypt(tunnel, UPSTREAM, auth)),
        (64, b"\x00\x00\x00\x0d"),  # Tunnel-Type: a remote IdP does not choose our VLANs
    ))
    out = CORE.on_upstream_reply(action, sign_reply(reply, auth, UPSTREAM), auth, port, now + 0.1)
    assert out.outcome == "accept" and out.reason is None
    ap = Packet.from_bytes(out.data)
    verify_reply(ap, request.authenticator, AP_SECRET, require_message_authenticator=True)
    assert ap.identifier == ident and ap.get_all(PROXY_STATE) == states and ap.get(64) is None
    keys = {v[4]: salt_decrypt(v[6:], AP_SECRET, request.authenticator) for v in ap.get_all(VENDOR_SPECIFIC)}
    assert keys == {16: send_key, 17: recv_key}
    tp = ap.get(TUNNEL_PASSWORD)
    assert tp is not None and tp[:1] == b"\x01" and salt_decrypt(tp[1:], AP_SECRET, request.authenticator) == tunnel


@settings(max_examples=200, deadline=None)
@given(user, realm, st.integers(1, 15), st.integers(1, 65535))
def test_a_password_no_multiple_of_16_is_rejected_30_never_raised(name: str, where: str, length: int,
                                                                  port: int) -> None:
    auth = os.urandom(16)
    attrs = ((USER_NAME, f"{name}@{where}".encode()), (USER_PASSWORD, os.urandom(length)))
    request = sign_request(Packet(Code.ACCESS_REQUEST, 1, auth, attrs), AP_SECRET)
    action = CORE.on_datagram(request.to_bytes(), "127.0.0.1", port, float(next(CLOCK)))
    assert not isinstance(action, Forward) and getattr(action, "reason", None) == 30
