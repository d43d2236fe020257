"""The ANP proxy pipeline as a sans-IO core: admit -> route -> decorate -> forward -> translate.

:class:`AnpCore` turns one datagram from an access point into one :data:`Action` for the adapter
(reply now, forward upstream, spool accounting, or drop), and turns an upstream reply or a timeout into
the reply for the AP. It holds no sockets and reads no clock; ``now`` comes with every call.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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


@dataclass(frozen=True, slots=True)
class Reply:
    """Send ``data`` to the AP now."""

    data: bytes
    outcome: str  # for metrics: accept/reject/challenge/status/accounting/resend
    reason: RejectReason | None = None
    cui: bytes | None = None  # the IdP's Chargeable-User-Identity, for logs (as a hash) and billing


@dataclass(frozen=True, slots=True)
class Forward:
    """Send ``upstream`` (identifier and signature filled in by the transport) to the realm's peers."""

    request: Packet
    client: Client
    realm: str
    decision: UseStatic | UseDiscovery
    upstream: Packet


@dataclass(frozen=True, slots=True)
class SpoolAccounting:
    """Write the record durably, then answer the AP with ``response``; forward it later."""

    request: Packet
    client: Client
    realm: str | None
    response: bytes


@dataclass(frozen=True, slots=True)
class Ignore:
    reason: str


Action = Reply | Forward | SpoolAccounting | Ignore


@dataclass(slots=True)
class AnpCore:
    clients: ClientRegistry
    router: Router
    decoration: Decoration = field(default_factory=Decoration)
    admitter: Admitter = field(default_factory=Admitter)
    upstream_secret: bytes = RADSEC_SECRET

    def on_datagram(self, data: bytes, address: str, port: int, now: float) -> Action:
        client = self.clients.find(address)
        if client is None:
            return Ignore(f"unknown client {address}")
        try:
            request = Packet.from_bytes(data)
        except MalformedPacket as exc:
            return Ignore(f"malformed packet from {client.name}: {exc.reason}")
        return self.on_request(request, client, port, now)

    def on_request(self, request: Packet, client: Client, port: int, now: float) -> Action:
        verdict = self.admitter.admit(request, client, port, now)
        if isinstance(verdict, Drop):
            return Ignore(verdict.reason)
        if isinstance(verdict, Resend):
            return Reply(verdict.reply, "resend")
        if isinstance(verdict, Refuse):
            if request.code != Code.ACCESS_REQUEST:
                return Ignore(verdict.message)
            return self._reject(request, client, port, verdict.reason, verdict.message, now)
        assert isinstance(verdict, Admitted)
        if request.code == Code.STATUS_SERVER:
            reply = sign_reply(Packet(Code.ACCESS_ACCEPT, request.identifier), request.authenticator, client.secret)
            return self._answer(request, client, port, reply, "status", now)
        realm = verdict.nai.realm if verdict.nai else None
        if request.code == Code.ACCOUNTING_REQUEST:
            response = sign_reply(Packet(Code.ACCOUNTING_RESPONSE, request.identifier), request.authenticator,
                                  client.secret, add_message_authenticator=False)
            return SpoolAccounting(request, client, realm, response.to_bytes())
        assert realm is not None
        decision = self.router.decide(realm)
        if isinstance(decision, Deny):
            return self._reject(request, client, port, decision.reason, decision.text, now)
        upstream = decorate(request, client.secret, self.upstream_secret, self.decoration, location=client.location)
        return Forward(request, client, realm, decision, upstream)

    # -- completions from the adapter -------------------------------------------------------------

    def on_upstream_reply(self, fwd: Forward, reply: Packet, sent_authenticator: bytes, port: int,
                          now: float) -> Reply:
        out = translate_reply(reply, self.upstream_secret, sent_authenticator, fwd.request, fwd.client.secret)
        outcome = OUTCOMES.get(out.code, "other")
        answer = self._answer(fwd.request, fwd.client, port, out, outcome, now)
        cui = out.get(CHARGEABLE_USER_IDENTITY)
        return replace(answer, cui=cui) if cui else answer

    def on_upstream_failure(self, fwd: Forward, reason: RejectReason, text: str, port: int, now: float) -> Reply:
        return self._reject(fwd.request, fwd.client, port, reason, text, now)

    def on_accounting_stored(self, acct: SpoolAccounting, port: int, now: float) -> Reply:
        key = (acct.client.name, port, acct.request.identifier, acct.request.authenticator)
        self.admitter.duplicates.answered(key, acct.response, now)
        return Reply(acct.response, "accounting")

    def _reject(self, request: Packet, client: Client, port: int, reason: RejectReason, text: str,
                now: float) -> Reply:
        reply = sign_reply(access_reject(request, reason, text), request.authenticator, client.secret)
        return self._answer(request, client, port, reply, "reject", now, reason)

    def _answer(self, request: Packet, client: Client, port: int, reply: Packet, outcome: str, now: float,
                reason: RejectReason | None = None) -> Reply:
        data = reply.to_bytes()
        self.admitter.duplicates.answered((client.name, port, request.identifier, request.authenticator), data, now)
        return Reply(data, outcome, reason)
