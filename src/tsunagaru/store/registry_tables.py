"""The site registry's tables: municipalities, organisations (tenants), sites, access points, the audit log.

Names are prefixed ``reg_`` so the registry sits beside the IdP's tables in one database. Secrets are
never stored here: an AP's RADIUS secret is a *reference* (``file:NAME``, resolved by whoever needs the
value, e.g. :mod:`tsunagaru.sites.anp_export`), so a registry dump or an audit row cannot leak one.
The audit log is append-only: the service layer has no update or delete for it, and triggers refuse
UPDATE and DELETE in the database itself (created by the migration on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tsunagaru.store.base import Base


class Municipality(Base):
    """One of the 62 municipalities of Tokyo (or any Japanese one): its 6-digit local government code."""

    __tablename__ = "reg_municipalities"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)  # 全国地方公共団体コード, check digit included
    pref_code: Mapped[str] = mapped_column(String(2), index=True)
    name_ja: Mapped[str] = mapped_column(String(64))
    name_kana: Mapped[str | None] = mapped_column(String(64))
    name_en: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # special_ward, city, town, village


class Organisation(Base):
    """A tenant: the city, a municipality, or a site operator (the phone-booth carrier, a hotel...).

    Site operators that apply themselves start ``pending`` and see nothing until a city admin approves.
    """

    __tablename__ = "reg_organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), index=True)  # city, municipality, site-operator
    municipality_code: Mapped[str | None] = mapped_column(ForeignKey("reg_municipalities.code"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending, approved, rejected
    contact_email: Mapped[str | None] = mapped_column(String(254))
    note: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Site(Base):
    """A place with public Wi-Fi. ``(source, source_id)`` is the key of an imported row (re-import updates)."""

    __tablename__ = "reg_sites"
    __table_args__ = (UniqueConstraint("source", "source_id", name="uq_reg_sites_source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str | None] = mapped_column(String(64))  # e.g. "130001" (the publishing body's code)
    source_id: Mapped[str | None] = mapped_column(String(64))  # the list's NO / ID column
    name: Mapped[str] = mapped_column(String(300))
    name_kana: Mapped[str | None] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(32), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(400))
    address_extra: Mapped[str | None] = mapped_column(String(400))  # 方書
    municipality_code: Mapped[str | None] = mapped_column(ForeignKey("reg_municipalities.code"), index=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("reg_organisations.id"), index=True)
    installer: Mapped[str | None] = mapped_column(String(200))  # 設置者 as published
    ssid: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), index=True)  # active, planned, retired
    checked_on: Mapped[str | None] = mapped_column(String(10))  # 最終確認日, ISO date
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AccessPoint(Base):
    """An AP at a site: what it is, how the ANP knows it (NAS identity), and where its config stands."""

    __tablename__ = "reg_aps"
    __table_args__ = (UniqueConstraint("site_id", "name", name="uq_reg_aps_site_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("reg_sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(32))  # hostapd, openwrt, other
    radios: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"band": "5g", "channel": 36}, ...]
    bssids: Mapped[list[str]] = mapped_column(JSON)  # lower-case aa:bb:cc:dd:ee:ff
    # NAS identity: RADIUS/UDP APs by source network + secret reference, RadSec APs by certificate name
    nas_network: Mapped[str | None] = mapped_column(String(64), index=True)
    nas_identifier: Mapped[str | None] = mapped_column(String(253))
    secret_ref: Mapped[str | None] = mapped_column(String(200))
    radsec_name: Mapped[str | None] = mapped_column(String(253))
    state: Mapped[str] = mapped_column(String(16), index=True)  # active, disabled
    config_version: Mapped[str | None] = mapped_column(String(128))  # ETag of the config last served
    config_served_at: Mapped[datetime | None]  # when config_version was first served
    polled_at: Mapped[datetime | None]  # the last config request (200 or 304)
    reported_version: Mapped[str | None] = mapped_column(String(128))
    reported_at: Mapped[datetime | None]
    report_result: Mapped[str | None] = mapped_column(String(16))  # applied, error
    report_log: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AuditEntry(Base):
    """Who changed what, when, with the resource before and after (JSON). Never updated, never deleted."""

    __tablename__ = "reg_audit"
    __table_args__ = (Index("ix_reg_audit_resource", "resource_type", "resource_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))  # site.create, ap.update, organisation.approve...
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(64))
    municipality_code: Mapped[str | None] = mapped_column(String(6), index=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
