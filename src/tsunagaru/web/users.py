"""Web accounts as a scoped, audited service (the registry's rules applied to people).

    city-admin             every account
    municipality-operator  accounts of its municipality (operators and viewers it adds)
    site-operator          accounts of its organisation
    viewer, auditor        only themselves

Reads out of scope are NotFound, writes Forbidden, as in the registry services; every change writes
an audit row (never the password hash or the TOTP secret) and nothing is committed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from tsunagaru.sites import audit
from tsunagaru.sites.errors import Conflict, Forbidden, Invalid, NotFound
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.store.registry_tables import Municipality, Organisation
from tsunagaru.store.web_tables import WebUser
from tsunagaru.web.auth.secrets import WeakPassword, hash_password


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    role: str
    municipality_code: str | None
    organisation_id: int | None
    enabled: bool
    totp: bool
    created_at: datetime

    @classmethod
    def of(cls, row: WebUser) -> UserView:
        return cls(row.id, row.username, row.role, row.municipality_code, row.organisation_id, row.enabled,
                   row.totp_secret is not None, row.created_at)

    def audit(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role, "municipality_code": self.municipality_code,
                "organisation_id": self.organisation_id, "enabled": self.enabled, "totp": self.totp}


@dataclass(frozen=True)
class NewUser:
    username: str
    password: str
    role: Role
    municipality_code: str | None = None
    organisation_id: int | None = None


def _readable(p: Principal) -> ColumnElement[bool]:
    if p.role is Role.CITY_ADMIN:
        return WebUser.id.is_not(None)
    if p.role is Role.MUNICIPALITY_OPERATOR and p.municipality_code:
        return WebUser.municipality_code == p.municipality_code
    if p.role is Role.SITE_OPERATOR and p.organisation_id is not None:
        return WebUser.organisation_id == p.organisation_id
    return WebUser.username == p.username


def _may_write(p: Principal, role: Role, municipality_code: str | None, organisation_id: int | None) -> bool:
    if p.role is Role.CITY_ADMIN:
        return True
    if p.role is Role.MUNICIPALITY_OPERATOR and p.municipality_code:
        return (role in (Role.MUNICIPALITY_OPERATOR, Role.VIEWER) and municipality_code == p.municipality_code
                and organisation_id is None)
    if p.role is Role.SITE_OPERATOR and p.organisation_id is not None:
        return role is Role.SITE_OPERATOR and organisation_id == p.organisation_id and municipality_code is None
    return False


def list_users(db: Session, p: Principal, limit: int, offset: int) -> tuple[list[UserView], int]:
    where = _readable(p)
    total = db.scalar(select(func.count()).select_from(WebUser).where(where)) or 0
    rows = db.scalars(select(WebUser).where(where).order_by(WebUser.id).limit(limit).offset(offset))
    return [UserView.of(r) for r in rows], total


def _get(db: Session, p: Principal, user_id: int) -> WebUser:
    row = db.scalar(select(WebUser).where(WebUser.id == user_id, _readable(p)))
    if row is None:
        raise NotFound(f"no user {user_id}")
    return row


def get_user(db: Session, p: Principal, user_id: int) -> UserView:
    return UserView.of(_get(db, p, user_id))


def _check_scope_fields(db: Session, new: NewUser) -> None:
    if new.role is Role.MUNICIPALITY_OPERATOR and not new.municipality_code:
        raise Invalid("a municipality operator needs a municipality code", field="municipality_code")
    if new.role is Role.SITE_OPERATOR and new.organisation_id is None:
        raise Invalid("a site operator needs an organisation", field="organisation_id")
    if new.municipality_code is not None and db.get(Municipality, new.municipality_code) is None:
        raise Invalid(f"unknown municipality code {new.municipality_code}", field="municipality_code")
    if new.organisation_id is not None:
        org = db.get(Organisation, new.organisation_id)
        if org is None or org.kind != "site-operator":
            raise Invalid(f"unknown site-operator organisation {new.organisation_id}", field="organisation_id")


def _audit(db: Session, p: Principal, action: str, view: UserView, before: UserView | None,
           after: UserView | None, now: datetime) -> None:
    audit.record(db, p, action, "user", view.id, before.audit() if before else None,
                 after.audit() if after else None, now=now, municipality_code=view.municipality_code,
                 organisation_id=view.organisation_id)


def create_user(db: Session, p: Principal, new: NewUser, now: datetime) -> UserView:
    if not _may_write(p, new.role, new.municipality_code, new.organisation_id):
        raise Forbidden("this role may not create such an account")
    _check_scope_fields(db, new)
    if db.scalar(select(WebUser.id).where(WebUser.username == new.username)) is not None:
        raise Conflict(f"the username {new.username} is taken", field="username")
    try:
        hashed = hash_password(new.password)
    except WeakPassword as exc:
        raise Invalid(str(exc), field="password") from None
    row = WebUser(username=new.username, password_hash=hashed, role=new.role.value,
                  municipality_code=new.municipality_code, organisation_id=new.organisation_id, enabled=True,
                  created_at=now, updated_at=now)
    db.add(row)
    db.flush()
    view = UserView.of(row)
    _audit(db, p, "user.create", view, None, view, now)
    return view


def set_enabled(db: Session, p: Principal, user_id: int, enabled: bool, now: datetime) -> UserView:
    row = _get(db, p, user_id)
    before = UserView.of(row)
    if not _may_write(p, Role(row.role), row.municipality_code, row.organisation_id) or row.username == p.username:
        raise Forbidden("this role may not change this account")
    row.enabled, row.updated_at = enabled, now
    db.flush()
    after = UserView.of(row)
    _audit(db, p, "user.enable" if enabled else "user.disable", after, before, after, now)
    return after


def delete_user(db: Session, p: Principal, user_id: int, now: datetime) -> None:
    row = _get(db, p, user_id)
    before = UserView.of(row)
    if not _may_write(p, Role(row.role), row.municipality_code, row.organisation_id) or row.username == p.username:
        raise Forbidden("this role may not delete this account")
    db.delete(row)
    _audit(db, p, "user.delete", before, before, None, now)


def set_totp(db: Session, p: Principal, secret: str | None, now: datetime) -> None:
    """Turn the caller's own second factor on (``secret``) or off (None)."""
    row = db.scalar(select(WebUser).where(WebUser.username == p.username))
    if row is None:
        raise NotFound("no such user")
    before = UserView.of(row)
    row.totp_secret, row.updated_at = secret, now
    db.flush()
    after = UserView.of(row)
    _audit(db, p, "user.totp", after, before, after, now)
