"""Change counters on SQLite and a real PostgreSQL: what bumps them (and what must not), the feed that
follows them (NOTIFY on PostgreSQL, polling on SQLite), and the migration's downgrade."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tsunagaru.idp import users
from tsunagaru.sites import service
from tsunagaru.sites.ap_service import record_config_served, record_status
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.sites.seed import seed_municipalities
from tsunagaru.store import Store
from tsunagaru.store.change_tables import CLIENTS, CREDENTIALS, read_serials
from tsunagaru.store.changes import ChangeFeed, SerialTracker
from tsunagaru.store.migrate import current, downgrade, head, upgrade

ADMIN = Principal("test", Role.CITY_ADMIN)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def serials(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return read_serials(conn)


def test_the_tracker_reports_what_moved() -> None:
    t = SerialTracker((CLIENTS, CREDENTIALS))
    assert t.update({CLIENTS: 1, CREDENTIALS: 5}) == []  # the first look only learns
    assert t.update({CLIENTS: 1, CREDENTIALS: 5}) == []
    assert t.update({CLIENTS: 2, CREDENTIALS: 5}) == [CLIENTS]
    assert SerialTracker((CLIENTS,), fire_first=True).update({}) == [CLIENTS]


def test_registry_and_incident_changes_bump_clients_but_ap_polls_do_not(store: Store) -> None:
    base = serials(store)
    with store.session() as s:
        seed_municipalities(s, ADMIN, now=NOW)
        site = service.create_site(s, ADMIN, {"name": "都庁", "municipality_code": "131041"}, now=NOW)
    assert serials(store)[CLIENTS] == base[CLIENTS]  # municipalities and a new site (no APs) change no client
    with store.session() as s:
        ap = service.create_ap(s, ADMIN, {"site_id": site.id, "name": "ap-1", "nas_network": "127.0.1.9/32",
                                          "secret_ref": "file:x"}, now=NOW)
    after_add = serials(store)[CLIENTS]
    assert after_add > base[CLIENTS]
    with store.session() as s:  # what 20,000 polling APs do every minute must not reload every ANP
        record_config_served(s, ap.id, '"v1"', now=NOW)
        record_status(s, ap.id, '"v1"', "applied", "ok", now=NOW)
    assert serials(store)[CLIENTS] == after_add
    with store.session() as s:
        service.update_ap(s, ADMIN, ap.id, {"nas_network": "127.0.1.10/32"}, now=NOW)
    after_update = serials(store)[CLIENTS]
    assert after_update > after_add
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO ops_incidents (id, area, starts_at, ends_at, reason, status, affected, "
                          "declared_by, declared_at, updated_at) VALUES ('i1', '{}', :t, :e, 'test', 'approved', "
                          "'[]', 'x', :t, :t)"), {"t": NOW.replace(tzinfo=None),
                                                 "e": (NOW + timedelta(hours=1)).replace(tzinfo=None)})
    after_incident = serials(store)[CLIENTS]
    assert after_incident > after_update
    with store.session() as s:
        service.delete_ap(s, ADMIN, ap.id, now=NOW)
    assert serials(store)[CLIENTS] > after_incident
    assert serials(store)[CREDENTIALS] == base[CREDENTIALS]


def test_user_changes_bump_credentials(store: Store) -> None:
    base = serials(store)[CREDENTIALS]
    with store.session() as s:
        users.add_user(s, "bob", now=NOW, password="pw-pw-pw-pw", realm="r.example")
    added = serials(store)[CREDENTIALS]
    assert added > base
    with store.session() as s:
        users.disable_user(s, "bob", now=NOW)
    assert serials(store)[CREDENTIALS] > added


def test_a_failed_transaction_bumps_nothing(store: Store) -> None:
    base = serials(store)
    with pytest.raises(RuntimeError), store.session() as s:
        users.add_user(s, "carol", now=NOW, password="pw-pw-pw-pw", realm="r.example")
        s.flush()
        raise RuntimeError("rolled back")
    assert serials(store) == base


def test_the_feed_calls_back_when_a_counter_moves(store: Store) -> None:
    """On PostgreSQL the poll is a minute, so only the NOTIFY can wake the feed within the wait below."""
    seen: list[str] = []
    moved = threading.Event()

    def on_change(topic: str) -> None:
        seen.append(topic)
        moved.set()

    pg = store.engine.dialect.name == "postgresql"
    feed = ChangeFeed(store.engine, on_change, (CREDENTIALS,), poll=60.0 if pg else 0.2, name="test")
    feed.start()
    try:
        if pg:  # the listening connection is up once the feed has waited a first slice
            for _ in range(100):
                if feed.wakeups or moved.wait(0.05):
                    break
        with store.session() as s:
            users.add_user(s, "dave", now=NOW, password="pw-pw-pw-pw", realm="r.example")
        assert moved.wait(30), "the feed did not see the change"
        assert seen == [CREDENTIALS]
        if pg:
            assert feed.wakeups >= 1
    finally:
        feed.stop()


def test_change_feed_downgrade_and_upgrade_again(store: Store) -> None:
    assert downgrade(store.engine, "0004_incidents") == "0004_incidents"
    with store.session() as s:  # the triggers went with the table: writes still work
        users.add_user(s, "erin", now=NOW, password="pw-pw-pw-pw", realm="r.example")
    assert upgrade(store.engine) == head() == current(store.engine)
    base = serials(store)[CREDENTIALS]
    with store.session() as s:
        users.disable_user(s, "erin", now=NOW)
    assert serials(store)[CREDENTIALS] > base
