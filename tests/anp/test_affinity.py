"""State -> IdP node -> peer: learnt from relayed challenges, bounded, expiring; the failover order does the rest."""

from __future__ import annotations

import asyncio

from tests.anp.test_upstream import MemoryTransport
from tsunagaru.anp.affinity import NodeAffinity
from tsunagaru.anp.routing import PeerAddress
from tsunagaru.anp.upstream import deliver
from tsunagaru.radius import Code, Packet
from tsunagaru.radius.node_state import make_state
from tsunagaru.radius.packet import STATE

A, B, C = PeerAddress("127.0.0.1", 1), PeerAddress("127.0.0.1", 2), PeerAddress("127.0.0.1", 3)
REALM = "idp.example"


def challenge(node: str | None) -> Packet:
    return Packet(Code.ACCESS_CHALLENGE, 1, attributes=((STATE, make_state(node)),))


def request(state: bytes | None) -> Packet:
    return Packet(Code.ACCESS_REQUEST, 2, attributes=() if state is None else ((STATE, state),))


def test_a_request_with_state_goes_back_to_the_node_that_sent_it() -> None:
    aff = NodeAffinity()
    reply = challenge("node-b")
    aff.learn(REALM, reply, B, now=0.0)
    assert aff.order(REALM, request(reply.get(STATE)), [A, B, C], now=1.0) == [B, A, C]
    assert aff.steered == 1


def test_new_conversations_and_unknown_nodes_keep_the_given_order() -> None:
    aff = NodeAffinity()
    aff.learn(REALM, challenge("node-b"), B, now=0.0)
    assert aff.order(REALM, request(None), [A, B], now=1.0) == [A, B]
    assert aff.order(REALM, request(make_state("node-x")), [A, B], now=1.0) == [A, B]
    assert aff.order(REALM, request(bytes(16)), [A, B], now=1.0) == [A, B]  # another IdP's State
    assert aff.order("other.example", request(make_state("node-b")), [A, B], now=1.0) == [A, B]  # per realm


def test_only_challenges_teach() -> None:
    aff = NodeAffinity()
    aff.learn(REALM, Packet(Code.ACCESS_ACCEPT, 1, attributes=((STATE, make_state("n")),)), A, now=0.0)
    aff.learn(REALM, challenge(None), A, now=0.0)
    assert len(aff) == 0


def test_a_peer_no_longer_among_the_candidates_is_not_added() -> None:
    aff = NodeAffinity()
    aff.learn(REALM, challenge("n"), C, now=0.0)
    assert aff.order(REALM, request(make_state("n")), [A, B], now=1.0) == [A, B]


def test_entries_expire_and_are_bounded() -> None:
    aff = NodeAffinity(max_entries=3, lifetime=10.0)
    aff.learn(REALM, challenge("n"), B, now=0.0)
    assert aff.peer_for(REALM, request(make_state("n")), now=11.0) is None
    assert len(aff) == 0
    for i in range(10):
        aff.learn(f"r{i}.example", challenge("n"), A, now=0.0)
    assert len(aff) == 3
    assert aff.peer_for("r9.example", request(make_state("n")), now=1.0) == A
    assert aff.peer_for("r0.example", request(make_state("n")), now=1.0) is None


def test_the_latest_peer_for_a_node_wins() -> None:
    aff = NodeAffinity()
    aff.learn(REALM, challenge("n"), A, now=0.0)
    aff.learn(REALM, challenge("n"), B, now=1.0)
    assert aff.peer_for(REALM, request(make_state("n")), now=2.0) == B


def test_named_node_down_sends_the_request_to_another_node_at_once() -> None:
    """The named peer known down: the failover order tries an up node first (which rejects the State)."""
    aff = NodeAffinity()
    aff.learn(REALM, challenge("node-a"), A, now=0.0)
    transport = MemoryTransport({A: "ok", B: "ok"}, down={A})
    ordered = aff.order(REALM, request(make_state("node-a")), [B, A], now=1.0)
    assert ordered == [A, B]
    delivery = asyncio.run(deliver(transport, ordered, Packet(Code.ACCESS_REQUEST, 0), 1.0))
    assert delivery.peer == B and transport.tried == [B]
