"""Bulk inserts for imports: COPY on PostgreSQL, executemany elsewhere.

A city-wide import writes ~200,000 rows (sites, APs and an audit row for each). On PostgreSQL row-by-row
INSERTs (even pipelined) cost the server a parse/plan/execute each, and SQLAlchemy's multi-row VALUES
lists cost the client a query parse in psycopg; COPY streams the rows in one statement. Values are
converted as the column types would bind them (JSON as text, timestamps as naive UTC, see
:class:`tsunagaru.store.base.UtcDateTime`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session

from tsunagaru.store.base import UtcDateTime


def _converter(column_type: Any) -> Callable[[Any], Any]:
    if isinstance(column_type, JSON):
        return lambda v: None if v is None else json.dumps(v)
    if isinstance(column_type, UtcDateTime):
        def utc(v: datetime | None) -> datetime | None:
            if v is None:
                return None
            if v.tzinfo is None:
                raise ValueError("timestamps must be timezone-aware (UTC)")
            return v.astimezone(UTC).replace(tzinfo=None)
        return utc
    return lambda v: v


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's transaction."""
    if not rows:
        return
    session.flush()  # rows this transaction added through the ORM go first (foreign keys)
    connection = session.connection()
    columns = list(rows[0])
    if connection.dialect.name != "postgresql" or any(len(r) != len(columns) for r in rows):
        session.execute(insert(table), list(rows))
        return
    convert = [_converter(table.c[c].type) for c in columns]
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([f(row[c]) for c, f in zip(columns, convert, strict=True)])
