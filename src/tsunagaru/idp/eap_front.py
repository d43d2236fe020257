"""RADIUS in, EAP sessions inside (RFC 3579): the IdP's sans-IO EAP handler.

:class:`EapRadiusHandler` turns one Access-Request into one reply (Access-Challenge, -Accept or
-Reject) or None (drop). Sessions are keyed by the State attribute; a retransmitted request (same
identifier and authenticator) gets the same reply again without touching the session
(:class:`~tsunagaru.net.replay.ReplyCache`, the one the ANP uses too). An empty EAP-Message without
State is EAP-Start (RFC 3579 2.1): the answer is EAP-Request/Identity.

Credentials: :meth:`EapRadiusHandler.begin` returns an :class:`EapPending` when the conversation waits
for a credential check (its ``query``); the adapter answers it (from its cache at once, or from a worker
thread that reads the store or hashes) and calls :meth:`EapRadiusHandler.resume`. Everything here runs
on one thread (the event loop): no lock. A request for a session that is waiting is dropped (the NAS
retransmits). :meth:`EapRadiusHandler.handle` answers questions on the calling thread, for synchronous
drivers (tests, fuzzing, the in-process bench). It keeps no outcomes: ``on_outcome`` (metrics, logs,
tests) is told of each one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from tsunagaru import logs
from tsunagaru.eap.credentials import CredentialAnswer, CredentialQuery, answer_now
from tsunagaru.eap.session import EapSession, SessionConfig, SessionOutcome, Step
from tsunagaru.net.replay import ReplyCache
from tsunagaru.radius import (
    Code,
    MalformedPacket,
    Packet,
    RadiusError,
    eap_message,
    sign_reply,
    verify_request,
    with_eap_message,
)
from tsunagaru.radius.attributes import vsa
from tsunagaru.radius.hiding import salt_encrypt
from tsunagaru.radius.node_state import make_state
from tsunagaru.radius.packet import EAP_MESSAGE, FRAMED_MTU, STATE, USER_NAME, split_value
from tsunagaru.radius.reasons import RejectReason, access_reject

log = logging.getLogger(__name__)
MICROSOFT, MS_MPPE_SEND_KEY, MS_MPPE_RECV_KEY = 311, 16, 17  # dictionary.microsoft
EAP_FAILURE = bytes((4, 0, 0, 4))  # when the request holds no EAP Response to take the Identifier from
_ACCESS_REQUEST, _ACCESS_CHALLENGE = int(Code.ACCESS_REQUEST), int(Code.ACCESS_CHALLENGE)  # per packet: plain ints


@dataclass(frozen=True, slots=True)
class Finished:
    """A conversation's end as the handler saw it: the outcome, its rounds and how long it took."""

    outcome: SessionOutcome
    rounds: int
    seconds: float


@dataclass(frozen=True, slots=True)
class EapPending:
    """A conversation waiting for the answer to ``query``; hand it back to :meth:`EapRadiusHandler.resume`."""

    query: CredentialQuery
    request: Packet
    secret: bytes
    key: tuple[int, bytes]  # the request's identifier and authenticator (its replay-cache entry)
    state: bytes | None
    session: EapSession


@dataclass(frozen=True, slots=True)
class FrontConfig:
    """The shared secret of the NAS (or ``radsec``), EAP settings and the caps that bound memory."""

    secret: bytes
    session: SessionConfig
    max_sessions: int = 10000
    replay_cache: int = 16384
    replay_lifetime: float = 30.0
    require_message_authenticator: bool = True
    #: Attributes the IdP adds to every Access-Accept (CUI, WBA-Identity-Provider, ...): a policy hook.
    accept_attributes: Callable[[Packet, SessionOutcome], list[tuple[int, bytes]]] | None = None
    #: Told of every finished conversation (metrics; tests); the handler itself keeps none.
    on_outcome: Callable[[Finished], None] | None = None
    #: This node's name, carried in the State of every challenge (:mod:`tsunagaru.radius.node_state`).
    node_id: str | None = None


def framed_mtu(request: Packet) -> int | None:
    """The NAS's Framed-MTU (RFC 2865 5.12; RFC 3580 3.10: the largest EAP frame of the link), if sent."""
    value = request.get(FRAMED_MTU)
    return int.from_bytes(value, "big") if value is not None and len(value) == 4 else None


class EapRadiusHandler:
    """Access-Request -> reply, with one :class:`EapSession` per conversation (keyed by State)."""

    def __init__(self, config: FrontConfig) -> None:
        self.config = config
        self.sessions: dict[bytes, EapSession] = {}
        self._replies: ReplyCache[tuple[int, bytes], Packet] = ReplyCache(config.replay_lifetime,
                                                                          config.replay_cache)
        self._busy: set[bytes] = set()  # sessions waiting for a credential answer

    def handle(self, request: Packet, now: float, *, secret: bytes | None = None) -> Packet | None:
        """The signed reply to ``request`` (None: drop it), credential questions answered on this thread
        from the session's store: may block, so servers use :meth:`begin` and :meth:`resume` instead."""
        result = self.begin(request, now, secret=secret)
        while isinstance(result, EapPending):
            try:
                answer = answer_now(self.config.session.method_config.store, result.query)
            except Exception:  # the user store (a database) failed: one boundary, one answer
                log.exception("credential check failed")
                return self.fail(result, now)
            result = self.resume(result, answer, now)
        return result

    def begin(self, request: Packet, now: float, *, secret: bytes | None = None) -> Packet | EapPending | None:
        """The signed reply to ``request``, None when it must be dropped (bad authenticator, ...), or the
        credential question the conversation waits on."""
        secret = self.config.secret if secret is None else secret
        if request.code != _ACCESS_REQUEST:
            return None
        try:
            verify_request(
                request, secret, require_message_authenticator=self.config.require_message_authenticator
            )
        except (RadiusError, MalformedPacket):
            return None
        key = (request.identifier, request.authenticator)
        seen = self._replies.begin(key, now)
        if seen is not None:
            return seen.reply  # None while the first copy is still being answered: dropped
        eap = eap_message(request)
        if eap is None:
            return self._finish(key, self._reject(request, None, "not an EAP request", RejectReason.BAD_REQUEST),
                                request, secret, now)
        state = request.get(STATE)
        session = self._session(state, request, now)
        if session is None:
            if state in self._busy:
                return self._finish(key, None, request, secret, now)
            if state:
                reply = self._reject(request, None, "unknown or expired State", RejectReason.PROTOCOL_TIMEOUT)
            else:
                reply = self._reject(request, None, "too many EAP sessions", RejectReason.BACKEND_FAILURE)
            return self._finish(key, reply, request, secret, now)
        try:
            step = session.start_step(now) if not eap and state is None else session.receive(eap, now)
        except Exception:  # one boundary, one answer: a method must never take the server down
            log.exception("EAP session failed")
            return self._failed(key, request, secret, state, now)
        return self._step(step, key, request, secret, state, session, now)

    def resume(self, pending: EapPending, answer: CredentialAnswer, now: float) -> Packet | EapPending | None:
        """Go on with the answer to ``pending.query``: the reply, or the next question."""
        self._busy.discard(pending.state or b"")
        try:
            step = pending.session.resume(answer, now)
        except Exception:
            log.exception("EAP session failed after a credential answer")
            return self._failed(pending.key, pending.request, pending.secret, pending.state, now)
        return self._step(step, pending.key, pending.request, pending.secret, pending.state, pending.session, now)

    def fail(self, pending: EapPending, now: float) -> Packet:
        """End a waiting conversation when its question cannot be answered (the store failed, the worker
        queue is full): Access-Reject with Reject-Reason 21."""
        self._busy.discard(pending.state or b"")
        reply = self._failed(pending.key, pending.request, pending.secret, pending.state, now)
        assert reply is not None
        return reply

    def expire(self, now: float) -> int:
        """Forget sessions past their lifetime; returns how many went."""
        old = [k for k, s in self.sessions.items() if s.expired(now) and k not in self._busy]
        for k in old:
            del self.sessions[k]
        return len(old)

    @property
    def in_progress(self) -> int:
        return len(self.sessions)

    # -- internals ------------------------------------------------------------------------------------

    def _session(self, state: bytes | None, request: Packet, now: float) -> EapSession | None:
        """The session ``state`` names, or a new one (None: unknown State, busy, or full) bounded by the
        request's Framed-MTU."""
        if state is not None:
            if state in self._busy:
                return None
            found = self.sessions.get(state)
            if found is None or found.expired(now):
                self.sessions.pop(state, None)
                return None
            return found
        if len(self.sessions) >= self.config.max_sessions and not self.expire(now):
            return None
        return EapSession(self.config.session, now, link_mtu=framed_mtu(request))

    def _step(self, step: Step, key: tuple[int, bytes], request: Packet, secret: bytes, state: bytes | None,
              session: EapSession, now: float) -> Packet | EapPending | None:
        if step.query is not None:
            if state is not None:
                self._busy.add(state)
            return EapPending(step.query, request, secret, key, state, session)
        return self._finish(key, self._reply(step, request, secret, state, session, now), request, secret, now)

    def _failed(self, key: tuple[int, bytes], request: Packet, secret: bytes, state: bytes | None,
                now: float) -> Packet | None:
        self.sessions.pop(state or b"", None)
        reply = self._reject(request, None, "backend failure", RejectReason.BACKEND_FAILURE)
        return self._finish(key, reply, request, secret, now)

    def _finish(self, key: tuple[int, bytes], reply: Packet | None, request: Packet, secret: bytes,
                now: float) -> Packet | None:
        """Sign ``reply`` and remember it for retransmissions (None: forget the request, it was dropped)."""
        if reply is None:
            self._replies.forget(key)
            return None
        signed = sign_reply(reply, request.authenticator, secret)
        self._replies.answered(key, signed, now)
        return signed

    def _reply(self, step: Step, request: Packet, secret: bytes, state: bytes | None, session: EapSession,
               now: float) -> Packet | None:
        if step.reply is None:
            return None
        if step.outcome is None:
            state = state or make_state(self.config.node_id)  # the one place a State is made
            self.sessions[state] = session
            return Packet(_ACCESS_CHALLENGE, request.identifier,
                          attributes=((STATE, state), *split_value(EAP_MESSAGE, step.reply)))
        self.sessions.pop(state or b"", None)
        if self.config.on_outcome is not None:
            self.config.on_outcome(Finished(step.outcome, session.rounds, max(0.0, now - session.created)))
        if step.outcome.success:
            return self._accept(request, step.reply, step.outcome, secret)
        # The method's reason may name the inner identity: never in a reply the visited network reads
        # (an anonymous outer identity would be pointless otherwise); the verdict says enough.
        logs.event(log, "eap refused", method=step.outcome.method, verdict=step.outcome.verdict.value)
        return self._reject(request, step.reply, step.outcome.verdict.value, step.outcome.reject_reason)

    def _accept(self, request: Packet, eap: bytes, outcome: SessionOutcome, secret: bytes) -> Packet:
        # RFC 2548 2.4.2/2.4.3: MPPE-Recv-Key = MSK[0:32], MPPE-Send-Key = MSK[32:64], salt-encrypted
        attrs = [vsa(MICROSOFT, MS_MPPE_RECV_KEY, salt_encrypt(outcome.msk[:32], secret, request.authenticator))]
        if outcome.msk[32:64]:
            attrs.append(vsa(MICROSOFT, MS_MPPE_SEND_KEY, salt_encrypt(outcome.msk[32:64], secret,
                                                                       request.authenticator)))
        name = request.get(USER_NAME)
        if name is not None:
            attrs.append((USER_NAME, name))
        if self.config.accept_attributes is not None:
            attrs += self.config.accept_attributes(request, outcome)
        accept = Packet(Code.ACCESS_ACCEPT, request.identifier, attributes=tuple(attrs))
        return with_eap_message(accept, eap)

    @staticmethod
    def _reject(request: Packet, eap: bytes | None, text: str, reason: int) -> Packet:
        # RFC 3748 4.2: a Failure carries the Identifier of the Response it answers, else the peer discards it
        # and waits for a timeout instead of restarting (an unknown State: say, a conversation of a node now gone)
        if eap is None:
            response = eap_message(request)
            eap = bytes((4, response[1], 0, 4)) if response is not None and len(response) >= 2 else EAP_FAILURE
        return access_reject(request, reason, text, eap)
