"""Signing in and out: password (+ TOTP) checks under the rate limit, sessions and API tokens.

The functions take a Session and the time; they add rows but never commit (the request does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tsunagaru.sites.scope import Principal, Role
from tsunagaru.store.web_tables import ApiToken, WebSession, WebUser
from tsunagaru.web.auth.ratelimit import RateLimiter
from tsunagaru.web.auth.secrets import new_token, token_hash, verify_password
from tsunagaru.web.errors import TooMany, Unauthenticated, _

SESSION_PREFIX = "tss_"
USER_TOKEN_PREFIX = "tsg_"


@dataclass(frozen=True, slots=True)
class SignIn:
    username: str
    password: str
    otp: str | None
    client: str  # the client address, for the per-address limit


def principal_of(user: WebUser) -> Principal:
    return Principal(username=user.username, role=Role(user.role), municipality_code=user.municipality_code,
                     organisation_id=user.organisation_id)


def authenticate(db: Session, limiter: RateLimiter, attempt: SignIn, mono: float) -> WebUser:
    """The user whose password (and TOTP, when set) match; a typed error otherwise, counted per name and address."""
    keys = ("u:" + attempt.username.casefold()[:64], "a:" + attempt.client)
    wait = limiter.blocked(keys, mono)
    if wait:
        raise TooMany(seconds=int(wait) + 1)
    user = db.scalar(select(WebUser).where(WebUser.username == attempt.username[:64]))
    ok = verify_password(user.password_hash if user else None, attempt.password)
    if ok and user is not None and user.totp_secret:
        ok = bool(attempt.otp) and pyotp.TOTP(user.totp_secret).verify(attempt.otp or "", valid_window=1)
    if not ok or user is None or not user.enabled:
        limiter.failed(keys, mono)
        raise Unauthenticated(_("Wrong username, password or one-time code."), code="bad_credentials")
    limiter.succeeded(keys[:1])
    return user


def open_session(db: Session, user: WebUser, now: datetime, hours: float) -> str:
    """A new page session for ``user``; returns the cookie value (only its hash is stored)."""
    value = new_token(SESSION_PREFIX)
    db.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at < now))
    db.add(WebSession(id_hash=token_hash(value), user_id=user.id, created_at=now,
                      expires_at=now + timedelta(hours=hours)))
    return value


def close_session(db: Session, value: str) -> None:
    db.execute(delete(WebSession).where(WebSession.id_hash == token_hash(value)))


def issue_token(db: Session, user: WebUser, now: datetime, days: float, label: str = "") -> str:
    """A new API token for ``user``, shown to the caller once."""
    value = new_token(USER_TOKEN_PREFIX)
    db.add(ApiToken(token_hash=token_hash(value), user_id=user.id, label=label[:64], created_at=now,
                    expires_at=now + timedelta(days=days)))
    return value


def user_by_session(db: Session, value: str, now: datetime) -> WebUser | None:
    row = db.execute(select(WebUser).join(WebSession, WebSession.user_id == WebUser.id)
                     .where(WebSession.id_hash == token_hash(value), WebSession.expires_at > now)).scalar()
    return row if row is not None and row.enabled else None


def user_by_token(db: Session, value: str, now: datetime) -> WebUser | None:
    row = db.execute(select(WebUser).join(ApiToken, ApiToken.user_id == WebUser.id)
                     .where(ApiToken.token_hash == token_hash(value), ApiToken.expires_at > now,
                            ApiToken.revoked_at.is_(None))).scalar()
    return row if row is not None and row.enabled else None
