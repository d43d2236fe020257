"""SqlCredentialStore's verdicts on both backends, and revocation within the cache TTL (clock injected)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tests.idp.helpers import FAST, NOW, REALM, Clock
from tsunagaru.eap.credentials import NtHashResult, Verdict
from tsunagaru.idp import users
from tsunagaru.idp.passwords import nt_hash
from tsunagaru.idp.store import MAX_CACHE_TTL, SqlCredentialStore, TtlCache
from tsunagaru.idp.user_ca import UserCA
from tsunagaru.store import Store

TTL = timedelta(seconds=30)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def creds(store: Store, clock: Clock) -> SqlCredentialStore:
    with store.session() as session:
        users.add_user(
            session, f"alice@{REALM}", password="alice-password", mschapv2=True, now=NOW, params=FAST
        )
        users.add_user(session, f"bob@{REALM}", password="bob-password", now=NOW, params=FAST)
        users.add_user(session, f"carol@{REALM}", now=NOW)  # certificate only
    return SqlCredentialStore(store, cache_ttl=TTL, clock=clock)


def _disable(store: Store, name: str) -> None:
    with store.session() as session:
        users.disable_user(session, name, now=NOW)


def test_pap_verdicts(creds: SqlCredentialStore) -> None:
    assert creds.check_password("alice", b"alice-password") is Verdict.OK
    assert creds.check_password(f"alice@{REALM.upper()}", b"alice-password") is Verdict.OK
    assert creds.check_password("alice", b"wrong") is Verdict.BAD_CREDENTIALS
    assert creds.check_password("nobody", b"alice-password") is Verdict.UNKNOWN_USER
    assert creds.check_password("alice@other.realm", b"alice-password") is Verdict.UNKNOWN_USER
    assert creds.check_password("carol", b"") is Verdict.BAD_CREDENTIALS


def test_nt_hash_verdicts(creds: SqlCredentialStore) -> None:
    assert creds.nt_hash("alice") == NtHashResult(Verdict.OK, nt_hash("alice-password"))
    assert creds.nt_hash("bob") == NtHashResult(Verdict.METHOD_NOT_ALLOWED)
    assert creds.nt_hash("nobody") == NtHashResult(Verdict.UNKNOWN_USER)


def test_disabled_users_are_refused(store: Store) -> None:
    with store.session() as session:
        users.add_user(session, f"dave@{REALM}", password="pw", mschapv2=True, now=NOW, params=FAST)
        users.disable_user(session, "dave", now=NOW)
    creds = SqlCredentialStore(store)
    assert creds.check_password("dave", b"pw") is Verdict.DISABLED
    assert creds.check_password("dave", b"wrong") is Verdict.BAD_CREDENTIALS  # no hint without the password
    assert creds.nt_hash("dave") == NtHashResult(Verdict.DISABLED)


def test_disabling_takes_effect_when_the_cache_entry_expires(
    store: Store, creds: SqlCredentialStore, clock: Clock
) -> None:
    assert creds.check_password("alice", b"alice-password") is Verdict.OK
    _disable(store, "alice")
    clock.now += TTL - timedelta(seconds=1)
    assert creds.check_password("alice", b"alice-password") is Verdict.OK  # still cached: allowed
    clock.now += timedelta(seconds=1)
    assert creds.check_password("alice", b"alice-password") is Verdict.DISABLED
    assert creds.nt_hash("alice").verdict is Verdict.DISABLED


def test_a_clock_stepping_back_does_not_extend_the_cache(
    store: Store, creds: SqlCredentialStore, clock: Clock
) -> None:
    assert creds.nt_hash("alice").verdict is Verdict.OK
    _disable(store, "alice")
    clock.now -= timedelta(seconds=5)
    assert creds.nt_hash("alice").verdict is Verdict.DISABLED


def test_invalidate_forgets_at_once(store: Store, creds: SqlCredentialStore) -> None:
    assert creds.nt_hash("alice").verdict is Verdict.OK
    _disable(store, "alice")
    creds.invalidate()
    assert creds.nt_hash("alice").verdict is Verdict.DISABLED


def test_cache_ttl_is_capped() -> None:
    with pytest.raises(ValueError, match="TTL"):
        SqlCredentialStore(None, cache_ttl=MAX_CACHE_TTL + timedelta(seconds=1))  # type: ignore[arg-type]


def test_cache_is_bounded_and_zero_ttl_caches_nothing() -> None:
    cache: TtlCache[str, int] = TtlCache(timedelta(seconds=10), max_entries=3)
    for i in range(10):
        cache.put(str(i), i, NOW)
    assert [cache.get(str(i), NOW) for i in range(10)] == [None] * 7 + [(7,), (8,), (9,)]
    off: TtlCache[str, int] = TtlCache(timedelta(0), max_entries=3)
    off.put("a", 1, NOW)
    assert off.get("a", NOW) is None


@pytest.fixture
def ca() -> UserCA:
    return UserCA.create(now=NOW - timedelta(days=1))


def _issue(store: Store, ca: UserCA, name: str = "alice", days: int = 30) -> x509.Certificate:
    with store.session() as session:
        cert, _ = users.issue_certificate(session, ca, name, days=days, now=NOW)
    return cert


def test_certificate_verdicts(store: Store, creds: SqlCredentialStore, ca: UserCA, clock: Clock) -> None:
    cert = _issue(store, ca)
    assert creds.check_certificate(cert, chain_verified=True) is Verdict.OK
    assert creds.check_certificate(cert, chain_verified=False) is Verdict.BAD_CREDENTIALS
    stranger, _ = ca.issue("mallory@x.test", 30, NOW)  # signed by our CA but never recorded
    assert creds.check_certificate(stranger, chain_verified=True) is Verdict.UNKNOWN_USER
    clock.now = NOW + timedelta(days=31)
    assert creds.check_certificate(cert, chain_verified=True) is Verdict.EXPIRED


def test_certificate_of_a_disabled_user(store: Store, creds: SqlCredentialStore, ca: UserCA) -> None:
    cert = _issue(store, ca, "carol")
    _disable(store, "carol")
    assert creds.check_certificate(cert, chain_verified=True) is Verdict.DISABLED


def test_revocation_takes_effect_within_the_ttl(
    store: Store, creds: SqlCredentialStore, ca: UserCA, clock: Clock
) -> None:
    cert = _issue(store, ca)
    assert creds.check_certificate(cert, chain_verified=True) is Verdict.OK
    with store.session() as session:
        users.revoke_user_certificates(session, "alice", now=NOW)
    clock.now += TTL - timedelta(seconds=1)
    assert creds.check_certificate(cert, chain_verified=True) is Verdict.OK  # the cached answer, in time
    clock.now += timedelta(seconds=1)
    assert creds.check_certificate(cert, chain_verified=True) is Verdict.REVOKED
    fresh = SqlCredentialStore(store, clock=clock)  # another process: no cache, sees it at once
    assert fresh.check_certificate(cert, chain_verified=True) is Verdict.REVOKED


def test_a_revoked_serial_refuses_any_certificate_carrying_it(
    store: Store, creds: SqlCredentialStore, ca: UserCA
) -> None:
    cert = _issue(store, ca)
    with store.session() as session:
        users.revoke_certificate(session, now=NOW, serial=users.certificate_serial(cert))
    # Same serial, another key (as a mis-issuance or a re-signing would produce).
    key = ec.generate_private_key(ec.SECP256R1())
    twin = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(cert.issuer)
        .public_key(key.public_key())
        .serial_number(cert.serial_number)
        .not_valid_before(cert.not_valid_before_utc)
        .not_valid_after(cert.not_valid_after_utc)
        .sign(ca.key, hashes.SHA256())
    )
    with store.session() as session:
        users.record_certificate(session, "alice", twin, now=NOW)
    assert creds.check_certificate(twin, chain_verified=True) is Verdict.REVOKED


def test_verified_password_cache_never_accepts_a_wrong_password(
    creds: SqlCredentialStore, store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tsunagaru.idp.store as module

    calls: list[int] = []
    real = module.verify_password

    def counting(password: bytes | str, stored: str) -> bool:
        calls.append(1)
        return real(password, stored)

    monkeypatch.setattr(module, "verify_password", counting)
    assert creds.check_password("alice", b"alice-password") is Verdict.OK
    assert creds.check_password("alice", b"alice-password") is Verdict.OK
    assert len(calls) == 1  # the repeat login skipped scrypt
    assert creds.check_password("alice", b"wrong") is Verdict.BAD_CREDENTIALS
    _disable(store, "alice")
    clock.now += TTL + timedelta(seconds=1)
    assert creds.check_password("alice", b"alice-password") is Verdict.DISABLED


def test_a_change_made_elsewhere_is_seen_before_the_ttl(
    store: Store, creds: SqlCredentialStore, clock: Clock
) -> None:
    """The feed (NOTIFY on PostgreSQL, polling on SQLite) forgets the cached view; the clock never moves."""
    assert creds.nt_hash("alice").verdict is Verdict.OK
    feed = creds.follow_changes(poll=0.2)
    try:
        _disable(store, "alice")  # another session: as another process or node would
        for _ in range(300):
            if creds.nt_hash("alice").verdict is Verdict.DISABLED:
                break
            time.sleep(0.1)
        assert creds.nt_hash("alice").verdict is Verdict.DISABLED
    finally:
        feed.stop()


def test_a_lookup_that_started_before_a_clear_is_not_cached() -> None:
    cache: TtlCache[str, int] = TtlCache(TTL, 10)
    generation = cache.generation
    cache.clear()  # a change was seen while the lookup ran: its value may predate the change
    cache.put("k", 1, NOW, generation)
    assert cache.get("k", NOW) is None
    cache.put("k", 2, NOW, cache.generation)
    assert cache.get("k", NOW) == (2,)
