"""The identity of one accounting event, shared by the ANP's spool and the IdP's store.

Two Accounting-Requests are the same event when they differ only in what changes in transit or on
retransmission: Acct-Delay-Time, Proxy-State, Message-Authenticator, and the header. Hashing the rest
lets both ends keep a record exactly once whatever retransmissions or restarts happen on the way.
"""

from __future__ import annotations

import hashlib

from tsunagaru.radius.packet import MESSAGE_AUTHENTICATOR, PROXY_STATE, Packet

ACCT_DELAY_TIME = 41
OPERATOR_NAME = 126
VOLATILE = frozenset({ACCT_DELAY_TIME, PROXY_STATE, MESSAGE_AUTHENTICATOR})


def record_key(packet: Packet, scope: str = "", *, ignore: frozenset[int] = frozenset()) -> str:
    """A hex digest naming the event; ``scope`` separates sources (e.g. the client that sent it)."""
    h = hashlib.sha256(scope.encode("utf-8") + b"\x00")
    skip = VOLATILE | ignore
    for t, v in sorted(a for a in packet.attributes if a[0] not in skip):
        h.update(bytes((t, len(v))) + v)
    return h.hexdigest()
