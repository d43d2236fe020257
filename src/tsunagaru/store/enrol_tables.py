"""The enrolment portal's tables: people who signed up by e-mail, their one-time codes, their devices,
and the short-lived tokens (page sessions, API bearers, profile links).

A device is one IdP user (``idp_users``) with a random name: revoking the device disables that user and
revokes its certificates, so the IdP refuses it without any portal code in the RADIUS path. Secrets are
never stored in the clear: codes are keyed hashes, tokens SHA-256 digests, and a profile waiting to be
downloaded is sealed with a key derived from its link (the database alone cannot open it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tsunagaru.store.base import Base


class EnrolAccount(Base):
    """A person known by an e-mail address (lower-cased); ``enabled`` False is a staff decision."""

    __tablename__ = "enrol_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    lang: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]

    devices: Mapped[list[EnrolDevice]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="EnrolDevice.id"
    )


class EnrolCode(Base):
    """A one-time sign-up code: a keyed hash, an expiry, a count of wrong guesses, and when it was used."""

    __tablename__ = "enrol_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    source: Mapped[str] = mapped_column(String(64), index=True)  # keyed hash of the client address
    code_hash: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(16))  # the language asked for at sign-up (mails, pages)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class EnrolDevice(Base):
    """One device's credential: the IdP user it is, how it authenticates, and its life cycle."""

    __tablename__ = "enrol_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("enrol_accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(8))  # ttls | tls
    idp_username: Mapped[str] = mapped_column(String(64), unique=True)
    cert_serial: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]
    revoke_at: Mapped[datetime | None]  # renewal: the old credential ends after a grace period
    replaced_by: Mapped[int | None] = mapped_column(Integer)
    reminder_sent_at: Mapped[datetime | None]

    account: Mapped[EnrolAccount] = relationship(back_populates="devices")


class EnrolToken(Base):
    """A bearer secret (stored as its SHA-256): a page session, an API token, or a profile link.

    A profile link carries the sealed profile (``payload``) until it is fetched once or expires.
    """

    __tablename__ = "enrol_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # session | api | profile
    account_id: Mapped[int] = mapped_column(ForeignKey("enrol_accounts.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("enrol_devices.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    content_type: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
