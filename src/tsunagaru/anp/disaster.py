"""The incident's policy for the replies of an AP in disaster mode: a longer Session-Timeout.

The registry export writes, for an AP inside an active incident, ``disaster_until`` (the incident's end)
and ``disaster_session_timeout`` (the incident policy's Session-Timeout, :data:`tsunagaru.ops.effects.IN_INCIDENT`).
While ``wall`` (epoch seconds, passed in) is before the end, an Access-Accept to that AP carries a
Session-Timeout of at least the policy's value, cut at the incident's end (a session the policy lengthened
does not outlast the incident by the policy's doing) and never shorter than what the IdP sent. In a
disaster many people share one AP and every re-authentication costs them battery and attempts. Pure: no
clock, no I/O. (The other half of the policy, no per-client rate limit, is the export's ``rate``/``burst``.)
"""

from __future__ import annotations

from tsunagaru.anp.clients import Client
from tsunagaru.radius.packet import Packet

SESSION_TIMEOUT = 27  # RFC 2865 5.27, integer seconds
MIN_TIMEOUT = 60  # below a minute the AP would re-authenticate everyone at once near the end: leave it


def session_timeout(client: Client, wall: float | None) -> int | None:
    """The Session-Timeout the incident's policy asks for at ``wall``, or None (no policy applies)."""
    until, policy = client.disaster_until, client.disaster_session_timeout
    if until is None or policy is None or wall is None or wall >= until:
        return None
    seconds = min(policy, int(until - wall))
    return seconds if seconds >= MIN_TIMEOUT else None


def lengthen(reply: Packet, seconds: int | None) -> Packet:
    """``reply`` with its Session-Timeout raised to ``seconds`` (Access-Accept only; never lowered)."""
    if seconds is None or reply.code != 2:  # Access-Accept
        return reply
    current = [int.from_bytes(v, "big") for t, v in reply.attributes if t == SESSION_TIMEOUT and len(v) == 4]
    if current and max(current) >= seconds:
        return reply
    attrs = tuple(a for a in reply.attributes if a[0] != SESSION_TIMEOUT)
    return Packet(reply.code, reply.identifier, reply.authenticator,
                  (*attrs, (SESSION_TIMEOUT, seconds.to_bytes(4, "big"))))
