"""Admission of a request from an access point, before any routing (sans-IO, time passed in).

Order: authenticators and BlastRADIUS policy -> duplicate detection (RFC 5080 2.2.2: same client,
port, identifier and authenticator get the cached reply again) -> rate limit -> outer identity.
A failure here either drops the datagram (forged or duplicate-in-progress) or rejects with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from tsunagaru.anp.clients import Client
from tsunagaru.anp.nai import Nai, NaiError, parse_nai
from tsunagaru.net.replay import ReplyCache
from tsunagaru.radius import AuthenticatorMismatch, Code, MalformedPacket, Packet, verify_request
from tsunagaru.radius.packet import PROXY_STATE, USER_NAME
from tsunagaru.radius.reasons import RejectReason

NAS_IDENTIFIER = 32
MAX_PROXY_STATE = 4  # more than a handful of Proxy-State attributes is abuse (BlastRADIUS limits)
MAX_PROXY_STATE_LEN = 64


@dataclass(frozen=True, slots=True)
class Drop:
    reason: str
    kind: str = "duplicate"  # a bounded metric label (tsunagaru.anp.metrics.DROP_KINDS)


@dataclass(frozen=True, slots=True)
class Resend:
    reply: bytes


@dataclass(frozen=True, slots=True)
class Refuse:
    """Answer with an Access-Reject carrying ``reason`` (Access-Request only; others are dropped)."""

    reason: RejectReason
    message: str


class Admitted:
    """Every admitted request gets one: a plain slotted class (see :class:`tsunagaru.anp.core.Reply`)."""

    __slots__ = ("nai",)

    def __init__(self, nai: Nai | None) -> None:
        self.nai: Final = nai  # None for Status-Server and accounting without a User-Name

    def __repr__(self) -> str:
        return f"Admitted(nai={self.nai!r})"


Admission = Drop | Resend | Refuse | Admitted

DupKey = tuple[str, int, int, bytes]


DuplicateCache = ReplyCache[DupKey, bytes]


@dataclass(slots=True)
class TokenBucket:
    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = 0.0

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = max(self.stamp, now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def _nas_id_ok(packet: Packet, client: Client) -> bool:
    assert client.nas_identifier is not None
    value = packet.get(NAS_IDENTIFIER)
    return value is not None and client.nas_identifier.fullmatch(value.decode("utf-8", "replace")) is not None


@dataclass(slots=True)
class Admitter:
    """Admission state that outlives a reload: the duplicate cache and one token bucket per client name
    (client names are unique, the configuration check sees to that)."""

    duplicates: DuplicateCache = field(default_factory=DuplicateCache)
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def admit(self, packet: Packet, client: Client, port: int, now: float) -> Admission:
        if packet.code not in (Code.ACCESS_REQUEST, Code.ACCOUNTING_REQUEST, Code.STATUS_SERVER):
            return Drop(f"code {packet.code} is not accepted from access points", "bad_code")
        try:
            verify_request(packet, client.secret, require_message_authenticator=self._needs_ma(packet, client))
        except (AuthenticatorMismatch, MalformedPacket) as exc:
            return Drop(f"authentication of the request failed: {exc}", "bad_authenticator")
        key = (client.name, port, packet.identifier, packet.authenticator)
        seen = self.duplicates.begin(key, now)
        if seen is not None:
            return Resend(seen.reply) if seen.reply is not None else Drop("duplicate of a request in progress")
        if client.nas_identifier is not None and not _nas_id_ok(packet, client):
            self.duplicates.forget(key)
            return Drop(f"NAS-Identifier does not match the pattern configured for {client.name}", "nas_identifier")
        bucket = self.buckets.get(client.name)
        if bucket is None or (bucket.rate, bucket.burst) != (client.rate_per_second, client.burst):
            bucket = self.buckets[client.name] = self._rebucket(bucket, client)
        if not bucket.take(now):
            # Not in progress: the AP's retransmission must be weighed again, not dropped as a duplicate of
            # nothing for the cache's lifetime (30 s, longer than an AP retries)
            self.duplicates.forget(key)
            return Drop("rate limit exceeded", "rate_limit")
        return self._identity(packet)

    @staticmethod
    def _rebucket(old: TokenBucket | None, client: Client) -> TokenBucket:
        """A reload changed rate or burst (or a new client): the new values apply at once, tokens kept."""
        new = TokenBucket(client.rate_per_second, client.burst)
        if old is not None and old.tokens >= 0:
            new.tokens, new.stamp = min(old.tokens, float(client.burst)), old.stamp
        return new

    @staticmethod
    def _needs_ma(packet: Packet, client: Client) -> bool:
        if packet.code == Code.STATUS_SERVER:
            return True  # RFC 5997 3: Status-Server always carries it
        return packet.code == Code.ACCESS_REQUEST and client.require_message_authenticator

    @staticmethod
    def _identity(packet: Packet) -> Admission:
        proxy_states = packet.get_all(PROXY_STATE)
        if len(proxy_states) > MAX_PROXY_STATE or any(len(p) > MAX_PROXY_STATE_LEN for p in proxy_states):
            return Refuse(RejectReason.BAD_REQUEST, "too many or too long Proxy-State attributes")
        if packet.code == Code.STATUS_SERVER:
            return Admitted(None)
        user_name = packet.get(USER_NAME)
        if user_name is None:
            if packet.code == Code.ACCOUNTING_REQUEST:
                return Admitted(None)
            return Refuse(RejectReason.INVALID_IDENTITY, "no User-Name")
        try:
            return Admitted(parse_nai(user_name))
        except NaiError as exc:
            if packet.code == Code.ACCOUNTING_REQUEST:  # still acknowledged and spooled (default route)
                return Admitted(None)
            return Refuse(RejectReason.INVALID_IDENTITY, exc.reason)
