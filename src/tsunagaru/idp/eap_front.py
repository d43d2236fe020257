"""RADIUS in, EAP sessions inside (RFC 3579): a sans-IO handler and a thin asyncio UDP adapter.

:class:`EapRadiusHandler` turns one Access-Request into one reply (Access-Challenge, -Accept or
-Reject) or None (drop). Sessions are keyed by the State attribute; a retransmitted request (same
identifier and authenticator) gets the same reply again without touching the session. An empty
EAP-Message without State is EAP-Start (RFC 3579 2.1): the answer is EAP-Request/Identity. The IdP's
RadSec listener reuses the handler unchanged; :func:`serve_udp` is only for local tests and the demo.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from tsunagaru import logs
from tsunagaru.eap.session import EapSession, SessionConfig, SessionOutcome
from tsunagaru.radius import (
    Code,
    MalformedPacket,
    Packet,
    RadiusError,
    default_dictionary,
    eap_message,
    sign_reply,
    verify_request,
    with_eap_message,
)
from tsunagaru.radius.attributes import vsa
from tsunagaru.radius.hiding import salt_encrypt
from tsunagaru.radius.packet import EAP_MESSAGE, REPLY_MESSAGE, STATE, USER_NAME, split_value

log = logging.getLogger(__name__)
REJECT_BACKEND = 21
MICROSOFT, MS_MPPE_SEND_KEY, MS_MPPE_RECV_KEY = 311, 16, 17  # dictionary.microsoft
REJECT_TIMEOUT = 22
REJECT_BAD_REQUEST = 30
_ACCESS_REQUEST, _ACCESS_CHALLENGE = int(Code.ACCESS_REQUEST), int(Code.ACCESS_CHALLENGE)  # per packet: plain ints


@dataclass(frozen=True, slots=True)
class FrontConfig:
    """The shared secret of the NAS (or ``radsec``), EAP settings and the caps that bound memory."""

    secret: bytes
    session: SessionConfig
    max_sessions: int = 10000
    replay_cache: int = 1024
    require_message_authenticator: bool = True
    #: Attributes the IdP adds to every Access-Accept (CUI, WBA-Identity-Provider, ...): a policy hook.
    accept_attributes: Callable[[Packet, SessionOutcome], list[tuple[int, bytes]]] | None = None


class EapRadiusHandler:
    """Access-Request -> reply, with one :class:`EapSession` per conversation (keyed by State)."""

    def __init__(self, config: FrontConfig) -> None:
        self.config = config
        self.sessions: dict[bytes, EapSession] = {}
        self._replies: OrderedDict[tuple[int, bytes], Packet] = OrderedDict()
        self.outcomes: list[SessionOutcome] = []  # the last few, for tests and logs
        # Sessions whose step is running now. The IdP may run a step that checks a password hash in a
        # worker thread; a retransmission for the same session meanwhile is dropped (the NAS sends it
        # again and then gets the cached reply) instead of entering the session twice.
        self._busy: set[bytes] = set()
        self._dict = default_dictionary()

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
        cached = self._replies.get(key)
        if cached is not None:
            return cached
        reply = self._answer(request, now, secret)
        if reply is not None:
            reply = sign_reply(reply, request.authenticator, secret)
            self._replies[key] = reply
            while len(self._replies) > self.config.replay_cache:
                self._replies.popitem(last=False)
        return reply

    def may_block(self, request: Packet) -> bool:
        """Whether answering ``request`` may wait on a slow credential check (phase 2 of TTLS)."""
        state = request.get(STATE)
        session = self.sessions.get(state) if state is not None else None
        return session is not None and session.may_block()

    def expire(self, now: float) -> int:
        """Forget sessions past their lifetime; returns how many went."""
        old = [k for k, s in self.sessions.items() if s.expired(now)]
        for k in old:
            del self.sessions[k]
        return len(old)

    # -- internals ------------------------------------------------------------------------------------

    def _answer(self, request: Packet, now: float, secret: bytes) -> Packet | None:
        eap = eap_message(request)
        if eap is None:
            return self._reject(request, None, "not an EAP request", REJECT_BAD_REQUEST)
        state = request.get(STATE)
        session = self._session(state, now)
        if session is None:
            reason = "unknown or expired State" if state else "too many EAP sessions"
            return self._reject(request, None, reason, REJECT_TIMEOUT if state else REJECT_BACKEND)
        if state is not None and state in self._busy:
            return None
        if state is not None:
            self._busy.add(state)
        try:
            step = session.start_step(now) if not eap and state is None else session.receive(eap, now)
        except Exception:  # the user store (a database) failed: one boundary, one answer
            log.exception("EAP session failed")
            self.sessions.pop(state or b"", None)
            return self._reject(request, None, "backend failure", REJECT_BACKEND)
        finally:
            if state is not None:
                self._busy.discard(state)
        if step.reply is None:
            return None
        state = state or os.urandom(16)
        if step.outcome is None:
            self.sessions[state] = session
            return Packet(_ACCESS_CHALLENGE, request.identifier,
                          attributes=((STATE, state), *split_value(EAP_MESSAGE, step.reply)))
        self.sessions.pop(state, None)
        self._remember(step.outcome)
        if step.outcome.success:
            return self._accept(request, step.reply, step.outcome, secret)
        # The method's reason may name the inner identity: never in a reply the visited network reads
        # (an anonymous outer identity would be pointless otherwise); the verdict says enough.
        logs.event(log, "eap refused", method=step.outcome.method, verdict=step.outcome.verdict.value)
        return self._reject(request, step.reply, step.outcome.verdict.value, step.outcome.reject_reason)

    def _session(self, state: bytes | None, now: float) -> EapSession | None:
        if state is not None:
            found = self.sessions.get(state)
            if found is None or found.expired(now):
                self.sessions.pop(state, None)
                return None
            return found
        if len(self.sessions) >= self.config.max_sessions and not self.expire(now):
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

    def _reject(self, request: Packet, eap: bytes | None, text: str, reason: int) -> Packet:
        message = f"{text}\x00Reject-Reason={reason}".encode()[:253]
        reject = Packet(Code.ACCESS_REJECT, request.identifier, attributes=((REPLY_MESSAGE, message),))
        if eap is None:
            eap = bytes((4, 0, 0, 4))  # EAP-Failure; the NAS passes it on whatever the identifier
        return with_eap_message(reject, eap)

    def _remember(self, outcome: SessionOutcome) -> None:
        self.outcomes.append(outcome)
        del self.outcomes[:-64]


class _UdpFront(asyncio.DatagramProtocol):
    def __init__(self, handler: EapRadiusHandler) -> None:
        self.handler = handler
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        try:
            request = Packet.from_bytes(data)
        except MalformedPacket:
            return
        reply = self.handler.handle(request, asyncio.get_running_loop().time())
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply.to_bytes(), addr)


async def serve_udp(handler: EapRadiusHandler, host: str, port: int) -> asyncio.DatagramTransport:
    """Bind a UDP socket that feeds ``handler``; close the returned transport to stop."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _UdpFront(handler), local_addr=(host, port))
    return transport
