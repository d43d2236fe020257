"""Tables of operations: activity per AP per interval, accounting sessions (hashed ids), hourly usage.

Activity rows are keyed by (AP, interval start) and written by upsert that adds counters, so that several
ANP processes (scale-out) or a restart within an interval add up instead of overwriting each other.
Accounting sessions hold only keyed hashes (``tsunagaru.ops.activity.IdentityHasher``) and are purged
after the retention period with the activity rows; the hourly aggregates stay. Alerts (``ops_alerts``) are
the health rules' history: opened and closed by the alert job (``tsunagaru.ops.alert_history``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tsunagaru.store.base import Base

AP_KEY = 128


class ActivityRow(Base):
    __tablename__ = "ops_activity"

    ap_key: Mapped[str] = mapped_column(String(AP_KEY), primary_key=True)
    interval_start: Mapped[datetime] = mapped_column(primary_key=True, index=True)
    interval_s: Mapped[int] = mapped_column(Integer)
    last_request: Mapped[datetime]
    accepts: Mapped[int] = mapped_column(Integer, default=0)
    rejects: Mapped[int] = mapped_column(Integer, default=0)  # all reasons; by reason in ops_activity_reject
    challenges: Mapped[int] = mapped_column(Integer, default=0)
    status_server: Mapped[int] = mapped_column(Integer, default=0)
    acct_starts: Mapped[int] = mapped_column(Integer, default=0)
    acct_interims: Mapped[int] = mapped_column(Integer, default=0)
    acct_stops: Mapped[int] = mapped_column(Integer, default=0)
    octets_in: Mapped[int] = mapped_column(BigInteger, default=0)
    octets_out: Mapped[int] = mapped_column(BigInteger, default=0)


class ActivityRejectRow(Base):
    """Rejects of an AP in an interval by WBA Reject-Reason (0: none given)."""

    __tablename__ = "ops_activity_reject"

    ap_key: Mapped[str] = mapped_column(String(AP_KEY), primary_key=True)
    interval_start: Mapped[datetime] = mapped_column(primary_key=True, index=True)  # index: the purge
    reason: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class ActivityRealmRow(Base):
    """Requests of an AP in an interval by IdP realm (a few per AP, then 'other')."""

    __tablename__ = "ops_activity_realm"

    ap_key: Mapped[str] = mapped_column(String(AP_KEY), primary_key=True)
    interval_start: Mapped[datetime] = mapped_column(primary_key=True, index=True)
    realm: Mapped[str] = mapped_column(String(253), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class AccountingSessionRow(Base):
    """One accounting session: hashed session and user ids only, totals as last reported."""

    __tablename__ = "ops_accounting_session"

    session_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    ap_key: Mapped[str] = mapped_column(String(AP_KEY), index=True)
    user_id: Mapped[str | None] = mapped_column(String(40))
    realm: Mapped[str | None] = mapped_column(String(253))
    first_at: Mapped[datetime] = mapped_column(index=True)
    last_at: Mapped[datetime] = mapped_column(index=True)
    started: Mapped[bool] = mapped_column(Boolean, default=False)
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    octets_in: Mapped[int] = mapped_column(BigInteger, default=0)
    octets_out: Mapped[int] = mapped_column(BigInteger, default=0)
    session_time_s: Mapped[int] = mapped_column(Integer, default=0)


class UsageHourRow(Base):
    """``tsunagaru.ops.usage.UsageRow``, recomputed for an hour until its sessions have ended."""

    __tablename__ = "ops_usage_hourly"
    __table_args__ = (Index("ix_ops_usage_hourly_hour", "hour"),)

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(253), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer)
    users: Mapped[int] = mapped_column(Integer)
    octets_in: Mapped[int] = mapped_column(BigInteger)
    octets_out: Mapped[int] = mapped_column(BigInteger)
    duration_total_s: Mapped[int] = mapped_column(BigInteger)
    duration_median_s: Mapped[int] = mapped_column(Integer)


class AlertRow(Base):
    """One alert of :func:`tsunagaru.ops.health.track_alerts`: a subject in a bad state from start to end.

    ``ap_id``/``site_id`` place the subject in the registry (for scope and the AP and site pages); an
    open alert has no ``ended_at``: at most one per subject (the job keeps it so)."""

    __tablename__ = "ops_alerts"
    __table_args__ = (Index("ix_ops_alerts_open", "ended_at", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(300))  # "ap:ID", "site:ID", "idp:REALM"
    ap_id: Mapped[int | None] = mapped_column(Integer, index=True)
    site_id: Mapped[int | None] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(300), default="")
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]


class IdpPeerRow(Base):
    """One ANP node's latest view of one (realm, RadSec peer), from ``tsunagaru.ops.idp_peers``.

    Replaced every activity interval by the node's snapshot (its rows not in the snapshot are deleted), so a
    node holds at most ``anp.peer_rows`` rows; a node that stopped leaves rows that the health rule counts
    as unknown after ``idp_stale_after`` and the purge job deletes after a day. ``server_name`` is "" when
    the peer has none (part of the key, so not NULL)."""

    __tablename__ = "ops_idp_peers"

    node: Mapped[str] = mapped_column(String(80), primary_key=True)
    realm: Mapped[str] = mapped_column(String(253), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    port: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_name: Mapped[str] = mapped_column(String(253), primary_key=True)
    found: Mapped[str] = mapped_column(String(8))  # srv, static
    state: Mapped[str] = mapped_column(String(16))  # up, suspect, down, unknown
    state_since: Mapped[datetime | None]
    last_reply: Mapped[datetime | None]
    requests: Mapped[int] = mapped_column(Integer, default=0)  # in the node's last interval
    timeouts: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    interval_s: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(index=True)
