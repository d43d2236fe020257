"""The incidents table (disaster mode): one row per incident, its area as the API's JSON and its AP ids.

The row is the stored form of :class:`tsunagaru.ops.incidents.Incident` (``incidents_store`` converts);
the affected AP ids are fixed when a city admin declares or approves, so ending an incident restores
exactly the APs it changed even when the registry changed meanwhile. ``municipality_code`` is the
requester's municipality (for a municipality operator's scope), ``None`` for city-wide incidents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tsunagaru.store.base import Base


class IncidentRow(Base):
    __tablename__ = "ops_incidents"
    __table_args__ = (Index("ix_ops_incidents_live", "status", "ends_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    area: Mapped[dict[str, Any]] = mapped_column(JSON)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # requested, approved, rejected, ended
    affected: Mapped[list[str]] = mapped_column(JSON)
    municipality_code: Mapped[str | None] = mapped_column(String(6), index=True)
    declared_by: Mapped[str] = mapped_column(String(200))
    declared_at: Mapped[datetime]
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


def active_incident_aps(session: Session, now: datetime) -> frozenset[str]:
    """The ids of the APs in an incident active at ``now`` (approved, started, not ended): for the ANP export."""
    return frozenset(active_incident_ends(session, now))


def active_incident_ends(session: Session, now: datetime) -> dict[str, datetime]:
    """AP id -> the latest end of the incidents active at ``now`` it is in: the disaster credential's window."""
    rows = session.execute(select(IncidentRow.affected, IncidentRow.ends_at).where(
        IncidentRow.status == "approved", IncidentRow.starts_at <= now, IncidentRow.ends_at > now))
    ends: dict[str, datetime] = {}
    for affected, ends_at in rows:
        for ap in affected:
            ends[ap] = max(ends_at, ends.get(ap, ends_at))
    return ends
