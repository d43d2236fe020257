"""The IdP's tables: users, the certificates issued to them, and the accounting it received."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tsunagaru.store.base import AccountingRecordMixin, Base


class User(Base):
    """A subscriber of this IdP. ``username`` is the local part of the NAI, unique within its realm
    (``alice@city.example`` and ``alice@visitors.example`` are two people)."""

    __tablename__ = "idp_users"
    __table_args__ = (UniqueConstraint("username", "realm", name="uq_idp_users_username_realm"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(253), index=True)
    realm: Mapped[str] = mapped_column(String(253), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))  # scrypt, see idp.passwords
    # Password-equivalent: present only while mschapv2_enabled (see idp.passwords for why).
    nt_hash: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    mschapv2_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    certificates: Mapped[list[UserCertificate]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserCertificate.id"
    )


class UserCertificate(Base):
    """A client certificate the user CA issued for EAP-TLS; revocation is a timestamp, never a delete."""

    __tablename__ = "idp_user_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("idp_users.id", ondelete="CASCADE"), index=True)
    serial: Mapped[str] = mapped_column(String(64), index=True)  # lower-case hex, up to 20 octets
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # lower-case hex of the DER
    subject: Mapped[str] = mapped_column(String(1024))
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    user: Mapped[User] = relationship(back_populates="certificates")


class IdpAccounting(AccountingRecordMixin, Base):
    """Accounting-Requests the IdP received from federation peers."""

    __tablename__ = "idp_accounting"

    # tsunagaru.radius.accounting.record_key: the same event stored once, however often it arrives
    record_key: Mapped[str | None] = mapped_column(String(64), unique=True)
