"""EAP conversations stay on the IdP node that holds their TLS state: State -> node id -> peer.

When several IdP nodes serve one realm (equal-priority SRV records, or a static route with
``balance = "spread"``), each node names itself in the State of its Access-Challenges
(:mod:`tsunagaru.radius.node_state`). :class:`NodeAffinity` learns, from every challenge the ANP relays,
which peer answered for (realm, node id), and puts that peer first for the requests whose State names
the node. No node ever needs another's OpenSSL state.

When the named peer is down (its connection closed, its watchdog failed), the failover order of
:func:`~tsunagaru.anp.upstream.deliver` (peers known up first) sends the request to another node, which
answers at once with an Access-Reject (unknown State): the client restarts the conversation from
EAP-Start/Identity, and that new conversation goes to an up node. Fast, not after a timeout.

Pure: time is passed in. Bounded (``max_entries``, least recently used first out) and expiring
(``lifetime`` seconds after the last challenge that named the node), because realms and node ids come
from the network.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from tsunagaru.anp.routing import PeerAddress
from tsunagaru.radius import Code, Packet
from tsunagaru.radius.node_state import node_of
from tsunagaru.radius.packet import STATE

__all__ = ["NodeAffinity"]

_CHALLENGE = int(Code.ACCESS_CHALLENGE)


@dataclass(slots=True)
class NodeAffinity:
    """(realm, node id) -> the peer that sent challenges naming that node; bounded and expiring."""

    max_entries: int = 4096
    lifetime: float = 3600.0
    _nodes: OrderedDict[tuple[str, str], tuple[PeerAddress, float]] = field(default_factory=OrderedDict)
    learnt: int = 0  # challenges that named a node (a counter for tests and metrics)
    steered: int = 0  # requests whose named node was put first

    def __len__(self) -> int:
        return len(self._nodes)

    def learn(self, realm: str, reply: Packet, peer: PeerAddress, now: float) -> None:
        """Remember which peer sent ``reply`` when it is an Access-Challenge whose State names a node."""
        if reply.code != _CHALLENGE:
            return
        node = node_of(reply.get(STATE))
        if node is None:
            return
        key = (realm, node)
        self._nodes[key] = (peer, now)
        self._nodes.move_to_end(key)
        self.learnt += 1
        while len(self._nodes) > self.max_entries:
            self._nodes.popitem(last=False)

    def peer_for(self, realm: str, request: Packet, now: float) -> PeerAddress | None:
        """The peer that holds the conversation ``request`` continues, if its State names a known node."""
        node = node_of(request.get(STATE))
        if node is None:
            return None
        key = (realm, node)
        found = self._nodes.get(key)
        if found is None:
            return None
        peer, seen = found
        if now - seen > self.lifetime:
            del self._nodes[key]
            return None
        return peer

    def order(self, realm: str, request: Packet, peers: Sequence[PeerAddress], now: float) -> Sequence[PeerAddress]:
        """``peers`` with the conversation's node first (when it is one of them); otherwise unchanged."""
        if len(peers) < 2:
            return peers
        peer = self.peer_for(realm, request, now)
        if peer is None or peer not in peers:
            return peers
        self.steered += 1
        return [peer, *(p for p in peers if p != peer)]
