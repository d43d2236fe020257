"""The audit log: one row per change, who/when/what with the resource before and after; readable by auditors.

There is deliberately no update or delete here (and the database refuses them, see migration
0001_initial). :func:`record` is public so the web app audits its own changes (users, tokens) the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tsunagaru.sites.errors import NotFound
from tsunagaru.sites.paging import window
from tsunagaru.sites.scope import Principal, may_read_audit
from tsunagaru.sites.views import AuditView, Page
from tsunagaru.store.registry_tables import AuditEntry


def snapshot(row: Any, fields: Iterable[str]) -> dict[str, Any]:
    """A JSON-safe copy of ``row``'s ``fields`` (timestamps as ISO text)."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(row, name)
        out[name] = value.isoformat() if isinstance(value, datetime | date) else value
    return out


def entry(p: Principal, action: str, resource_type: str, resource_id: object, before: Mapping[str, Any] | None,
          after: Mapping[str, Any] | None, *, now: datetime, municipality_code: str | None = None,
          organisation_id: int | None = None, note: str | None = None) -> dict[str, Any]:
    """The values of one audit row (for :func:`record` or a bulk insert by an importer)."""
    return {"at": now, "actor": p.username, "role": str(p.role), "action": action, "resource_type": resource_type,
            "resource_id": str(resource_id), "municipality_code": municipality_code,
            "organisation_id": organisation_id, "before": dict(before) if before is not None else None,
            "after": dict(after) if after is not None else None, "note": note}


def record(session: Session, p: Principal, action: str, resource_type: str, resource_id: object,
           before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, *, now: datetime | None = None,
           municipality_code: str | None = None, organisation_id: int | None = None, note: str | None = None) -> None:
    """Append one audit row in the caller's transaction (it commits or rolls back with the change)."""
    session.add(AuditEntry(**entry(p, action, resource_type, resource_id, before, after, now=now or datetime.now(UTC),
                                   municipality_code=municipality_code, organisation_id=organisation_id, note=note)))


def record_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append many audit rows at once (rows from :func:`entry`); for imports of thousands of changes."""
    if rows:
        from tsunagaru.sites.importers.bulk import insert_rows

        insert_rows(session, AuditEntry.metadata.tables[AuditEntry.__tablename__], rows)


def list_audit(session: Session, p: Principal, *, resource_type: str | None = None, resource_id: str | None = None,
               actor: str | None = None, action: str | None = None, limit: int = 100,
               offset: int = 0) -> Page[AuditView]:
    """Newest first. Only city admins and auditors read the log; for others it does not exist (NotFound)."""
    if not may_read_audit(p):
        raise NotFound("no audit log here")
    limit, offset = window(limit, offset)
    query = select(AuditEntry)
    for column, value in ((AuditEntry.resource_type, resource_type), (AuditEntry.resource_id, resource_id),
                          (AuditEntry.actor, actor), (AuditEntry.action, action)):
        if value is not None:
            query = query.where(column == value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
    return Page(tuple(AuditView.of(r) for r in rows), total, limit, offset)
