"""Change counters: one row per topic, bumped by database triggers whenever what the topic covers changes.

Every ANP and IdP node caches something it reads from the store (the ANP its RADIUS clients, the IdP
its users and certificates for up to 30 s). They learn of a change made anywhere (the web app, the CLI,
another node, plain SQL) from these counters: triggers installed by migration ``0005_change_feed`` bump
``serial`` in the same transaction as the change (so a counter never moves before the change is
visible), and on PostgreSQL also ``pg_notify('tsunagaru_changes', topic)``, delivered at commit. A
reader compares the serials it saw with the current ones (polling, the fallback and SQLite's only way)
or wakes on the notification (:mod:`tsunagaru.store.changes`). Triggers rather than service calls, so no
writer can forget; statement-level on PostgreSQL, so a bulk import bumps a counter once per statement.

Topics: ``clients`` (APs' RADIUS identity and state, their sites, incidents: what the ANP's clients are
made of) and ``credentials`` (IdP users and certificates). Columns that change on every AP poll (the
config report columns of ``reg_aps``) are left out, or 20,000 polling APs would reload every ANP
several times a second.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Connection, String, select
from sqlalchemy.orm import Mapped, mapped_column

from tsunagaru.store.base import Base

CHANNEL = "tsunagaru_changes"
CLIENTS = "clients"
CREDENTIALS = "credentials"
TOPICS = (CLIENTS, CREDENTIALS)


class ChangeCounter(Base):
    __tablename__ = "store_changes"

    topic: Mapped[str] = mapped_column(String(32), primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger)


def read_serials(conn: Connection) -> dict[str, int]:
    """Topic -> serial, as now committed."""
    return {topic: int(serial) for topic, serial in conn.execute(select(ChangeCounter.topic, ChangeCounter.serial))}
