"""RADIUS in, EAP sessions inside (RFC 3579): the IdP's sans-IO EAP handler.

:class:`EapRadiusHandler` turns one Access-Request into one reply (Access-Challenge, -Accept or
-Reject) or None (drop). Sessions are keyed by the State attribute; a retransmitted request (same
identifier and authenticator) gets the same reply again without touching the session
(:class:`~tsunagaru.net.replay.ReplyCache`, the one the ANP uses too). An empty EAP-Message without
State is EAP-Start (RFC 3579 2.1): the answer is EAP-Request/Identity.

Threads: the IdP runs steps that may read the user store or hash a password in worker threads. The
handler's maps are guarded by a lock held only for dictionary operations, never across a step; a
session is stepped by one thread at a time (a second request for a busy session is dropped, the NAS
retransmits). It keeps no outcomes: ``on_outcome`` (metrics, logs, tests) is told of each one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from tsunagaru import logs
from tsunagaru.eap.session import EapSession, SessionConfig, SessionOutcome
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
from tsunagaru.radius.packet import EAP_MESSAGE, STATE, USER_NAME, split_value
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


class EapRadiusHandler:
    """Access-Request -> reply, with one :class:`EapSession` per conversation (keyed by State)."""

    def __init__(self, config: FrontConfig) -> None:
        self.config = config
        self.sessions: dict[bytes, EapSession] = {}
        self._replies: ReplyCache[tuple[int, bytes], Packet] = ReplyCache(config.replay_lifetime,
                                                                          config.replay_cache)
        self._busy: set[bytes] = set()  # sessions being stepped now (maybe in a worker thread)
        self._lock = threading.Lock()  # guards the three maps above; held for dict operations only

    def handle(self, request: Packet, now: float, *, secret: bytes | None = None) -> Packet | None:
        """The signed reply to ``request``, or None when it must be dropped (bad authenticator, ...)."""
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
        with self._lock:
            seen = self._replies.begin(key, now)
        if seen is not None:
            return seen.reply  # None while the first copy is still being answered: dropped
        reply: Packet | None = None
        try:
            reply = self._answer(request, now, secret)
            if reply is not None:
                reply = sign_reply(reply, request.authenticator, secret)
        finally:
            with self._lock:
                if reply is None:
                    self._replies.forget(key)
                else:
                    self._replies.answered(key, reply, now)
        return reply

    def may_block(self, request: Packet) -> bool:
        """Whether answering ``request`` may read the user store or hash a password: run it off the loop."""
        state = request.get(STATE)
        if state is None:
            return False
        with self._lock:
            session = self.sessions.get(state)
        return session is not None and session.may_block()

    def abandon(self, request: Packet) -> None:
        """Forget the session ``request`` belongs to (it was answered with a reject from outside)."""
        state = request.get(STATE)
        if state is not None:
            with self._lock:
                if state not in self._busy:
                    self.sessions.pop(state, None)

    def expire(self, now: float) -> int:
        """Forget sessions past their lifetime; returns how many went."""
        with self._lock:
            return self._expire(now)

    @property
    def in_progress(self) -> int:
        return len(self.sessions)

    # -- internals ------------------------------------------------------------------------------------

    def _expire(self, now: float) -> int:
        old = [k for k, s in self.sessions.items() if s.expired(now) and k not in self._busy]
        for k in old:
            del self.sessions[k]
        return len(old)

    def _answer(self, request: Packet, now: float, secret: bytes) -> Packet | None:
        eap = eap_message(request)
        if eap is None:
            return self._reject(request, None, "not an EAP request", RejectReason.BAD_REQUEST)
        state = request.get(STATE)
        with self._lock:
            session = self._session(state, now)
            if session is not None and state is not None:
                if state in self._busy:
                    return None
                self._busy.add(state)
        if session is None:
            if state:
                return self._reject(request, None, "unknown or expired State", RejectReason.PROTOCOL_TIMEOUT)
            return self._reject(request, None, "too many EAP sessions", RejectReason.BACKEND_FAILURE)
        try:
            step = session.start_step(now) if not eap and state is None else session.receive(eap, now)
        except Exception:  # the user store (a database) failed: one boundary, one answer
            log.exception("EAP session failed")
            with self._lock:
                self.sessions.pop(state or b"", None)
            return self._reject(request, None, "backend failure", RejectReason.BACKEND_FAILURE)
        finally:
            if state is not None:
                with self._lock:
                    self._busy.discard(state)
        if step.reply is None:
            return None
        state = state or make_state(self.config.node_id)
        if step.outcome is None:
            with self._lock:
                self.sessions[state] = session
            return Packet(_ACCESS_CHALLENGE, request.identifier,
                          attributes=((STATE, state), *split_value(EAP_MESSAGE, step.reply)))
        with self._lock:
            self.sessions.pop(state, None)
        if self.config.on_outcome is not None:
            self.config.on_outcome(Finished(step.outcome, session.rounds, max(0.0, now - session.created)))
        if step.outcome.success:
            return self._accept(request, step.reply, step.outcome, secret)
        # The method's reason may name the inner identity: never in a reply the visited network reads
        # (an anonymous outer identity would be pointless otherwise); the verdict says enough.
        logs.event(log, "eap refused", method=step.outcome.method, verdict=step.outcome.verdict.value)
        return self._reject(request, step.reply, step.outcome.verdict.value, step.outcome.reject_reason)

    def _session(self, state: bytes | None, now: float) -> EapSession | None:
        """The session ``state`` names, or a new one (None: unknown State, or full). Lock held."""
        if state is not None:
            found = self.sessions.get(state)
            if found is None or (found.expired(now) and state not in self._busy):
                self.sessions.pop(state, None)
                return None
            return found
        if len(self.sessions) >= self.config.max_sessions and not self._expire(now):
            return None
        return EapSession(self.config.session, now)

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
