"""Tenants: municipalities (reference data) and organisations (the city, municipalities, site operators).

Private facilities apply as site-operator organisations (:func:`apply_site_operator`, no login needed:
the application is stored ``pending`` and grants nothing); a city admin approves or rejects it. A
site operator whose organisation is not approved sees nothing (:func:`effective_principal`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tsunagaru.sites import audit
from tsunagaru.sites.errors import Conflict, Forbidden, Invalid, NotFound
from tsunagaru.sites.paging import DEFAULT_LIMIT, window
from tsunagaru.sites.scope import Principal, Role, may_manage_tenants, may_read_organisation
from tsunagaru.sites.views import MunicipalityView, OrganisationView, Page
from tsunagaru.store.registry_tables import Municipality, Organisation, Site

KINDS = ("city", "municipality", "site-operator")
ORG_STATES = ("pending", "approved", "rejected")
ORG_FIELDS = ("name", "name_en", "kind", "municipality_code", "state", "contact_email", "note")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,60}$")


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def effective_principal(session: Session, p: Principal) -> Principal:
    """``p`` as the store sees it: a site operator of an organisation that is not approved has no scope."""
    if p.role is not Role.SITE_OPERATOR or p.organisation_id is None:
        return p
    state = session.scalar(select(Organisation.state).where(Organisation.id == p.organisation_id))
    return p if state == "approved" else replace(p, organisation_id=None)


# -- municipalities -------------------------------------------------------------------------------------------

def list_municipalities(session: Session, p: Principal) -> tuple[MunicipalityView, ...]:
    """Every municipality, by code (public reference data: at most a few hundred rows)."""
    return tuple(MunicipalityView.of(m) for m in session.scalars(select(Municipality).order_by(Municipality.code)))


def get_municipality(session: Session, p: Principal, code: str) -> MunicipalityView:
    row = session.get(Municipality, code)
    if row is None:
        raise NotFound(f"no municipality {code!r}")
    return MunicipalityView.of(row)


def upsert_municipalities(session: Session, p: Principal, rows: Iterable[Mapping[str, Any]], *,
                          now: datetime | None = None) -> int:
    """Add or update municipalities (``code, name_ja, name_kana, name_en, pref_code, kind``); returns changes."""
    if not may_manage_tenants(p):
        raise Forbidden("only a city admin changes municipalities")
    fields = ("pref_code", "name_ja", "name_kana", "name_en", "kind")
    changed = 0
    for data in rows:
        code = str(data.get("code", ""))
        if not re.fullmatch(r"[0-9]{6}", code) or not data.get("name_ja"):
            raise Invalid(f"municipality {code!r}: needs a 6-digit code and a name", field="code")
        row = session.get(Municipality, code)
        before = None if row is None else audit.snapshot(row, ("code", *fields))
        if row is None:
            row = Municipality(code=code)
            session.add(row)
        for name in fields:
            setattr(row, name, data.get(name) if name != "pref_code" else data.get(name) or code[:2])
        after = audit.snapshot(row, ("code", *fields))
        if before != after:
            changed += 1
            audit.record(session, p, "municipality.create" if before is None else "municipality.update",
                         "municipality", code, before, after, now=_now(now), municipality_code=code)
    session.flush()
    return changed


def municipality_exists(session: Session, code: str) -> bool:
    return session.get(Municipality, code) is not None


# -- organisations ----------------------------------------------------------------------------------------------

def _org_fields(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    extra = sorted(set(data) - set(ORG_FIELDS))
    if extra:
        raise Invalid(f"unknown field {extra[0]!r}", field=extra[0])
    out: dict[str, Any] = {}
    for key, limit in (("name", 200), ("name_en", 200), ("contact_email", 254), ("note", 2000)):
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or len(value.strip()) > limit or
                                  any(ord(c) < 0x20 for c in value.strip())):
            raise Invalid(f"{key} must be text of at most {limit} characters", field=key)
        if key in data or not partial:
            out[key] = value.strip() or None if isinstance(value, str) else None
    if not partial and not out.get("name"):
        raise Invalid("name is required", field="name")
    if out.get("contact_email") and not _EMAIL.match(out["contact_email"]):
        raise Invalid("contact_email is not an e-mail address", field="contact_email")
    if "kind" in data or not partial:
        if data.get("kind", "site-operator") not in KINDS:
            raise Invalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
        out["kind"] = data.get("kind", "site-operator")
    if "state" in data:
        if data["state"] not in ORG_STATES:
            raise Invalid(f"state must be one of {', '.join(ORG_STATES)}", field="state")
        out["state"] = data["state"]
    if "municipality_code" in data or not partial:
        code = data.get("municipality_code")
        if code is not None and (not isinstance(code, str) or not re.fullmatch(r"[0-9]{6}", code)):
            raise Invalid("municipality_code must be a 6-digit local government code", field="municipality_code")
        out["municipality_code"] = code
    return out


ORG_SNAPSHOT = ("id", *ORG_FIELDS)


def _check_references(session: Session, fields: Mapping[str, Any]) -> None:
    code = fields.get("municipality_code")
    if code is not None and not municipality_exists(session, code):
        raise Invalid(f"unknown municipality code {code}", field="municipality_code")
    if fields.get("kind") == "municipality" and code is None:
        raise Invalid("a municipality organisation needs its municipality_code", field="municipality_code")


def _name_free(session: Session, name: str, but: int | None = None) -> None:
    query = select(Organisation.id).where(Organisation.name == name)
    if but is not None:
        query = query.where(Organisation.id != but)
    if session.scalar(query) is not None:
        raise Conflict(f"an organisation named {name!r} exists", field="name")


def create_organisation(session: Session, p: Principal, data: Mapping[str, Any], *,
                        now: datetime | None = None) -> OrganisationView:
    """A city admin adds a tenant directly (approved unless ``state`` says otherwise)."""
    if not may_manage_tenants(p):
        raise Forbidden("only a city admin creates organisations")
    fields = _org_fields(data, partial=False)
    fields.setdefault("state", "approved")
    _check_references(session, fields)
    _name_free(session, fields["name"])
    when = _now(now)
    row = Organisation(**fields, created_at=when, updated_at=when)
    session.add(row)
    session.flush()
    audit.record(session, p, "organisation.create", "organisation", row.id, None, audit.snapshot(row, ORG_SNAPSHOT),
                 now=when, organisation_id=row.id, municipality_code=row.municipality_code)
    return OrganisationView.of(row)


def apply_site_operator(session: Session, applicant: str, data: Mapping[str, Any], *,
                        now: datetime | None = None) -> OrganisationView:
    """A private facility applies to join (the public form): stored ``pending``, it grants nothing yet."""
    allowed = {k: v for k, v in data.items() if k in ("name", "name_en", "contact_email", "note")}
    if set(data) - set(allowed):
        raise Invalid(f"unknown field {sorted(set(data) - set(allowed))[0]!r}")
    fields = _org_fields(allowed, partial=False)
    if not fields.get("contact_email"):
        raise Invalid("contact_email is required", field="contact_email")
    fields.update(kind="site-operator", state="pending", municipality_code=None)
    _name_free(session, fields["name"])
    when = _now(now)
    row = Organisation(**fields, created_at=when, updated_at=when)
    session.add(row)
    session.flush()
    who = Principal(f"applicant:{applicant[:150]}", Role.VIEWER)
    audit.record(session, who, "organisation.apply", "organisation", row.id, None, audit.snapshot(row, ORG_SNAPSHOT),
                 now=when, organisation_id=row.id)
    return OrganisationView.of(row)


def _org_row(session: Session, p: Principal, org_id: int) -> Organisation:
    row = session.get(Organisation, org_id)
    if row is None or not may_read_organisation(p, row.id, row.municipality_code):
        raise NotFound(f"no organisation {org_id}")
    return row


def get_organisation(session: Session, p: Principal, org_id: int) -> OrganisationView:
    return OrganisationView.of(_org_row(session, p, org_id))


def list_organisations(session: Session, p: Principal, *, kind: str | None = None, state: str | None = None,
                       limit: int = DEFAULT_LIMIT, offset: int = 0) -> Page[OrganisationView]:
    limit, offset = window(limit, offset)
    query = select(Organisation)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    if state is not None:
        query = query.where(Organisation.state == state)
    if p.role not in (Role.CITY_ADMIN, Role.VIEWER, Role.AUDITOR):
        mine = Organisation.id == (p.organisation_id if p.organisation_id is not None else -1)
        if p.role is Role.MUNICIPALITY_OPERATOR and p.municipality_code:
            mine = mine | (Organisation.municipality_code == p.municipality_code)
        query = query.where(mine)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Organisation.id).limit(limit).offset(offset)).all()
    return Page(tuple(OrganisationView.of(r) for r in rows), total, limit, offset)


def update_organisation(session: Session, p: Principal, org_id: int, changes: Mapping[str, Any], *,
                        now: datetime | None = None) -> OrganisationView:
    row = _org_row(session, p, org_id)
    if not may_manage_tenants(p):
        raise Forbidden("only a city admin changes organisations")
    fields = _org_fields(changes, partial=True)
    merged = {**audit.snapshot(row, ORG_FIELDS), **fields}
    _check_references(session, merged)
    if "name" in fields:
        if not fields["name"]:
            raise Invalid("name is required", field="name")
        _name_free(session, fields["name"], but=row.id)
    before = audit.snapshot(row, ORG_SNAPSHOT)
    for key, value in fields.items():
        setattr(row, key, value)
    after = audit.snapshot(row, ORG_SNAPSHOT)
    if after != before:
        row.updated_at = _now(now)
        action = "organisation.update"
        if before["state"] != after["state"]:
            action = {"approved": "organisation.approve", "rejected": "organisation.reject"}.get(after["state"], action)
        audit.record(session, p, action, "organisation", row.id, before, after, now=row.updated_at,
                     organisation_id=row.id, municipality_code=row.municipality_code)
    session.flush()
    return OrganisationView.of(row)


def approve_organisation(session: Session, p: Principal, org_id: int, *,
                         now: datetime | None = None) -> OrganisationView:
    return update_organisation(session, p, org_id, {"state": "approved"}, now=now)


def reject_organisation(session: Session, p: Principal, org_id: int, note: str | None = None, *,
                        now: datetime | None = None) -> OrganisationView:
    changes: dict[str, Any] = {"state": "rejected"}
    if note is not None:
        changes["note"] = note
    return update_organisation(session, p, org_id, changes, now=now)


def assign_sites(session: Session, p: Principal, org_id: int | None, site_ids: Iterable[int], *,
                 now: datetime | None = None) -> int:
    """A city admin makes ``org_id`` (an approved site operator, or None) the operator of these sites."""
    if not may_manage_tenants(p):
        raise Forbidden("only a city admin assigns site operators")
    if org_id is not None:
        org = session.get(Organisation, org_id)
        if org is None or org.kind != "site-operator" or org.state != "approved":
            raise Invalid(f"organisation {org_id} is not an approved site operator", field="operator_id")
    ids = sorted(set(site_ids))
    when = _now(now)
    rows = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        changed = []
        for site_id, old, code in session.execute(
                select(Site.id, Site.operator_id, Site.municipality_code).where(Site.id.in_(chunk))):
            if old != org_id:
                changed.append(site_id)
                rows.append(audit.entry(p, "site.assign", "site", site_id, {"operator_id": old},
                                        {"operator_id": org_id}, now=when, municipality_code=code,
                                        organisation_id=org_id))
        if changed:
            session.execute(update(Site).where(Site.id.in_(changed)).values(operator_id=org_id, updated_at=when))
    audit.record_many(session, rows)
    return len(rows)
