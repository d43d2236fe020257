"""Opening the store: an engine from a URL, the schema, and transactions.

SQLite is the default (one file, nothing to run) and PostgreSQL is for production; the same code
serves both. SQLite gets WAL (readers do not block the writer: the RADIUS front reads while the CLI
writes) and foreign keys (off by default in SQLite, and revocation relies on them being real).
A SQLite file holds password hashes (and NT hashes, password equivalents): it is created 0600 before
SQLite opens it, in a folder made 0700 when it is new (SQLite gives its -wal and -shm files the same mode).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from tsunagaru.secretfile import create_private, private_dir
from tsunagaru.store.base import SchemaVersion

DEFAULT_URL = "sqlite:///./tsunagaru-idp.sqlite"
ENV_URL = "TSUNAGARU_DB"

# Bump only when an existing table changes shape: new tables are added by create_all as they are.
SCHEMA_VERSION = 1

# Modules that define tables; create_schema imports them so that every table is known.
TABLE_MODULES = (
    "tsunagaru.store.idp_tables",
    "tsunagaru.store.registry_tables",
    "tsunagaru.store.web_tables",
    "tsunagaru.store.ops_tables",
    "tsunagaru.store.enrol_tables",
    "tsunagaru.store.incident_tables",
    "tsunagaru.store.change_tables",
)


class StoreError(Exception):
    """The store could not be opened or used as asked."""


class SchemaMismatch(StoreError):
    """The database was made by another schema version; a migration is needed, not a guess."""


def default_url() -> str:
    """``$TSUNAGARU_DB`` when set, else a SQLite file in the current folder."""
    return os.environ.get(ENV_URL) or DEFAULT_URL


def _normalise(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"{url!r} is not a database URL (sqlite:///PATH or postgresql://...)") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not the psycopg2 default
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default :func:`default_url`); a SQLite file's folder is created."""
    parsed = _normalise(url or default_url())
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            path = Path(parsed.database).expanduser()
            if not path.parent.exists():
                private_dir(path.parent)
            create_private(path)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # Sessions in UTC whatever the server's zone (a Tokyo server is likely Asia/Tokyo): the columns hold
        # naive UTC (see base.UtcDateTime), and now() or an aware literal in plain SQL must mean the same.
        args: dict[str, Any] = {"connect_timeout": 10}
        if "options" not in parsed.query:
            args["options"] = "-c timezone=UTC"
        return create_engine(parsed, pool_pre_ping=True, connect_args=args)
    raise StoreError(f"unsupported database URL scheme {parsed.drivername!r} (use sqlite or postgresql)")


def create_schema(engine: Engine, *, now: datetime | None = None) -> int:
    """Create missing tables and record the schema version; refuse a database of another version."""
    from tsunagaru.store.migrate import upgrade

    upgrade(engine)  # Alembic migrations (tsunagaru/store/migrations), not create_all
    with Session(engine) as session, session.begin():
        row = session.scalar(select(SchemaVersion).where(SchemaVersion.id == 1))
        if row is None:
            session.add(SchemaVersion(id=1, version=SCHEMA_VERSION, applied_at=now or datetime.now(UTC)))
            return SCHEMA_VERSION
        if row.version != SCHEMA_VERSION:
            raise SchemaMismatch(f"database schema version {row.version}, this code needs {SCHEMA_VERSION}")
        return row.version


class Store:
    """An engine plus a session factory; :meth:`session` is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = True) -> Store:
        """Open (and by default create the schema of) the database at ``url``."""
        engine = make_engine(url)
        if create:
            create_schema(engine)
        return cls(engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
