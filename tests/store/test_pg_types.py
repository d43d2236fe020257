"""What differs between the backends, checked on both: time zones (the test PostgreSQL runs in
Asia/Tokyo on purpose), JSON with Japanese text, and bulk inserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, insert, select, text

from tsunagaru.sites.scope import Principal, Role
from tsunagaru.sites.seed import seed_municipalities
from tsunagaru.store import Store
from tsunagaru.store.incident_tables import IncidentRow, active_incident_ends
from tsunagaru.store.registry_tables import Site

JST = timezone(timedelta(hours=9))
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_sessions_are_in_utc_whatever_the_server_zone(store: Store) -> None:
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "postgresql":
            assert conn.scalar(text("SHOW timezone")) == "UTC"
            server = conn.scalar(text("SELECT reset_val FROM pg_settings WHERE name = 'TimeZone'"))
            assert server == "UTC"  # our session option; the server's own default is Asia/Tokyo (pgserver)


def test_times_round_trip_as_aware_utc_and_compare_across_zones(store: Store) -> None:
    starts = datetime(2026, 12, 1, 21, 0, tzinfo=JST)  # 12:00 UTC, written in Tokyo time
    with store.session() as s:
        s.add(IncidentRow(id="i1", area={"municipalities": ["131041"], "note": "新宿区 震度6弱"}, starts_at=starts,
                          ends_at=starts + timedelta(hours=3), reason="地震", status="approved", affected=["7"],
                          declared_by="admin", declared_at=starts, updated_at=starts))
    with store.session() as s:
        row = s.get(IncidentRow, "i1")
        assert row is not None
        assert row.starts_at == NOW and row.starts_at.tzinfo is UTC
        assert row.area["note"] == "新宿区 震度6弱"
        assert active_incident_ends(s, NOW + timedelta(minutes=1)) == {"7": NOW + timedelta(hours=3)}
        assert active_incident_ends(s, NOW - timedelta(minutes=1)) == {}
    with store.engine.connect() as conn:  # plain SQL sees naive UTC too (no server-zone shift)
        assert str(conn.scalar(text("SELECT starts_at FROM ops_incidents"))).startswith("2026-12-01 12:00:00")


def test_bulk_insert_of_many_rows(store: Store) -> None:
    with store.session() as s:
        seed_municipalities(s, Principal("t", Role.CITY_ADMIN), now=NOW)
        s.execute(insert(Site), [{"name": f"サイト{i}", "category": "other", "state": "active", "municipality_code":
                                  "131041", "created_at": NOW, "updated_at": NOW} for i in range(2000)])
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Site)) == 2000
