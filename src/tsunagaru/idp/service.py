"""The IdP's decisions: a request, the secret of its hop and the time in; what to do out (sans-IO).

:meth:`IdpCore.decide` never touches a socket, the database or a clock. It returns an action:
:class:`Reply` (send this, or drop on None), :class:`CheckPassword` (hash this PAP password against the
store, then call :meth:`IdpCore.pap_result`), :class:`EapStep` (run this EAP step, which may read the
user store or hash a password, off the event loop) or :class:`StoreAccounting` (store this record, then
send this reply). The adapter (:class:`~tsunagaru.idp.server.IdpServer`) does the I/O in bounded worker
queues. Inside an EAP step the methods ask a :class:`~tsunagaru.eap.credentials.CredentialStore`
directly; that step as a whole is what runs in a worker.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

from tsunagaru import logs
from tsunagaru.eap import EapType, MethodConfig, SessionConfig, SessionOutcome, TlsServerConfig, Verdict
from tsunagaru.eap.credentials import CredentialStore
from tsunagaru.idp.eap_front import EapRadiusHandler, Finished, FrontConfig
from tsunagaru.idp.reply_policy import AcceptPolicy, accept_attributes
from tsunagaru.idp.settings import IdpSettings
from tsunagaru.idp.users import split_identity
from tsunagaru.logs import redact
from tsunagaru.radius import (
    AuthenticatorMismatch,
    Code,
    MalformedPacket,
    Packet,
    eap_message,
    sign_reply,
    verify_request,
)
from tsunagaru.radius.accounting import record_key
from tsunagaru.radius.hiding import reveal_user_password
from tsunagaru.radius.packet import EAP_MESSAGE, OPERATOR_NAME, USER_NAME, USER_PASSWORD
from tsunagaru.radius.reasons import RejectReason, access_reject
from tsunagaru.store import IdpAccounting

log = logging.getLogger("tsunagaru.idp")
ACCT_SESSION_ID, ACCT_STATUS_TYPE = 44, 40


def eap_tls_config(settings: IdpSettings) -> TlsServerConfig:
    return TlsServerConfig(settings.eap_certificate, settings.eap_key, client_ca_file=settings.user_ca,
                           fragment_size=settings.fragment_size, tls13_tunnels=settings.tls13_tunnels,
                           allow_tls13=settings.eap_tls13)


def build_eap_handler(settings: IdpSettings, credentials: CredentialStore, secret: bytes,
                      on_outcome: Callable[[Finished], None] | None = None) -> EapRadiusHandler:
    tls = eap_tls_config(settings)
    session = SessionConfig(settings.methods, MethodConfig(credentials, tls))
    policy = AcceptPolicy(settings.cui_key, settings.wbaid, settings.session_timeout)

    def extra(request: Packet, outcome: SessionOutcome) -> list[tuple[int, bytes]]:
        return accept_attributes(policy, request, user_key(outcome))

    return EapRadiusHandler(FrontConfig(secret, session, max_sessions=settings.max_sessions,
                                        accept_attributes=extra, on_outcome=on_outcome,
                                        node_id=settings.node_id))


def user_key(outcome: SessionOutcome) -> str:
    """The user a CUI names, however the method carried it: EAP-TLS gives the certificate's subject
    (``CN=alice@realm``), the tunnels the inner NAI; the CUI must be the same for both, so it is the
    store's key, ``local@realm`` (usernames are unique per realm, so the local part alone is not)."""
    identity = outcome.inner_identity or outcome.identity
    if outcome.method == EapType.TLS and outcome.inner_identity:
        identity = _common_name(identity)
    return cui_user(identity, outcome.identity)


def cui_user(identity: str, outer: str | None = None) -> str:
    """``local@realm`` for ``identity``; an inner name without a realm takes the outer identity's."""
    local, realm = split_identity(identity)
    if realm is None and outer:
        realm = split_identity(outer)[1]
    return f"{local}@{realm}" if realm else local


@functools.lru_cache(maxsize=4096)
def _foreign(name: bytes, realms: tuple[str, ...]) -> str | None:
    """The realm of ``name`` unless it is one of ``realms`` (cached: asked on every round of a conversation)."""
    realm = name.rsplit(b"@", 1)[1].decode("utf-8", "replace").lower().rstrip(".")
    return None if realm in realms else realm


@functools.lru_cache(maxsize=4096)
def _common_name(subject: str) -> str:
    """The CN of an RFC 4514 subject (cached: parsing costs more than the rest of the Accept)."""
    with contextlib.suppress(ValueError):
        names = x509.Name.from_rfc4514_string(subject).get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else subject
    return subject


@dataclass(frozen=True, slots=True)
class Reply:
    """Send ``packet`` (None: drop the request)."""

    packet: Packet | None


@dataclass(frozen=True, slots=True)
class CheckPassword:
    """Check ``password`` for ``user`` against the store (a slow hash), then :meth:`IdpCore.pap_result`."""

    request: Packet
    secret: bytes
    user: str
    password: bytes


@dataclass(frozen=True, slots=True)
class EapStep:
    """Run ``IdpCore.eap.handle(request, now, secret=secret)`` off the event loop: it may read the store."""

    request: Packet
    secret: bytes
    now: float


@dataclass(frozen=True, slots=True)
class StoreAccounting:
    """Store ``row`` (once per event: a duplicate key is a retransmission), then send ``reply``."""

    row: IdpAccounting
    reply: Packet


Action = Reply | CheckPassword | EapStep | StoreAccounting


@dataclass
class IdpCore:
    """Requests from any hop; ``secret`` says which hop (``radsec`` or a NAS's own)."""

    settings: IdpSettings
    eap: EapRadiusHandler
    policy: AcceptPolicy = field(init=False)

    def __post_init__(self) -> None:
        self.policy = AcceptPolicy(self.settings.cui_key, self.settings.wbaid, self.settings.session_timeout)

    def decide(self, request: Packet, secret: bytes, now: float, wall: datetime) -> Action:
        """What to do with ``request``; ``now`` is monotonic seconds, ``wall`` the aware UTC time."""
        if request.code == Code.ACCESS_REQUEST:
            foreign = self._foreign_realm(request)
            if foreign is not None:
                if not self._verified(request, secret, True):
                    return Reply(None)
                logs.event(log, "realm not served", realm=foreign[:64])
                return Reply(self._reject(request, secret, RejectReason.INVALID_IDENTITY,
                                          f"realm {foreign[:64]} is not served by this identity provider"))
            if request.has(EAP_MESSAGE):
                if self.eap.may_block(request):
                    return EapStep(request, secret, now)
                return Reply(self.eap.handle(request, now, secret=secret))
            return self._pap(request, secret)
        if request.code == Code.STATUS_SERVER:
            if not self._verified(request, secret, True):
                return Reply(None)
            return Reply(sign_reply(Packet(Code.ACCESS_ACCEPT, request.identifier), request.authenticator, secret))
        if request.code == Code.ACCOUNTING_REQUEST:
            return self._accounting(request, secret, wall)
        return Reply(None)

    def pap_result(self, request: Packet, secret: bytes, user: str, verdict: Verdict) -> Packet:
        """The reply to a PAP request once its password was checked."""
        logs.event(log, "pap", user=redact(user), verdict=verdict.value)
        if verdict is not Verdict.OK:
            return self._reject(request, secret, RejectReason(verdict.reject_reason), "authentication failed")
        accept = Packet(Code.ACCESS_ACCEPT, request.identifier,
                        attributes=tuple(accept_attributes(self.policy, request, cui_user(user))))
        return sign_reply(accept, request.authenticator, secret)

    def overloaded(self, request: Packet, secret: bytes) -> Packet:
        """The answer when a worker queue is full: Access-Reject, Reject-Reason 21 (ends an EAP conversation
        with EAP-Failure). Answering beats dropping: a dropped request comes back as a retransmission
        into the same full queue, and the device waits out the NAS's timeouts for nothing."""
        return self._reject(request, secret, RejectReason.BACKEND_FAILURE, "the identity provider is busy")

    def _foreign_realm(self, request: Packet) -> str | None:
        """The outer identity's realm when this IdP does not serve it (names without a realm are local)."""
        name = request.get(USER_NAME)
        if not self.settings.realms or name is None or b"@" not in name:
            return None
        return _foreign(name, self.settings.realms)

    def _verified(self, request: Packet, secret: bytes, require_ma: bool) -> bool:
        try:
            verify_request(request, secret, require_message_authenticator=require_ma)
        except (AuthenticatorMismatch, MalformedPacket) as exc:
            logs.event(log, "request dropped", logging.WARNING, why=str(exc))
            return False
        return True

    def _pap(self, request: Packet, secret: bytes) -> Action:
        if not self._verified(request, secret, True):
            return Reply(None)
        name, hidden = request.get(USER_NAME), request.get(USER_PASSWORD)
        if name is None or hidden is None:
            return Reply(self._reject(request, secret, RejectReason.BAD_REQUEST, "no User-Name or User-Password"))
        try:
            password = reveal_user_password(hidden, secret, request.authenticator)
        except MalformedPacket:
            return Reply(self._reject(request, secret, RejectReason.BAD_REQUEST, "malformed User-Password"))
        return CheckPassword(request, secret, name.decode("utf-8", "replace"), password)

    def _reject(self, request: Packet, secret: bytes, reason: RejectReason, text: str) -> Packet:
        eap = eap_message(request)
        # RFC 3579 2.6.3: an EAP conversation ends with EAP-Failure
        failure = bytes((4, eap[1], 0, 4)) if eap is not None and len(eap) >= 2 else None
        return sign_reply(access_reject(request, reason, text, failure), request.authenticator, secret)

    def _accounting(self, request: Packet, secret: bytes, wall: datetime) -> Action:
        if not self._verified(request, secret, False):
            return Reply(None)
        status = request.get(ACCT_STATUS_TYPE)
        row = IdpAccounting(
            session_id=(request.get(ACCT_SESSION_ID) or b"").decode("utf-8", "replace")[:253],
            status_type=int.from_bytes(status, "big") if status and len(status) == 4 else 0,
            user_hash=redact(request.get(USER_NAME)),
            operator=(request.get(OPERATOR_NAME) or b"").decode("utf-8", "replace")[:253] or None,
            raw=request.to_bytes(), received_at=wall, record_key=record_key(request),
        )
        reply = Packet(Code.ACCOUNTING_RESPONSE, request.identifier)
        return StoreAccounting(row, sign_reply(reply, request.authenticator, secret, add_message_authenticator=False))
