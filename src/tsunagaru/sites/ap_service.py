"""Access points: list, get, create, update, delete in the caller's scope (an AP is in scope when its site
is), audited; and the config loop's bookkeeping (served version, polls, status reports) for the web app.

The bookkeeping functions take no principal: the web app calls them after it has authenticated the AP's
own token for that AP id. They are not audited (20,000 APs polling every minute would drown the log).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tsunagaru.sites import audit
from tsunagaru.sites.config_state import config_state
from tsunagaru.sites.errors import Conflict, Forbidden, Invalid, NotFound
from tsunagaru.sites.fields import AP_FIELDS, ap_fields, check_nas_identity
from tsunagaru.sites.paging import DEFAULT_LIMIT, window
from tsunagaru.sites.scope import Principal, read_scope
from tsunagaru.sites.site_service import readable_site, scope_clause, writable_site
from tsunagaru.sites.tenants import effective_principal
from tsunagaru.sites.views import ApView, Page
from tsunagaru.store.registry_tables import AccessPoint, Site

AP_SNAPSHOT = ("id", *AP_FIELDS)
RESULTS = ("applied", "error")
LOG_LIMIT = 2000


def _view(row: AccessPoint, site: Site, now: datetime | None) -> ApView:
    state = config_state(row.config_version, row.config_served_at, row.polled_at, row.reported_version,
                         row.reported_at, row.report_result, now or datetime.now(UTC))
    return ApView.of(row, site, state)


def list_aps(session: Session, p: Principal, *, site_id: int | None = None, municipality: str | None = None,
             state: str | None = None, limit: int = DEFAULT_LIMIT, offset: int = 0,
             now: datetime | None = None) -> Page[ApView]:
    limit, offset = window(limit, offset)
    query = (select(AccessPoint, Site).join(Site, AccessPoint.site_id == Site.id)
             .where(scope_clause(read_scope(effective_principal(session, p)))))
    if site_id is not None:
        query = query.where(AccessPoint.site_id == site_id)
    if municipality is not None:
        query = query.where(Site.municipality_code == municipality)
    if state is not None:
        query = query.where(AccessPoint.state == state)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(AccessPoint.id).limit(limit).offset(offset)).all()
    return Page(tuple(_view(ap, site, now) for ap, site in rows), total, limit, offset)


def _readable(session: Session, p: Principal, ap_id: int) -> tuple[AccessPoint, Site]:
    row = session.get(AccessPoint, ap_id) if isinstance(ap_id, int) and 0 < ap_id < 2**63 else None
    if row is None:
        raise NotFound(f"no access point {ap_id}")
    try:
        return row, readable_site(session, p, row.site_id)
    except NotFound:
        raise NotFound(f"no access point {ap_id}") from None


def _writable(session: Session, p: Principal, ap_id: int) -> tuple[AccessPoint, Site]:
    row, _ = _readable(session, p, ap_id)
    try:
        return row, writable_site(session, p, row.site_id)
    except Forbidden:
        raise Forbidden(f"access point {ap_id} is outside your scope for changes") from None


def get_ap(session: Session, p: Principal, ap_id: int, *, now: datetime | None = None) -> ApView:
    row, site = _readable(session, p, ap_id)
    return _view(row, site, now)


def _target_site(session: Session, p: Principal, site_id: int) -> Site:
    """The site a new or moved AP goes to: unknown to ``p`` is Invalid (it names a field), else it must be writable."""
    try:
        return writable_site(session, p, site_id)
    except NotFound:
        raise Invalid(f"no site {site_id}", field="site_id") from None


def _unique(session: Session, fields: Mapping[str, Any], but: int | None) -> None:
    """Names are unique per site; two APs on one source network would make the ANP's client table ambiguous."""
    query = select(AccessPoint.id).where(AccessPoint.site_id == fields["site_id"], AccessPoint.name == fields["name"])
    if but is not None:
        query = query.where(AccessPoint.id != but)
    if session.scalar(query.limit(1)) is not None:
        raise Conflict(f"site {fields['site_id']} already has an access point named {fields['name']!r}", field="name")
    for column, key in ((AccessPoint.nas_network, "nas_network"), (AccessPoint.radsec_name, "radsec_name")):
        value = fields.get(key)
        if value is None:
            continue
        query = select(AccessPoint.id).where(column == value)
        if but is not None:
            query = query.where(AccessPoint.id != but)
        clash = session.scalar(query.limit(1))
        if clash is not None:
            raise Conflict(f"access point {clash} already has {key} {value}", field=key)


def create_ap(session: Session, p: Principal, data: Mapping[str, Any], *, now: datetime | None = None) -> ApView:
    fields = ap_fields(data)
    site = _target_site(session, p, fields["site_id"])
    _unique(session, fields, None)
    when = now or datetime.now(UTC)
    row = AccessPoint(**fields, created_at=when, updated_at=when)
    session.add(row)
    session.flush()
    audit.record(session, p, "ap.create", "ap", row.id, None, audit.snapshot(row, AP_SNAPSHOT), now=when,
                 municipality_code=site.municipality_code, organisation_id=site.operator_id)
    return _view(row, site, when)


def update_ap(session: Session, p: Principal, ap_id: int, changes: Mapping[str, Any], *,
              now: datetime | None = None) -> ApView:
    row, site = _writable(session, p, ap_id)
    fields = ap_fields(changes, partial=True)
    before = audit.snapshot(row, AP_SNAPSHOT)
    merged = {**before, **fields}
    check_nas_identity(merged)
    if fields.get("site_id", row.site_id) != row.site_id:
        site = _target_site(session, p, fields["site_id"])
    _unique(session, merged, row.id)
    for key, value in fields.items():
        setattr(row, key, value)
    after = audit.snapshot(row, AP_SNAPSHOT)
    when = now or datetime.now(UTC)
    if after != before:
        row.updated_at = when
        audit.record(session, p, "ap.update", "ap", row.id, before, after, now=when,
                     municipality_code=site.municipality_code, organisation_id=site.operator_id)
        session.flush()
    return _view(row, site, when)


def delete_ap(session: Session, p: Principal, ap_id: int, *, now: datetime | None = None) -> None:
    row, site = _writable(session, p, ap_id)
    before = audit.snapshot(row, AP_SNAPSHOT)
    session.delete(row)
    audit.record(session, p, "ap.delete", "ap", ap_id, before, None, now=now,
                 municipality_code=site.municipality_code, organisation_id=site.operator_id)
    session.flush()


# -- the config loop (the caller has authenticated the AP itself) ----------------------------------------------

def ap_record(session: Session, ap_id: int) -> tuple[AccessPoint, Site]:
    """The AP and its site, for rendering its config (no scope: the AP's own token was checked)."""
    row = session.get(AccessPoint, ap_id) if isinstance(ap_id, int) and 0 < ap_id < 2**63 else None
    if row is None:
        raise NotFound(f"no access point {ap_id}")
    site = session.get(Site, row.site_id)
    assert site is not None  # foreign key
    return row, site


def record_config_served(session: Session, ap_id: int, version: str, *, now: datetime) -> None:
    """The AP pulled its config (200 or 304): remember the poll, and when this version was first served."""
    row, _ = ap_record(session, ap_id)
    if len(version) > 128:
        raise Invalid("version is longer than 128 characters", field="version")
    if row.config_version != version:
        row.config_version = version
        row.config_served_at = now
    row.polled_at = now
    session.flush()


def record_status(session: Session, ap_id: int, version: str, result: str, log: str | None, *,
                  now: datetime) -> ApView:
    """The AP's report on applying ``version``: ``applied`` or ``error``, with a short log (cut to 2000)."""
    row, site = ap_record(session, ap_id)
    if result not in RESULTS:
        raise Invalid("result must be applied or error", field="result")
    if not isinstance(version, str) or not 0 < len(version) <= 128:
        raise Invalid("version must be the ETag the AP applied", field="version")
    clean = None if log is None else "".join(c if c.isprintable() or c in "\n\t" else "?" for c in log)[:LOG_LIMIT]
    row.reported_version, row.report_result, row.report_log, row.reported_at = version, result, clean, now
    session.flush()
    return _view(row, site, now)
