"""The ANP proxy pipeline as a sans-IO core: admit -> route -> decorate -> forward -> translate.

:class:`AnpCore` turns one datagram from an access point into one :data:`Action` for the adapter
(reply now, forward upstream, spool accounting, or drop), and turns an upstream reply or a timeout into
the reply for the AP. It holds no sockets and reads no clock; ``now`` comes with every call.

Bad input never raises out of the core: a request it cannot decorate (a User-Password that is no
multiple of 16 octets) is rejected with Reject-Reason 30, an IdP reply it cannot translate (a bad MPPE
salt or Tunnel-Password) with Reject-Reason 21; either way the duplicate-cache entry of the request is
answered, so a retransmission gets the same reply instead of being dropped as "in progress". Texts in
the Reply-Message for the AP are fixed per reason; what went wrong in detail (IdP address, exception)
goes to ``Reply.detail`` for the operator's log only.

The disaster credential (``disaster_realms``) is refused with Reject-Reason 42 before routing unless the
client's ``disaster_until`` lies after ``wall`` (epoch seconds, passed in like ``now``). This is the rule
of :func:`tsunagaru.ops.disaster_credential.decide_request` in the form the ANP can hold: the ANP has no
incidents or store, only what the registry export wrote per client (``disaster_until`` for the APs of an
active incident, its end), so "AP in an active incident's area" becomes "the client's end is still ahead".

Outcomes, by stage (four names, two meanings: *silent* or *Access-Reject*). Admission
(:mod:`tsunagaru.anp.admit`) answers ``Drop`` (say nothing: a code not taken from APs, a bad authenticator, a
duplicate still in progress, a NAS-Identifier that does not match, over the rate), ``Resend`` (the cached
reply of a duplicate) or ``Refuse`` (an Access-Reject with a Reject-Reason: no or an invalid User-Name, too
many Proxy-State; for any other code it becomes silence). Routing
(:mod:`tsunagaru.anp.routing`) answers ``Deny`` (an Access-Reject: realm not allowed or unroutable) or a
route. The core's own action ``Ignore`` is the only silent outcome the adapter sees: every ``Drop``, a
``Refuse`` of a non-Access-Request, an unknown source, a malformed packet or an Access-Request on the
accounting port become ``Ignore`` with a bounded metric kind; every ``Refuse`` and ``Deny`` of an
Access-Request becomes a :class:`Reply` holding the Access-Reject.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from tsunagaru.anp import disaster
from tsunagaru.anp.admit import Admitted, Admitter, Drop, Refuse, Resend
from tsunagaru.anp.clients import Client, ClientRegistry
from tsunagaru.anp.decorate import Decoration, decorate
from tsunagaru.anp.routing import Deny, Router, UseDiscovery, UseStatic
from tsunagaru.anp.translate import translate_reply
from tsunagaru.radius import Code, MalformedPacket, Packet, sign_reply
from tsunagaru.radius.packet import CHARGEABLE_USER_IDENTITY
from tsunagaru.radius.reasons import RejectReason, access_reject

RADSEC_SECRET = b"radsec"
OUTCOMES: dict[int, str] = {Code.ACCESS_ACCEPT: "accept", Code.ACCESS_REJECT: "reject",
                            Code.ACCESS_CHALLENGE: "challenge"}


class Reply:
    """Send ``data`` to the AP now.

    Reply and Forward are made once per request: plain slotted classes, read-only by convention (``Final``
    for mypy), because a frozen dataclass's interpreted ``__init__`` cost 0.7 us against 0.04 us compiled."""

    __slots__ = ("client", "cui", "data", "detail", "outcome", "realm", "reason")

    def __init__(self, data: bytes, outcome: str, reason: RejectReason | None = None, cui: bytes | None = None,
                 detail: str | None = None, client: str | None = None, realm: str | None = None) -> None:
        self.data: Final = data
        self.outcome: Final = outcome  # for metrics: accept/reject/challenge/status/accounting/resend
        self.reason: Final = reason
        self.cui: Final = cui  # the IdP's Chargeable-User-Identity, for logs (as a hash) and billing
        self.detail: Final = detail  # why the ANP rejected on its own, for the operator's log (never sent)
        self.client: Final = client  # the client's name (for metrics and the access line)
        self.realm: Final = realm

    def __repr__(self) -> str:
        return (f"Reply(outcome={self.outcome!r}, reason={self.reason!r}, client={self.client!r}, "
                f"realm={self.realm!r}, detail={self.detail!r})")


class Forward:
    """Send ``upstream`` (identifier and signature filled in by the transport) to the realm's peers."""

    __slots__ = ("client", "decision", "realm", "request", "session_timeout", "upstream")

    def __init__(self, request: Packet, client: Client, realm: str, decision: UseStatic | UseDiscovery,
                 upstream: Packet, session_timeout: int | None = None) -> None:
        self.request: Final = request
        self.client: Final = client
        self.realm: Final = realm
        self.decision: Final = decision
        self.upstream: Final = upstream
        self.session_timeout: Final = session_timeout  # the incident's policy for this AP's Access-Accept

    def __repr__(self) -> str:
        return f"Forward(client={self.client.name!r}, realm={self.realm!r}, decision={self.decision!r})"


@dataclass(frozen=True, slots=True)
class SpoolAccounting:
    """Write the record durably, then answer the AP with ``response``; forward it later."""

    request: Packet
    client: Client
    realm: str | None
    response: bytes


@dataclass(frozen=True, slots=True)
class Ignore:
    """Drop the datagram; ``kind`` is one of the bounded metric labels (``metrics.DROP_KINDS``), ``reason``
    the sentence for a debug log line (it may name the source address: never a label)."""

    reason: str
    kind: str = "malformed"


Action = Reply | Forward | SpoolAccounting | Ignore
#: Which listener a datagram came in on: RFC 5997 3 answers Status-Server per port; None for RadSec
Service = Literal["auth", "acct"] | None
#: What the AP reads in the Reply-Message when the ANP rejects because forwarding failed (review 45:
#: never the IdP's address or an exception's text; those go to the log)
UPSTREAM_TEXT = {RejectReason.PROTOCOL_TIMEOUT: "identity provider did not answer in time",
                 RejectReason.BACKEND_FAILURE: "identity provider unreachable",
                 RejectReason.INVALID_IDENTITY: "realm not found",
                 RejectReason.BAD_REQUEST: "request not accepted"}


@dataclass(slots=True)
class AnpCore:
    """The whole ANP decision for one request: who sent it (:class:`ClientRegistry`), whether it is
    admitted (:class:`Admitter`), where it goes (:class:`Router`) and what is added (:class:`Decoration`).
    One instance per configuration; a reload builds a new one and keeps the admitter."""

    clients: ClientRegistry
    router: Router
    decoration: Decoration = field(default_factory=Decoration)
    admitter: Admitter = field(default_factory=Admitter)
    upstream_secret: bytes = RADSEC_SECRET
    disaster_realms: frozenset[str] = frozenset()  # lower case

    def on_datagram(self, data: bytes, address: str, port: int, now: float, service: Service = None,
                    wall: float | None = None) -> Action:
        client = self.clients.find(address)
        if client is None:
            return Ignore(f"unknown client {address}", "unknown_client")
        try:
            request = Packet.from_bytes(data)
        except MalformedPacket as exc:
            return Ignore(f"malformed packet from {client.name}: {exc.reason}", "malformed")
        return self.on_request(request, client, port, now, service, wall)

    def on_request(self, request: Packet, client: Client, port: int, now: float, service: Service = None,
                   wall: float | None = None) -> Action:
        """``now`` is monotonic (caches, buckets); ``wall`` is epoch seconds for ``disaster_until`` (None: the
        disaster credential is refused, fail closed)."""
        if service == "acct" and request.code == Code.ACCESS_REQUEST:
            return Ignore(f"Access-Request from {client.name} on the accounting port", "wrong_port")
        verdict = self.admitter.admit(request, client, port, now)
        if isinstance(verdict, Drop):
            return Ignore(verdict.reason, verdict.kind)
        if isinstance(verdict, Resend):
            return Reply(verdict.reply, "resend", client=client.name)
        if isinstance(verdict, Refuse):
            if request.code != Code.ACCESS_REQUEST:
                return Ignore(verdict.message, "not_access_request")
            return self._reject(request, client, port, verdict.reason, verdict.message, now)
        assert isinstance(verdict, Admitted)
        if request.code == Code.STATUS_SERVER:
            return self._status(request, client, port, now, service)
        realm = verdict.nai.realm if verdict.nai else None
        if request.code == Code.ACCOUNTING_REQUEST:
            response = sign_reply(Packet(Code.ACCOUNTING_RESPONSE, request.identifier), request.authenticator,
                                  client.secret, add_message_authenticator=False)
            return SpoolAccounting(request, client, realm, response.to_bytes())
        assert realm is not None
        refused = self._disaster_refusal(realm, client, wall)
        if refused is not None:
            return self._reject(request, client, port, RejectReason.ROAMING_NOT_ALLOWED, "roaming not allowed here",
                                now, realm, detail=refused)
        decision = self.router.decide(realm)
        if isinstance(decision, Deny):
            return self._reject(request, client, port, decision.reason, decision.text, now, realm)
        try:
            upstream = decorate(request, client.secret, self.upstream_secret, self.decoration,
                                location=client.location)
        except MalformedPacket as exc:  # e.g. a 5-octet User-Password: authenticated, yet not decodable
            return self._reject(request, client, port, RejectReason.BAD_REQUEST, "malformed request", now, realm,
                                detail=exc.reason)
        if client.disaster_until is None:
            return Forward(request, client, realm, decision, upstream)
        return Forward(request, client, realm, decision, upstream, disaster.session_timeout(client, wall))

    def _disaster_refusal(self, realm: str, client: Client, wall: float | None) -> str | None:
        """Why the disaster credential is refused from this client now (for the log), or None to go on."""
        if realm.lower() not in self.disaster_realms:
            return None
        if client.disaster_until is None:
            return "disaster credential from a client in no active incident"
        if wall is None or wall >= client.disaster_until:
            return f"disaster credential after the incident's end ({client.disaster_until:.0f})"
        return None

    def _status(self, request: Packet, client: Client, port: int, now: float, service: Service) -> Reply:
        """RFC 5997 3: Access-Accept on the authentication port, Accounting-Response on the accounting port."""
        code = Code.ACCOUNTING_RESPONSE if service == "acct" else Code.ACCESS_ACCEPT
        reply = sign_reply(Packet(code, request.identifier), request.authenticator, client.secret)
        return self._answer(request, client, port, reply, "status", now)

    # -- completions from the adapter -------------------------------------------------------------

    def on_upstream_reply(self, fwd: Forward, reply: Packet, sent_authenticator: bytes, port: int,
                          now: float) -> Reply:
        if fwd.session_timeout is not None:
            reply = disaster.lengthen(reply, fwd.session_timeout)
        try:
            out = translate_reply(reply, self.upstream_secret, sent_authenticator, fwd.request, fwd.client.secret)
        except MalformedPacket as exc:  # a bad MPPE salt or Tunnel-Password from the IdP: fail closed
            return self._reject(fwd.request, fwd.client, port, RejectReason.BACKEND_FAILURE,
                                UPSTREAM_TEXT[RejectReason.BACKEND_FAILURE], now, fwd.realm,
                                detail=f"malformed reply from the identity provider: {exc.reason}")
        outcome = OUTCOMES.get(out.code, "other")
        return self._answer(fwd.request, fwd.client, port, out, outcome, now, realm=fwd.realm,
                            cui=out.get(CHARGEABLE_USER_IDENTITY) or None)

    def on_upstream_failure(self, fwd: Forward, reason: RejectReason, text: str, port: int, now: float) -> Reply:
        """``text`` (which may name the IdP) goes to the log; the AP reads a fixed sentence per reason."""
        return self._reject(fwd.request, fwd.client, port, reason, UPSTREAM_TEXT.get(reason, "request failed"),
                            now, fwd.realm, detail=text)

    def on_accounting_stored(self, acct: SpoolAccounting, port: int, now: float) -> Reply:
        key = (acct.client.name, port, acct.request.identifier, acct.request.authenticator)
        self.admitter.duplicates.answered(key, acct.response, now)
        return Reply(acct.response, "accounting", client=acct.client.name, realm=acct.realm)

    def on_accounting_not_stored(self, acct: SpoolAccounting, port: int) -> None:
        """The spool refused the record (a full disk): no answer, and the AP's retransmission is let in."""
        self.admitter.duplicates.forget((acct.client.name, port, acct.request.identifier, acct.request.authenticator))

    def _reject(self, request: Packet, client: Client, port: int, reason: RejectReason, text: str,
                now: float, realm: str | None = None, detail: str | None = None) -> Reply:
        reply = sign_reply(access_reject(request, reason, text), request.authenticator, client.secret)
        return self._answer(request, client, port, reply, "reject", now, reason, realm, detail=detail or text)

    def _answer(self, request: Packet, client: Client, port: int, reply: Packet, outcome: str, now: float,
                reason: RejectReason | None = None, realm: str | None = None, cui: bytes | None = None,
                detail: str | None = None) -> Reply:
        data = reply.to_bytes()
        self.admitter.duplicates.answered((client.name, port, request.identifier, request.authenticator), data, now)
        return Reply(data, outcome, reason, cui, detail, client.name, realm)
