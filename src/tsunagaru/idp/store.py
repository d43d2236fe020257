"""The EAP methods' view of the user database (:class:`~tsunagaru.eap.credentials.CredentialStore`) in SQL.

Lookups may be cached, because every EAP round trip would otherwise hit the database, but only for a
short, bounded TTL (at most :data:`MAX_CACHE_TTL`): an operator who disables a user or revokes a
certificate must see it take effect for new authentications within a minute, whichever process made
the change. A running IdP also follows the store's change counter (:meth:`SqlCredentialStore.follow_changes`)
and forgets its cached views at once: a revocation made on any node is refused within about a second
on PostgreSQL (NOTIFY), the TTL being only the bound when the feed cannot reach the store.
Certificates are looked up by fingerprint and serial at every EAP-TLS authentication; a revoked serial
refuses every certificate that carries it.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

from cryptography import x509
from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError

from tsunagaru.eap.credentials import CredentialStore, NtHashResult, Verdict
from tsunagaru.idp.passwords import PasswordHashError, burn_time, verify_password
from tsunagaru.idp.settings import DEFAULT_CACHE_TTL, MAX_CACHE_TTL
from tsunagaru.idp.users import certificate_fingerprint, certificate_serial, find_user, split_identity
from tsunagaru.store import Store, StoreError
from tsunagaru.store.change_tables import CREDENTIALS
from tsunagaru.store.changes import DEFAULT_POLL, ChangeFeed, follow
from tsunagaru.store.idp_tables import User, UserCertificate

log = logging.getLogger(__name__)

DEFAULT_CACHE_ENTRIES = 10_000

K = TypeVar("K")
V = TypeVar("V")


def utc_now() -> datetime:
    return datetime.now(UTC)


class TtlCache(Generic[K, V]):
    """A bounded map whose entries are trusted for ``ttl`` after they were fetched (``now`` passed in).

    Bounded so that a flood of random usernames cannot grow it without limit; a clock that steps back
    makes entries stale rather than fresh for longer.
    """

    def __init__(self, ttl: timedelta, max_entries: int) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.generation = 0  # bumped by clear(): a lookup that started before must not be stored after
        self._entries: OrderedDict[K, tuple[datetime, V]] = OrderedDict()

    def get(self, key: K, now: datetime) -> tuple[V] | None:
        """``(value,)`` while fresh (the value itself may be None), else None."""
        entries = self._entries  # one dict throughout: clear() from another thread swaps it
        entry = entries.get(key)
        if entry is None:
            return None
        fetched, value = entry
        if not timedelta(0) <= now - fetched < self.ttl:
            entries.pop(key, None)
            return None
        return (value,)

    def put(self, key: K, value: V, now: datetime, generation: int | None = None) -> None:
        """Remember ``value``; not when the cache was cleared since ``generation`` (the value may predate it)."""
        if self.ttl <= timedelta(0) or (generation is not None and generation != self.generation):
            return
        entries = self._entries
        entries[key] = (now, value)
        entries.move_to_end(key)
        while len(entries) > self.max_entries:
            entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (safe from another thread: readers keep the dict they hold)."""
        self.generation += 1
        self._entries = OrderedDict()


@dataclass(frozen=True, slots=True)
class _UserView:
    realm: str
    enabled: bool
    password_hash: str | None
    nt_hash: bytes | None
    mschapv2: bool


@dataclass(frozen=True, slots=True)
class _CertView:
    known: bool  # a certificate with this fingerprint was recorded
    revoked: bool  # it, or any certificate with its serial, is revoked
    user_enabled: bool


class SqlCredentialStore:
    """:class:`~tsunagaru.eap.credentials.CredentialStore` over :mod:`tsunagaru.store`.

    ``clock`` returns aware UTC time (injectable for tests). Database failures raise
    :class:`~tsunagaru.store.StoreError`, which the RADIUS front answers as a backend failure.
    """

    def __init__(
        self,
        store: Store,
        *,
        cache_ttl: timedelta = DEFAULT_CACHE_TTL,
        clock: Callable[[], datetime] = utc_now,
        max_cache_entries: int = DEFAULT_CACHE_ENTRIES,
    ) -> None:
        if cache_ttl > MAX_CACHE_TTL:
            raise ValueError(f"cache TTL {cache_ttl} exceeds {MAX_CACHE_TTL}: revocation would be late")
        self._store = store
        self._clock = clock
        self._users: TtlCache[tuple[str, str | None], _UserView | None] = TtlCache(cache_ttl, max_cache_entries)
        self._certs: TtlCache[tuple[str, str], _CertView] = TtlCache(cache_ttl, max_cache_entries)
        # Successful PAP checks, keyed by user, stored hash and an HMAC of the password under a key that
        # lives only in this process: a repeat login skips scrypt (70 ms) within the cache TTL, while a
        # changed password, a changed hash or a disabled user is seen as before (the user view is fresh).
        self._verified: TtlCache[tuple[str, str, bytes], bool] = TtlCache(cache_ttl, max_cache_entries)
        self._verify_key = os.urandom(32)
        # Set by the IdP when it runs steps in worker threads: the password hash (hashlib.scrypt releases
        # the GIL) is computed with the IdP's lock released, so other requests go on meanwhile.
        self.slow_section: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext
        self._inflight: dict[tuple[str, str, bytes], threading.Event] = {}

    def invalidate(self) -> None:
        """Forget every cached lookup (after a change made in this process)."""
        self._users.clear()
        self._verified.clear()
        self._certs.clear()

    def forget_views(self) -> None:
        """Forget cached users and certificates: a change was made somewhere (any process, any node).

        Called from the change feed's thread. Verified passwords stay: they are keyed by the stored hash
        and only count with a user view, which is now read afresh (a disabled user or new hash is seen).
        """
        self._users.clear()
        self._certs.clear()

    def follow_changes(self, poll: float | None = None) -> ChangeFeed:
        """Forget the cached views whenever the store's ``credentials`` counter moves (a revocation, a
        disabled or new user, on any node): NOTIFY on PostgreSQL (about a second), else every ``poll``
        seconds (default: 10 s on PostgreSQL, 2 s on SQLite; either well within the 30 s TTL).
        Returns the started feed; stop it at shutdown."""
        if poll is None:
            poll = DEFAULT_POLL if self._store.engine.dialect.name == "postgresql" else 2.0
        return follow(self._store.engine, lambda _topic: self.forget_views(), (CREDENTIALS,), poll=poll,
                      name="idp credentials")

    def check_password(self, username: str, password: bytes) -> Verdict:
        user = self._user(username)
        if user is None or user.password_hash is None:
            with self.slow_section():
                burn_time(password)
            return Verdict.UNKNOWN_USER if user is None else Verdict.BAD_CREDENTIALS
        key = (username, user.password_hash, hmac.digest(self._verify_key, password, "sha256"))
        if self._verified.get(key, self._clock()) is None:
            try:
                matches = self._verify_once(key, password, user.password_hash)
            except PasswordHashError:
                log.error("unreadable password hash stored for a user; refusing")
                return Verdict.BAD_CREDENTIALS
            if not matches:
                return Verdict.BAD_CREDENTIALS
        return Verdict.OK if user.enabled else Verdict.DISABLED

    def _verify_once(self, key: tuple[str, str, bytes], password: bytes, stored: str) -> bool:
        """One hash computation per (user, stored hash, password) at a time: concurrent logins of the same
        user wait for the one in progress (a burst would otherwise hash the same password many times)."""
        waiter = self._inflight.get(key)
        if waiter is not None:
            with self.slow_section():
                waiter.wait(60)
            if self._verified.get(key, self._clock()) is not None:
                return True
        done = self._inflight[key] = threading.Event()
        try:
            with self.slow_section():
                matches = verify_password(password, stored)
            if matches:
                self._verified.put(key, True, self._clock())
            return matches
        finally:
            if self._inflight.get(key) is done:
                del self._inflight[key]
            done.set()

    def nt_hash(self, username: str) -> NtHashResult:
        user = self._user(username)
        if user is None:
            return NtHashResult(Verdict.UNKNOWN_USER)
        if not user.enabled:
            return NtHashResult(Verdict.DISABLED)
        if not user.mschapv2 or user.nt_hash is None:
            return NtHashResult(Verdict.METHOD_NOT_ALLOWED)
        return NtHashResult(Verdict.OK, user.nt_hash)

    def check_certificate(self, certificate: x509.Certificate, chain_verified: bool) -> Verdict:
        """A certificate not verified against the user CA is BAD_CREDENTIALS, whatever the database says."""
        if not chain_verified:
            return Verdict.BAD_CREDENTIALS
        now = self._clock()
        cert = self._certificate(certificate_fingerprint(certificate), certificate_serial(certificate), now)
        if not cert.known:
            return Verdict.UNKNOWN_USER
        if cert.revoked:
            return Verdict.REVOKED
        if not cert.user_enabled:
            return Verdict.DISABLED
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            return Verdict.EXPIRED
        return Verdict.OK

    def _user(self, identity: str) -> _UserView | None:
        """The user for ``identity`` (``alice@realm``; a bare name only when unambiguous), or None."""
        name = split_identity(identity)
        now = self._clock()
        cached = self._users.get(name, now)
        if cached is None:
            generation = self._users.generation
            view = self._load_user(identity)
            self._users.put(name, view, now, generation)
        else:
            (view,) = cached
        return view

    def _load_user(self, identity: str) -> _UserView | None:
        try:
            with self._store.session() as session:
                row = find_user(session, identity)
                if row is None:
                    return None
                return _view_of(row)
        except SQLAlchemyError as exc:
            raise StoreError("credential store unavailable") from exc

    def _certificate(self, fingerprint: str, serial: str, now: datetime) -> _CertView:
        cached = self._certs.get((fingerprint, serial), now)
        if cached is not None:
            return cached[0]
        generation = self._certs.generation
        view = self._load_certificate(fingerprint, serial)
        self._certs.put((fingerprint, serial), view, now, generation)
        return view

    def _load_certificate(self, fingerprint: str, serial: str) -> _CertView:
        query = select(UserCertificate).where(
            or_(UserCertificate.fingerprint_sha256 == fingerprint, UserCertificate.serial == serial)
        )
        try:
            with self._store.session() as session:
                rows = list(session.scalars(query))
                match = next((r for r in rows if r.fingerprint_sha256 == fingerprint), None)
                return _CertView(
                    known=match is not None,
                    revoked=any(r.revoked_at is not None for r in rows),
                    user_enabled=match is not None and match.user.enabled,
                )
        except SQLAlchemyError as exc:
            raise StoreError("credential store unavailable") from exc


def _view_of(user: User) -> _UserView:
    return _UserView(
        realm=user.realm,
        enabled=user.enabled,
        password_hash=user.password_hash,
        nt_hash=user.nt_hash,
        mschapv2=user.mschapv2_enabled,
    )


if TYPE_CHECKING:
    _conforms: type[CredentialStore] = SqlCredentialStore  # mypy checks the Protocol is met
