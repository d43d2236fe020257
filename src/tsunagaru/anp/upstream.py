"""What the ANP adapter needs from the outside world, as two small interfaces.

:class:`Transport` sends one request to one RadSec peer and returns the verified reply (the transport
assigns the identifier, signs with the ``radsec`` secret, and never retransmits over TLS).
:class:`PeerFinder` turns a realm into peers in failover order (RFC 7585 discovery or static routes).
Keeping them as protocols lets the ANP run over the real RadSec pool and resolver, and lets the
failover logic below be tested on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tsunagaru.anp.routing import PeerAddress
from tsunagaru.radius import Packet
from tsunagaru.radius.reasons import RejectReason


class UpstreamError(Exception):
    """Forwarding failed; ``reason`` is what the AP's Access-Reject says."""

    def __init__(self, reason: RejectReason, text: str) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text


class Transport(Protocol):
    def is_up(self, peer: PeerAddress) -> bool: ...

    async def send(self, peer: PeerAddress, packet: Packet, timeout: float) -> tuple[Packet, Packet]:
        """Send ``packet`` to ``peer``; returns (the signed request as sent, the verified reply)."""
        ...

    async def close(self) -> None: ...


class PeerFinder(Protocol):
    async def peers(self, realm: str, accounting: bool) -> Sequence[PeerAddress]:
        """Peers for the realm in failover order; raises UpstreamError (realm not found, DNS failure)."""
        ...


@dataclass(frozen=True, slots=True)
class Delivery:
    sent: Packet
    reply: Packet
    peer: PeerAddress
    attempts: int


Attempted = Callable[[PeerAddress, str], None]  # (peer, "reply" | "timeout" | "error"): for the peer table


async def deliver(transport: Transport, peers: Sequence[PeerAddress], packet: Packet, budget: float,
                  attempted: Attempted | None = None) -> Delivery:
    """Try the peers in order (those known up first) within ``budget`` seconds in all.

    A peer that fails (refused, TLS failure, closed, timed out) hands over to the next; each attempt
    gets what is left of the budget divided among the peers still untried, so a dead first target
    cannot eat the whole budget. Raises UpstreamError with Reject-Reason 22 when time runs out and
    21 when every peer failed. ``attempted`` hears of every attempt and its outcome.
    """
    if not peers:
        raise UpstreamError(RejectReason.BACKEND_FAILURE, "no peer for this realm")
    # One peer (a static route, most realms): nothing to order, and no state to ask per request.
    ordered = peers if len(peers) == 1 else sorted(peers, key=lambda p: 0 if transport.is_up(p) else 1)
    deadline = time.monotonic() + budget
    last = "no peer answered"
    for n, peer in enumerate(ordered):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        share = left / (len(ordered) - n) if n < len(ordered) - 1 else left
        try:
            sent, reply = await transport.send(peer, packet, max(share, 0.05))
        except TimeoutError:
            last = f"{peer.host}:{peer.port} did not answer in time"
            if attempted is not None:
                attempted(peer, "timeout")
        except (OSError, ConnectionError) as exc:
            last = f"{peer.host}:{peer.port} failed: {exc}"
            if attempted is not None:
                attempted(peer, "error")
        else:
            if attempted is not None:
                attempted(peer, "reply")
            return Delivery(sent, reply, peer, n + 1)
    if time.monotonic() >= deadline:
        raise UpstreamError(RejectReason.PROTOCOL_TIMEOUT, f"identity provider timed out ({last})")
    raise UpstreamError(RejectReason.BACKEND_FAILURE, f"identity provider unreachable ({last})")
