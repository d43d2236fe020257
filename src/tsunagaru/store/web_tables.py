"""The web app's tables: local accounts, page sessions, API tokens, AP tokens and enrolment secrets.

Secrets are never stored: passwords as argon2id hashes, session ids and tokens as SHA-256 of a random
value the holder keeps (a leaked table grants nothing). The config loop's state per AP (served and
reported versions) lives on the registry's AP rows (``reg_aps``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tsunagaru.store.base import Base


class WebUser(Base):
    """A person (or automation account) of the web app, with one role and its scope."""

    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, see web.auth.passwords
    role: Mapped[str] = mapped_column(String(32), index=True)  # tsunagaru.sites.scope.Role values
    municipality_code: Mapped[str | None] = mapped_column(String(6))  # municipality operators
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("reg_organisations.id"))  # site operators
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # base32; optional second factor
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebSession(Base):
    """A signed-in browser: the cookie holds a random id, the table its SHA-256."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ApiToken(Base):
    """A bearer token for automation, shown once; ``expires_at`` bounds its life."""

    __tablename__ = "web_api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]


class ApToken(Base):
    """The token an AP's agent pulls its config with; one live token per AP."""

    __tablename__ = "web_ap_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ap_id: Mapped[int] = mapped_column(ForeignKey("reg_aps.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class EnrolmentSecret(Base):
    """A per-tenant secret with which a new AP registers itself (hashed like the tokens)."""

    __tablename__ = "web_ap_enrolment_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("reg_organisations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

