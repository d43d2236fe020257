"""The declarative base every Tsunagaru table derives from, and the column types they share.

One ``Base`` (one ``MetaData``) for the whole product, so that the IdP's tables, the ANP's accounting
spool and later the site registry can live in one database and be created together.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and read back as aware UTC.

    SQLite has no time zones and PostgreSQL's ``timestamptz`` converts to the session zone; storing
    naive UTC everywhere makes both backends return the same values, and refusing naive input keeps
    local times from sneaking in.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware (UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Root of all Tsunagaru tables."""

    type_annotation_map = {datetime: UtcDateTime()}  # noqa: RUF012 - SQLAlchemy reads a plain dict


class AccountingRecordMixin:
    """Columns every stored RADIUS accounting record has, whoever keeps it.

    The IdP keeps what it received (``idp_accounting``); the ANP's durable spool (its own table, with
    its own delivery columns) reuses these so that both can be read and exported the same way. The raw
    packet is kept byte for byte because a proxy forwards what it does not understand.
    """

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(253), index=True)  # Acct-Session-Id
    status_type: Mapped[int] = mapped_column(Integer)  # Acct-Status-Type (1 start, 2 stop, 3 interim...)
    user_hash: Mapped[str | None] = mapped_column(String(128))  # never the plain identity
    operator: Mapped[str | None] = mapped_column(String(253), index=True)  # Operator-Name, e.g. 4EXAMPLE:JP
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(index=True)


class SchemaVersion(Base):
    """One row: the schema version this database was created with (no migration tool yet)."""

    __tablename__ = "schema_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    applied_at: Mapped[datetime]
