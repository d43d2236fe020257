"""The IdP service: RADIUS in (RadSec from federation peers, UDP from local NASes), answers out.

:class:`IdpCore` is the sans-IO dispatcher (a request and the secret of its hop in, a reply out):
EAP conversations go to :class:`~tsunagaru.idp.eap_front.EapRadiusHandler`, plain PAP is checked
against the store, accounting is stored once per event, Status-Server is answered. The asyncio
adapter :class:`IdpServer` only listens and moves packets.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlalchemy.exc import IntegrityError

from tsunagaru import logs
from tsunagaru.anp.reasons import RejectReason, reply_message
from tsunagaru.eap import EapType, MethodConfig, SessionConfig, SessionOutcome, TlsServerConfig, Verdict
from tsunagaru.eap.credentials import CredentialStore
from tsunagaru.idp.eap_front import EapRadiusHandler, FrontConfig
from tsunagaru.idp.reply_policy import AcceptPolicy, accept_attributes
from tsunagaru.idp.store import SqlCredentialStore
from tsunagaru.idp.users import split_identity
from tsunagaru.logs import redact
from tsunagaru.net.datagram import DatagramSocket
from tsunagaru.radius import (
    AuthenticatorMismatch,
    Code,
    MalformedPacket,
    Packet,
    eap_message,
    sign_reply,
    split_value,
    verify_request,
)
from tsunagaru.radius.accounting import record_key
from tsunagaru.radius.hiding import reveal_user_password
from tsunagaru.radius.packet import EAP_MESSAGE, OPERATOR_NAME, REPLY_MESSAGE, USER_NAME, USER_PASSWORD
from tsunagaru.store import IdpAccounting, Store

log = logging.getLogger("tsunagaru.idp")
ACCT_SESSION_ID, ACCT_STATUS_TYPE = 44, 40
DEFAULT_METHODS = (EapType.TTLS, EapType.PEAP, EapType.TLS)


@dataclass(frozen=True, slots=True)
class IdpSettings:
    eap_certificate: Path
    eap_key: Path
    user_ca: Path | None  # trusted for EAP-TLS client certificates
    cui_key: bytes
    wbaid: str | None = None
    session_timeout: int = 86400
    methods: tuple[int, ...] = DEFAULT_METHODS
    fragment_size: int = 1024
    tls13_tunnels: bool = False
    max_sessions: int = 10000
    realms: tuple[str, ...] = ()  # lower case; empty: any realm (a lab IdP)
    eap_tls13: bool = True  # EAP-TLS may use TLS 1.3 (RFC 9190); off caps every method at TLS 1.2


def build_eap_handler(settings: IdpSettings, credentials: CredentialStore, secret: bytes) -> EapRadiusHandler:
    tls = TlsServerConfig(settings.eap_certificate, settings.eap_key, client_ca_file=settings.user_ca,
                          fragment_size=settings.fragment_size, tls13_tunnels=settings.tls13_tunnels,
                          allow_tls13=settings.eap_tls13)
    session = SessionConfig(settings.methods, MethodConfig(credentials, tls))
    policy = AcceptPolicy(settings.cui_key, settings.wbaid, settings.session_timeout)

    def extra(request: Packet, outcome: SessionOutcome) -> list[tuple[int, bytes]]:
        return accept_attributes(policy, request, user_key(outcome))

    return EapRadiusHandler(FrontConfig(secret, session, max_sessions=settings.max_sessions,
                                        accept_attributes=extra))


def user_key(outcome: SessionOutcome) -> str:
    """The user a CUI names, however the method carried it: EAP-TLS gives the certificate's subject
    (``CN=alice@realm``), the tunnels the inner NAI; the CUI must be the same for both, so it is the
    user's local name (the store's key; realms are checked by the store)."""
    identity = outcome.inner_identity or outcome.identity
    if outcome.method == EapType.TLS and outcome.inner_identity:
        identity = _common_name(identity)
    return split_identity(identity)[0]


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


@dataclass
class IdpCore:
    """Requests from any hop; ``secret`` says which hop (``radsec`` or a NAS's own)."""

    settings: IdpSettings
    credentials: CredentialStore
    store: Store
    eap: EapRadiusHandler
    policy: AcceptPolicy = field(init=False)

    def __post_init__(self) -> None:
        self.policy = AcceptPolicy(self.settings.cui_key, self.settings.wbaid, self.settings.session_timeout)
        self.lock = threading.Lock()
        self._holder = threading.local()  # whether this thread holds ``lock`` (Lock has no owner)
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="idp-slow")
        if isinstance(self.credentials, SqlCredentialStore):
            self.credentials.slow_section = self.unlocked

    async def answer(self, request: Packet, secret: bytes) -> Packet | None:
        """The adapters' entry: steps that may hash a password run in a worker thread, the rest here."""
        now = time.monotonic()
        if self.may_block(request):
            return await asyncio.get_running_loop().run_in_executor(
                self.pool, self.handle_locked, request, secret, now)
        return self.handle_locked(request, secret, now)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    # -- threads: the core is single-threaded; only a password hash runs with the lock released --------

    def may_block(self, request: Packet) -> bool:
        """Whether ``request`` may wait on a password hash (plain PAP, TTLS phase 2): run it off the loop."""
        if request.code != Code.ACCESS_REQUEST:
            return False
        if not request.has(EAP_MESSAGE):
            return request.has(USER_PASSWORD)
        return self.eap.may_block(request)

    def handle_locked(self, request: Packet, secret: bytes, now: float) -> Packet | None:
        with self.lock:
            self._holder.held = True
            try:
                return self.handle(request, secret, now)
            finally:
                self._holder.held = False

    @contextlib.contextmanager
    def unlocked(self) -> Iterator[None]:
        """Release the core's lock for the duration (only when this thread holds it)."""
        if not getattr(self._holder, "held", False):
            yield
            return
        self._holder.held = False
        self.lock.release()
        try:
            yield
        finally:
            self.lock.acquire()
            self._holder.held = True

    def handle(self, request: Packet, secret: bytes, now: float) -> Packet | None:
        if request.code == Code.ACCESS_REQUEST:
            foreign = self._foreign_realm(request)
            if foreign is not None:
                if not self._verified(request, secret, True):
                    return None
                logs.event(log, "realm not served", realm=foreign[:64])
                return self._reject(request, secret, RejectReason.INVALID_IDENTITY,
                                    f"realm {foreign[:64]} is not served by this identity provider")
            if request.has(EAP_MESSAGE):
                return self.eap.handle(request, now, secret=secret)
            return self._pap(request, secret)
        if request.code == Code.STATUS_SERVER:
            if not self._verified(request, secret, True):
                return None
            return sign_reply(Packet(Code.ACCESS_ACCEPT, request.identifier), request.authenticator, secret)
        if request.code == Code.ACCOUNTING_REQUEST:
            return self._accounting(request, secret)
        return None

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

    def _pap(self, request: Packet, secret: bytes) -> Packet | None:
        if not self._verified(request, secret, True):
            return None
        name, hidden = request.get(USER_NAME), request.get(USER_PASSWORD)
        if name is None or hidden is None:
            return self._reject(request, secret, RejectReason.BAD_REQUEST, "no User-Name or User-Password")
        try:
            password = reveal_user_password(hidden, secret, request.authenticator)
        except MalformedPacket:
            return self._reject(request, secret, RejectReason.BAD_REQUEST, "malformed User-Password")
        user = name.decode("utf-8", "replace")
        verdict = self.credentials.check_password(user, password)
        logs.event(log, "pap", user=redact(name), verdict=verdict.value)
        if verdict is not Verdict.OK:
            return self._reject(request, secret, RejectReason(verdict.reject_reason), "authentication failed")
        accept = Packet(Code.ACCESS_ACCEPT, request.identifier,
                        attributes=tuple(accept_attributes(self.policy, request, split_identity(user)[0])))
        return sign_reply(accept, request.authenticator, secret)

    def _reject(self, request: Packet, secret: bytes, reason: RejectReason, text: str) -> Packet:
        attrs: tuple[tuple[int, bytes], ...] = ((REPLY_MESSAGE, reply_message(reason, text)),)
        eap = eap_message(request)
        if eap is not None and len(eap) >= 2:  # RFC 3579 2.6.3: an EAP conversation ends with EAP-Failure
            attrs += tuple(split_value(EAP_MESSAGE, bytes((4, eap[1], 0, 4))))
        reject = Packet(Code.ACCESS_REJECT, request.identifier, attributes=attrs)
        return sign_reply(reject, request.authenticator, secret)

    def _accounting(self, request: Packet, secret: bytes) -> Packet | None:
        if not self._verified(request, secret, False):
            return None
        status = request.get(ACCT_STATUS_TYPE)
        row = IdpAccounting(
            session_id=(request.get(ACCT_SESSION_ID) or b"").decode("utf-8", "replace")[:253],
            status_type=int.from_bytes(status, "big") if status and len(status) == 4 else 0,
            user_hash=redact(request.get(USER_NAME)),
            operator=(request.get(OPERATOR_NAME) or b"").decode("utf-8", "replace")[:253] or None,
            raw=request.to_bytes(), received_at=datetime.now(UTC), record_key=record_key(request),
        )
        try:
            with self.store.session() as s:
                s.add(row)
        except IntegrityError:
            pass  # the same event again (a retransmission): stored once, acknowledged again
        reply = Packet(Code.ACCOUNTING_RESPONSE, request.identifier)
        return sign_reply(reply, request.authenticator, secret, add_message_authenticator=False)


class _UdpIdp:
    """RADIUS/UDP in, replies out: steps that may hash a password go to a worker, the rest run inline."""

    def __init__(self, core: IdpCore, secret: bytes, allowed: ipaddress.IPv4Network | ipaddress.IPv6Network):
        self.core, self.secret, self.allowed = core, secret, allowed
        self.socket: DatagramSocket | None = None
        self._verdicts: dict[str, bool] = {}  # source address -> allowed (parsing it per datagram is costly)
        self._tasks: set[asyncio.Future[None]] = set()

    def _allowed(self, host: str) -> bool:
        verdict = self._verdicts.get(host)
        if verdict is None:
            if len(self._verdicts) >= 4096:  # bounded: spoofed sources must not grow it
                self._verdicts.clear()
            verdict = self._verdicts[host] = ipaddress.ip_address(host) in self.allowed
        return verdict

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            if not self._allowed(addr[0]):
                return
            request = Packet.from_bytes(data)
        except (ValueError, MalformedPacket):
            return
        if self.core.may_block(request):
            task = asyncio.ensure_future(self._answer_later(request, addr))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        self._send(self.core.handle_locked(request, self.secret, time.monotonic()), addr)

    async def _answer_later(self, request: Packet, addr: tuple[str, int]) -> None:
        self._send(await self.core.answer(request, self.secret), addr)

    def _send(self, reply: Packet | None, addr: tuple[str, int]) -> None:
        if reply is not None and self.socket is not None:
            self.socket.sendto(reply.to_bytes(), addr)


async def serve_udp(core: IdpCore, host: str, port: int, secret: bytes,
                    allowed: str = "127.0.0.0/8") -> DatagramSocket:
    """RADIUS/UDP for local NASes and tests (federation peers use RadSec); close the socket to stop."""
    front = _UdpIdp(core, secret, ipaddress.ip_network(allowed, strict=False))
    front.socket = await DatagramSocket.bind(host, port, front.datagram_received)
    return front.socket
