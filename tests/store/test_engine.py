"""Opening the store, its schema version, and the shared tables, on SQLite and on real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from tsunagaru.store import (
    SCHEMA_VERSION,
    IdpAccounting,
    SchemaMismatch,
    SchemaVersion,
    Store,
    StoreError,
    User,
    UserCertificate,
    create_schema,
    default_url,
    make_engine,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _user(name: str = "alice") -> User:
    return User(username=name, realm="idp.tsunagaru.test", enabled=True, created_at=NOW, updated_at=NOW)


def test_sqlite_has_wal_and_foreign_keys(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'deep' / 'er' / 'x.sqlite'}")
    try:
        with store.session() as session:
            assert session.scalar(text("PRAGMA journal_mode")) == "wal"
            assert session.scalar(text("PRAGMA foreign_keys")) == 1
    finally:
        store.dispose()
    assert (tmp_path / "deep" / "er" / "x.sqlite").exists()


def test_postgres_urls_use_psycopg3() -> None:
    engine = make_engine("postgresql://someone@127.0.0.1:1/nowhere")  # no connection is made
    assert engine.dialect.driver == "psycopg"


def test_unsupported_scheme_is_a_store_error() -> None:
    with pytest.raises(StoreError):
        make_engine("mysql://x@127.0.0.1/db")


def test_default_url_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TSUNAGARU_DB", raising=False)
    assert default_url() == "sqlite:///./tsunagaru-idp.sqlite"
    monkeypatch.setenv("TSUNAGARU_DB", "sqlite:////tmp/elsewhere.sqlite")
    assert default_url() == "sqlite:////tmp/elsewhere.sqlite"


def test_schema_version_recorded_and_idempotent(store: Store) -> None:
    assert create_schema(store.engine) == SCHEMA_VERSION
    with store.session() as session:
        assert session.scalars(select(SchemaVersion.version)).all() == [SCHEMA_VERSION]


def test_other_schema_version_is_refused(store: Store) -> None:
    with store.session() as session:
        session.execute(update(SchemaVersion).values(version=SCHEMA_VERSION + 1))
    with pytest.raises(SchemaMismatch):
        create_schema(store.engine)


def test_timestamps_come_back_aware_utc(store: Store) -> None:
    tokyo = timezone(timedelta(hours=9))
    with store.session() as session:
        user = _user()
        user.created_at = datetime(2026, 11, 26, 21, 0, tzinfo=tokyo)
        session.add(user)
    with store.session() as session:
        stored = session.scalars(select(User)).one()
        assert stored.created_at == datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
        assert stored.created_at.tzinfo is UTC


def test_naive_timestamps_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="timezone-aware"), store.session() as session:
        user = _user()
        user.created_at = datetime(2026, 1, 1)
        session.add(user)


def test_username_is_unique(store: Store) -> None:
    with store.session() as session:
        session.add(_user())
    with pytest.raises(Exception, match=r"(?i)unique"), store.session() as session:
        session.add(_user())


def test_certificates_belong_to_a_user_and_go_with_it(store: Store) -> None:
    with store.session() as session:
        user = _user()
        user.certificates.append(
            UserCertificate(
                serial="1f", fingerprint_sha256="ab" * 32, subject="CN=alice", not_before=NOW,
                not_after=NOW + timedelta(days=1), revoked_at=None, created_at=NOW,
            )
        )
        session.add(user)
    with store.session() as session:
        session.delete(session.scalars(select(User)).one())
    with store.session() as session:
        assert session.scalars(select(UserCertificate)).all() == []


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"), store.session() as session:
        session.add(
            UserCertificate(
                user_id=12345, serial="1", fingerprint_sha256="cd" * 32, subject="CN=x", not_before=NOW,
                not_after=NOW, revoked_at=None, created_at=NOW,
            )
        )


def test_accounting_keeps_raw_packets_byte_for_byte(store: Store) -> None:
    raw = bytes(range(256)) * 4
    with store.session() as session:
        session.add(
            IdpAccounting(
                session_id="S-1", status_type=1, user_hash="h" * 64, operator="4EXAMPLE:JP", raw=raw,
                received_at=NOW,
            )
        )
    with store.session() as session:
        record = session.scalars(select(IdpAccounting)).one()
        assert (record.raw, record.status_type, record.operator, record.received_at) == (
            raw, 1, "4EXAMPLE:JP", NOW,
        )


def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        session.add(_user("bob"))
        session.flush()
        raise RuntimeError("boom")
    with store.session() as session:
        assert session.scalars(select(User)).all() == []


def test_sqlite_file_is_owner_only_from_the_start(tmp_path: Path) -> None:
    """Review 3: the IdP database holds NT hashes; created with the umask it was 0644."""
    import os
    import stat

    old = os.umask(0)
    try:
        store = Store.open(f"sqlite:///{tmp_path / 'new' / 'idp.sqlite'}")
        with store.session() as s:
            s.add(_user())
        files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "new").iterdir()}
        store.dispose()
    finally:
        os.umask(old)
    assert files and all(m == 0o600 for m in files.values()), files
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


def test_a_bad_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        make_engine("not a url")
