"""Sites: list, get, create, update, delete, each in the caller's scope and audited (never commits)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from tsunagaru.sites import audit
from tsunagaru.sites.errors import Conflict, Forbidden, Invalid, NotFound
from tsunagaru.sites.fields import SITE_FIELDS, site_fields
from tsunagaru.sites.paging import DEFAULT_LIMIT, window
from tsunagaru.sites.scope import Principal, SiteScope, may_manage_tenants, read_scope, write_scope
from tsunagaru.sites.tenants import effective_principal, municipality_exists
from tsunagaru.sites.views import Page, SiteView
from tsunagaru.store.registry_tables import AccessPoint, Organisation, Site

SITE_SNAPSHOT = ("id", *SITE_FIELDS)


def scope_clause(scope: SiteScope) -> ColumnElement[bool]:
    """The SQL condition for "sites in this scope" (false for a scope of nothing)."""
    if scope.everything:
        return true()
    if scope.municipality_code is not None:
        return Site.municipality_code == scope.municipality_code
    if scope.operator_id is not None:
        return Site.operator_id == scope.operator_id
    return Site.id.is_(None)  # primary keys are never NULL: nothing


def list_sites(session: Session, p: Principal, *, municipality: str | None = None, category: str | None = None,
               state: str | None = None, operator_id: int | None = None, q: str | None = None,
               limit: int = DEFAULT_LIMIT, offset: int = 0) -> Page[SiteView]:
    """Sites in ``p``'s read scope, filtered, by id; ``q`` matches part of the name (ja or en)."""
    limit, offset = window(limit, offset)
    query = select(Site).where(scope_clause(read_scope(effective_principal(session, p))))
    for column, value in ((Site.municipality_code, municipality), (Site.category, category), (Site.state, state),
                          (Site.operator_id, operator_id)):
        if value is not None:
            query = query.where(column == value)
    if q:
        if len(q) > 100:
            raise Invalid("q is longer than 100 characters", field="q")
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Site.name.like(pattern, escape="\\") | Site.name_en.like(pattern, escape="\\"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Site.id).limit(limit).offset(offset)).all()
    return Page(tuple(SiteView.of(r) for r in rows), total, limit, offset)


def readable_site(session: Session, p: Principal, site_id: int) -> Site:
    """The site row if ``p`` may read it; ``NotFound`` otherwise (absent and out of scope look the same)."""
    row = session.get(Site, site_id) if isinstance(site_id, int) and 0 < site_id < 2**63 else None
    if row is None or not read_scope(effective_principal(session, p)).holds(row.municipality_code, row.operator_id):
        raise NotFound(f"no site {site_id}")
    return row


def writable_site(session: Session, p: Principal, site_id: int) -> Site:
    """The site row if ``p`` may change it: ``NotFound`` when it may not even read it, else ``Forbidden``."""
    row = readable_site(session, p, site_id)
    if not write_scope(effective_principal(session, p)).holds(row.municipality_code, row.operator_id):
        raise Forbidden(f"site {site_id} is outside your scope for changes")
    return row


def get_site(session: Session, p: Principal, site_id: int) -> SiteView:
    return SiteView.of(readable_site(session, p, site_id))


def _check(session: Session, p: Principal, fields: Mapping[str, Any], before: Mapping[str, Any] | None) -> None:
    """References exist, and the site after the change is still inside ``p``'s write scope."""
    code = fields.get("municipality_code")
    if code is not None and not municipality_exists(session, code):
        raise Invalid(f"unknown municipality code {code}", field="municipality_code")
    operator = fields.get("operator_id")
    if before is None or operator != before.get("operator_id"):
        if operator is not None:
            org = session.get(Organisation, operator)
            if org is None or org.kind != "site-operator" or org.state != "approved":
                raise Invalid(f"organisation {operator} is not an approved site operator", field="operator_id")
        eff = effective_principal(session, p)
        own = eff.organisation_id is not None and operator == eff.organisation_id and before is None
        if not (may_manage_tenants(p) or own or (operator is None and before is None)):
            raise Forbidden("only a city admin assigns a site's operator")
    if not write_scope(effective_principal(session, p)).holds(code, operator):
        raise Forbidden("that site would be outside your scope")
    if fields.get("source_id") is not None:
        clash = session.scalar(select(Site.id).where(Site.source == fields.get("source"),
                                                     Site.source_id == fields["source_id"]))
        if clash is not None and (before is None or clash != before["id"]):
            raise Conflict(f"site {clash} already has source id {fields['source_id']}", field="source_id")


def create_site(session: Session, p: Principal, data: Mapping[str, Any], *, now: datetime | None = None) -> SiteView:
    fields = site_fields(data)
    eff = effective_principal(session, p)
    if fields["operator_id"] is None and eff.organisation_id is not None and eff.role.value == "site-operator":
        fields["operator_id"] = eff.organisation_id  # a site operator's new site is its own
    if fields["municipality_code"] is None and eff.municipality_code is not None:
        fields["municipality_code"] = eff.municipality_code
    _check(session, p, fields, None)
    when = now or datetime.now(UTC)
    row = Site(**fields, created_at=when, updated_at=when)
    session.add(row)
    session.flush()
    audit.record(session, p, "site.create", "site", row.id, None, audit.snapshot(row, SITE_SNAPSHOT), now=when,
                 municipality_code=row.municipality_code, organisation_id=row.operator_id)
    return SiteView.of(row)


def update_site(session: Session, p: Principal, site_id: int, changes: Mapping[str, Any], *,
                now: datetime | None = None) -> SiteView:
    row = writable_site(session, p, site_id)
    fields = site_fields(changes, partial=True)
    before = audit.snapshot(row, SITE_SNAPSHOT)
    merged = {**before, **fields}
    if (merged["lat"] is None) != (merged["lon"] is None):
        raise Invalid("lat and lon go together", field="lat")
    _check(session, p, merged, before)
    for key, value in fields.items():
        setattr(row, key, value)
    after = audit.snapshot(row, SITE_SNAPSHOT)
    if after != before:
        row.updated_at = now or datetime.now(UTC)
        audit.record(session, p, "site.update", "site", row.id, before, after, now=row.updated_at,
                     municipality_code=row.municipality_code, organisation_id=row.operator_id)
        session.flush()
    return SiteView.of(row)


def delete_site(session: Session, p: Principal, site_id: int, *, now: datetime | None = None) -> None:
    """Delete a site that has no APs left (remove or move those first: their history is in the audit log)."""
    row = writable_site(session, p, site_id)
    aps = session.scalar(select(func.count()).where(AccessPoint.site_id == row.id)) or 0
    if aps:
        raise Conflict(f"site {site_id} still has {aps} access point(s)")
    before = audit.snapshot(row, SITE_SNAPSHOT)
    session.delete(row)
    audit.record(session, p, "site.delete", "site", site_id, before, None, now=now,
                 municipality_code=before["municipality_code"], organisation_id=before["operator_id"])
    session.flush()
