"""The ANP core takes any datagram without raising: garbage, and well-framed packets with random attributes."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagaru.anp.clients import Client, ClientRegistry
from tsunagaru.anp.core import AnpCore, Forward, Ignore, Reply, SpoolAccounting
from tsunagaru.anp.decorate import Decoration
from tsunagaru.anp.routing import Router
from tsunagaru.radius import Code, Packet, sign_request

SECRET = b"testing123"
CORE = AnpCore(ClientRegistry.of([Client("ap", ipaddress.ip_network("127.0.0.0/8"), SECRET,
                                         rate_per_second=1e9, burst=10**9)]),
               Router(discovery=True), Decoration(wbaid="CITY:JP", offered_service="OpenRoaming Bronze"))
ACTIONS = (Forward, Ignore, Reply, SpoolAccounting)

attribute = st.tuples(st.integers(1, 255), st.binary(max_size=40))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 65535))
def test_any_bytes(data: bytes, port: int) -> None:
    assert isinstance(CORE.on_datagram(data, "127.0.0.1", port, 0.0), ACTIONS)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([Code.ACCESS_REQUEST, Code.ACCOUNTING_REQUEST, Code.STATUS_SERVER, Code.COA_REQUEST]),
       st.lists(attribute, max_size=12), st.integers(0, 255), st.integers(1, 65535))
def test_signed_packets_with_random_attributes(code: int, attrs: list[tuple[int, bytes]], ident: int,
                                               port: int) -> None:
    packet = sign_request(Packet(code, ident, attributes=tuple(attrs)), SECRET)
    action = CORE.on_datagram(packet.to_bytes(), "127.0.0.1", port, float(port))
    assert isinstance(action, ACTIONS)
    if isinstance(action, Forward):  # whatever came in, what goes out re-encodes
        assert Packet.from_bytes(action.upstream.to_bytes()).attributes == action.upstream.attributes
