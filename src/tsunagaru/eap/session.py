"""The server side of one EAP conversation as a transition table (h11 style), sans-IO.

Everything that moves the machine is in ``TRANSITIONS`` below; a (state, event) pair that is not there
is a protocol error and the packet is silently discarded (RFC 3748 4.1 and 7.x)::

    IDENTITY --identity--> PROPOSED --nak--> PROPOSED (next acceptable method) | FAILURE (none left)
    PROPOSED --response--> METHOD --response--> METHOD
    PROPOSED/METHOD --method ok--> SUCCESS,   --method failed--> FAILURE
    any running state --abort (malformed, timeout, round limit)--> FAILURE

Time is an argument: ``receive(raw, now)``, ``timer()``, ``handle_timer(now)``, ``expired(now)``.

A step may end in a question instead of a reply: ``Step.query`` (verify this password, look up this NT
hash, check this certificate). The adapter answers it and calls ``resume(answer, now)``, which returns
the step the conversation would have produced; until then the session discards new responses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum

from tsunagaru.eap.credentials import CredentialAnswer, CredentialQuery, Verdict
from tsunagaru.eap.methods import base
from tsunagaru.eap.packet import (
    EapCode,
    EapPacket,
    EapType,
    MalformedEap,
    expanded,
    expanded_nak_types,
    identity_text,
    nak_types,
)
from tsunagaru.eap.packet import failure as eap_failure
from tsunagaru.eap.packet import request as eap_request
from tsunagaru.eap.packet import success as eap_success
from tsunagaru.radius.reasons import RejectReason

REJECT_MALFORMED = RejectReason.BAD_REQUEST
REJECT_TIMEOUT = RejectReason.PROTOCOL_TIMEOUT


class State(Enum):
    IDENTITY = "identity"  # waiting for EAP-Response/Identity
    PROPOSED = "proposed"  # a method's first request is out; a Nak is still allowed
    METHOD = "method"  # the method is running
    SUCCESS = "success"
    FAILURE = "failure"


class Event(Enum):
    IDENTITY = "identity"
    NAK = "nak"
    RESPONSE = "response"
    METHOD_OK = "method-ok"
    METHOD_FAILED = "method-failed"
    NO_METHOD = "no-method"
    ABORT = "abort"  # malformed packet, retransmissions exhausted, or too many rounds


TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.IDENTITY, Event.IDENTITY): State.PROPOSED,
    (State.IDENTITY, Event.NO_METHOD): State.FAILURE,
    (State.IDENTITY, Event.ABORT): State.FAILURE,
    (State.PROPOSED, Event.NAK): State.PROPOSED,
    (State.PROPOSED, Event.NO_METHOD): State.FAILURE,
    (State.PROPOSED, Event.RESPONSE): State.METHOD,
    (State.PROPOSED, Event.METHOD_OK): State.SUCCESS,
    (State.PROPOSED, Event.METHOD_FAILED): State.FAILURE,
    (State.PROPOSED, Event.ABORT): State.FAILURE,
    (State.METHOD, Event.RESPONSE): State.METHOD,
    (State.METHOD, Event.METHOD_OK): State.SUCCESS,
    (State.METHOD, Event.METHOD_FAILED): State.FAILURE,
    (State.METHOD, Event.ABORT): State.FAILURE,
}

FINAL = frozenset({State.SUCCESS, State.FAILURE})
# Plain ints for the per-packet checks: reading an Enum member off its class costs ~0.1 us in CPython
# 3.11, and _dispatch made a dozen such reads per round.
_RESPONSE, _IDENTITY, _NAK, _EXPANDED = int(EapCode.RESPONSE), int(EapType.IDENTITY), int(EapType.NAK), \
    int(EapType.EXPANDED)
_S_IDENTITY, _S_PROPOSED = State.IDENTITY, State.PROPOSED
TLS_METHODS = frozenset({EapType.TLS, EapType.TTLS, EapType.PEAP})


class ProtocolError(Exception):
    """A packet that does not fit the current state; the session discards it."""


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """Methods in preference order (first is proposed first), their shared config, and time limits."""

    methods: tuple[int, ...]
    method_config: base.MethodConfig
    retransmit_interval: float = 3.0
    max_retransmits: int = 4
    lifetime: float = 120.0
    max_rounds: int = 400  # bounds a conversation: 64 KiB in 200-octet fragments is ~330 rounds

    def __post_init__(self) -> None:
        known = base.registered()
        for eap_type in self.methods:
            if eap_type not in known:
                raise ValueError(f"no EAP method is registered for type {eap_type}")
            if eap_type in TLS_METHODS and self.method_config.tls is None:
                raise ValueError(f"EAP type {eap_type} needs a TLS server configuration")


@dataclass(frozen=True, slots=True)
class SessionOutcome:
    """The end of a conversation: what the RADIUS front needs for Accept or Reject."""

    success: bool
    verdict: Verdict
    reject_reason: int
    identity: str
    method: int | None
    msk: bytes = b""
    emsk: bytes = b""
    inner_identity: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """What to send after an input: an EAP packet (or None to stay silent) and the outcome when final;
    or, with ``reply`` None, the credential question to answer before :meth:`EapSession.resume`."""

    reply: bytes | None
    state: State
    outcome: SessionOutcome | None = None
    query: CredentialQuery | None = None


class EapSession:
    """One conversation. Use ``start`` (send Identity yourself) or feed the peer's Identity first."""

    def __init__(self, config: SessionConfig, now: float, *, link_mtu: int | None = None) -> None:
        self.config = config
        self.link_mtu = link_mtu  # the NAS's Framed-MTU: bounds the TLS methods' fragments
        self.state = State.IDENTITY
        self.identity = ""
        self.created = now
        self.method: base.EapMethod | None = None
        self.outcome: SessionOutcome | None = None
        self._tried: list[int] = []
        self._last_id: int | None = None
        self._last_request: bytes | None = None
        self._sent_at = now
        self._retransmits = 0
        self._rounds = 0

    # -- public verbs -------------------------------------------------------------------------------

    def start(self, now: float) -> bytes:
        """The EAP-Request/Identity that opens a conversation (an authenticator with no NAS in between)."""
        return self._send(eap_request(os.urandom(1)[0], EapType.IDENTITY), now)

    def start_step(self, now: float) -> Step:
        """``start`` as a :class:`Step`, for adapters that treat every input alike."""
        return Step(self.start(now), self.state)

    def receive(self, raw: bytes, now: float) -> Step:
        """Feed one EAP packet from the peer. Malformed or out-of-place packets are discarded."""
        if self.state in FINAL:
            return Step(None, self.state, self.outcome)
        try:
            pkt = EapPacket.from_bytes(raw)
            return self._dispatch(pkt, now)
        except ProtocolError:
            return Step(None, self.state)
        except MalformedEap as exc:
            return self._end(
                False, Verdict.BAD_CREDENTIALS, f"malformed: {exc.reason}", now, REJECT_MALFORMED
            )

    def timer(self) -> float | None:
        """When ``handle_timer`` wants to run next (None when nothing is outstanding)."""
        if self.state in FINAL or self._last_request is None:
            return None
        return self._sent_at + self.config.retransmit_interval

    def handle_timer(self, now: float) -> Step:
        """Retransmit the last request, or give up after ``max_retransmits``."""
        deadline = self.timer()
        if deadline is None or now < deadline:
            return Step(None, self.state)
        if self._retransmits >= self.config.max_retransmits:
            return self._end(False, Verdict.BAD_CREDENTIALS, "peer stopped answering", now, REJECT_TIMEOUT)
        self._retransmits += 1
        self._sent_at = now
        return Step(self._last_request, self.state)

    def resume(self, answer: CredentialAnswer, now: float) -> Step:
        """Go on with the answer to the last step's ``query``; the step that follows (maybe another query)."""
        method = self.method
        if method is None or method.pending is None or self.state in FINAL:
            raise ProtocolError("no credential question is pending")
        method.now = now
        try:
            method.resume(answer)
            return self._after_method(now)
        except MalformedEap as exc:
            return self._end(
                False, Verdict.BAD_CREDENTIALS, f"malformed: {exc.reason}", now, REJECT_MALFORMED
            )

    @property
    def pending(self) -> CredentialQuery | None:
        """The credential question the conversation waits on, if any."""
        return None if self.method is None else self.method.pending

    def expired(self, now: float) -> bool:
        return now - self.created > self.config.lifetime

    @property
    def rounds(self) -> int:
        """Requests answered so far in this conversation (for the round-trip metric)."""
        return self._rounds

    # -- internals ------------------------------------------------------------------------------------

    def _event(self, event: Event) -> None:
        nxt = TRANSITIONS.get((self.state, event))
        if nxt is None:
            raise ProtocolError(f"{event.value} not allowed in {self.state.value}")
        self.state = nxt

    def _dispatch(self, pkt: EapPacket, now: float) -> Step:
        if pkt.code != _RESPONSE:
            raise ProtocolError("only EAP-Responses go to a server")
        if self.method is not None and self.method.pending is not None:
            raise ProtocolError("a credential check is pending")
        if self._last_id is not None and pkt.identifier != self._last_id:
            raise ProtocolError("identifier does not match the outstanding request")
        self._rounds += 1
        if self._rounds > self.config.max_rounds:
            return self._end(False, Verdict.BAD_CREDENTIALS, "too many rounds", now, REJECT_MALFORMED)
        self._last_id = pkt.identifier
        state = self.state
        if pkt.type == _IDENTITY and state is _S_IDENTITY:
            return self._on_identity(pkt, now)
        if state is _S_PROPOSED and pkt.type == _NAK:
            return self._on_nak(nak_types(pkt.data), now)
        if state is _S_PROPOSED and pkt.type == _EXPANDED:
            vendor, vendor_type, rest = expanded(pkt.data)
            if (vendor, vendor_type) == (0, _NAK):
                return self._on_nak(expanded_nak_types(rest), now)
        if self.method is None or pkt.type != self.method.eap_type:
            raise ProtocolError(f"unexpected response type {pkt.type}")
        if state is _S_PROPOSED:
            self._event(Event.RESPONSE)
        self.method.now = now
        self.method.process_response(pkt.data)
        return self._after_method(now)

    def _on_identity(self, pkt: EapPacket, now: float) -> Step:
        self.identity = identity_text(pkt.data)
        if not self.config.methods:
            self._event(Event.NO_METHOD)
            return self._end(False, Verdict.METHOD_NOT_ALLOWED, "no methods configured", now)
        self._event(Event.IDENTITY)
        return self._propose(self.config.methods[0], now)

    def _on_nak(self, wanted: tuple[int, ...], now: float) -> Step:
        for eap_type in self.config.methods:
            if eap_type in wanted and eap_type not in self._tried:
                self._event(Event.NAK)
                return self._propose(eap_type, now)
        self._event(Event.NO_METHOD)
        return self._end(False, Verdict.METHOD_NOT_ALLOWED, f"peer wants only {list(wanted)}", now)

    def _propose(self, eap_type: int, now: float) -> Step:
        self._tried.append(eap_type)
        self.method = base.create(eap_type, self.config.method_config)
        self.method.init(self.identity, self.link_mtu)
        return self._after_method(now)

    def _after_method(self, now: float) -> Step:
        method = self.method
        assert method is not None
        if method.pending is not None:
            return Step(None, self.state, query=method.pending)
        if not method.is_done():
            data = method.build_request()
            return Step(self._send(eap_request(self._next_id(), method.eap_type, data), now), self.state)
        result = method.outcome()
        self._event(Event.METHOD_OK if result.success else Event.METHOD_FAILED)
        return self._end(result.success, result.verdict, result.reason, now, result=result)

    def _end(
        self,
        ok: bool,
        verdict: Verdict,
        reason: str,
        now: float,
        reject_reason: int | None = None,
        result: base.MethodOutcome | None = None,
    ) -> Step:
        if self.state not in FINAL:
            self._event(Event.ABORT)
        self.outcome = SessionOutcome(
            success=ok,
            verdict=verdict,
            reject_reason=0 if ok else (reject_reason or verdict.reject_reason or RejectReason.GENERIC_AAA_FAILURE),
            identity=self.identity,
            method=self.method.eap_type if self.method else None,
            msk=result.msk if result else b"",
            emsk=result.emsk if result else b"",
            inner_identity=result.inner_identity if result else None,
            reason=reason,
        )
        ident = self._last_id if self._last_id is not None else 0
        final = eap_success(ident) if ok else eap_failure(ident)
        self._last_request = None
        return Step(final.to_bytes(), self.state, self.outcome)

    def _next_id(self) -> int:
        return 0 if self._last_id is None else (self._last_id + 1) & 0xFF

    def _send(self, pkt: EapPacket, now: float) -> bytes:
        raw = pkt.to_bytes()
        self._last_id = pkt.identifier
        self._last_request = raw
        self._sent_at = now
        self._retransmits = 0
        return raw
