"""The IdP node named in the RADIUS State attribute, so that a proxy can route a conversation back to it.

One realm may be served by several IdP nodes (equal-priority SRV records, or a static pool). An EAP
conversation holds TLS state in the memory of the node that started it, so every request of the
conversation must reach that node. The node names itself in the State it sends in Access-Challenge;
the proxy (the ANP) reads the name without knowing anything else of the State, and sends requests
that carry it back to the peer that relayed that name (learnt from the challenges it relayed).

Format (version 1), octets::

    0-1   "TN" (0x54 0x4E), the marker
    2     0x01, the format version
    3     n, the length of the node id, 1..32
    4..   the node id, n octets of ASCII letters, digits, "-", "_" or "."
    then  16 random octets (what makes the State unguessable and unique per conversation)

A State that does not have this form (another vendor's IdP, an IdP without a node id: 16 random octets)
names no node: it is routed like any other request. A random State that happens to parse names a node
the proxy has not learnt, or one of the same realm: it only changes which node is tried first, so the
format needs no secret. RFC 2865 5.24 lets the server put anything in State and obliges the client
and any proxy to return it unchanged.
"""

from __future__ import annotations

import os
import re

__all__ = ["MAX_NODE_ID", "make_state", "node_of", "valid_node_id"]

MARKER = b"TN\x01"
MAX_NODE_ID = 32
RANDOM_OCTETS = 16
_NODE_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")
_NODE_OCTETS = re.compile(rb"[A-Za-z0-9._-]{1,32}")


def valid_node_id(node_id: str) -> bool:
    """1 to 32 ASCII letters, digits, "-", "_" or "." (what a configuration may set)."""
    return _NODE_ID.fullmatch(node_id) is not None


def make_state(node_id: str | None, random: bytes | None = None) -> bytes:
    """A new State for a conversation on ``node_id`` (None: 16 random octets, no node named).

    ``random`` (16 octets) is for tests; by default it comes from ``os.urandom``."""
    tail = os.urandom(RANDOM_OCTETS) if random is None else random
    if len(tail) != RANDOM_OCTETS:
        raise ValueError(f"the random part of a State is {RANDOM_OCTETS} octets, not {len(tail)}")
    if node_id is None:
        return tail
    if not valid_node_id(node_id):
        raise ValueError(f"{node_id!r} is not a node id (1-32 ASCII letters, digits, '-', '_', '.')")
    name = node_id.encode("ascii")
    return MARKER + bytes((len(name),)) + name + tail


def node_of(state: bytes | None) -> str | None:
    """The node id a State names, or None when it names none (any other State, any length)."""
    if state is None or not state.startswith(MARKER) or len(state) < len(MARKER) + 1:
        return None
    n = state[len(MARKER)]
    name = state[len(MARKER) + 1:len(MARKER) + 1 + n]
    if not 1 <= n <= MAX_NODE_ID or len(state) != len(MARKER) + 1 + n + RANDOM_OCTETS:
        return None
    return name.decode("ascii") if _NODE_OCTETS.fullmatch(name) else None
