"""The ANP's clients from the registry's store: rows to clients, bad rows left out (the rest load), a
store that cannot be read keeps the running clients, the file's clients win, incident boundaries."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from tsunagaru.anp.config import ConfigError, parse
from tsunagaru.anp.registry_clients import RegistryFollower, load_clients, next_boundary
from tsunagaru.sites import service
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.sites.seed import seed_municipalities
from tsunagaru.store import Store
from tsunagaru.store.incident_tables import IncidentRow
from tsunagaru.store.registry_tables import AccessPoint

ADMIN = Principal("test", Role.CITY_ADMIN)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FILE = """
[anp]
clients_db = "{db}"
clients_secrets = "{secrets}"
clients_poll = 0.5

[[clients]]
name = "static"
network = "127.0.0.1/32"
secret = "file-secret"
"""


@pytest.fixture
def registry(tmp_path: Path) -> tuple[Store, Path, int]:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "good").write_text("good-secret\n")
    store = Store.open(f"sqlite:///{tmp_path / 'r.sqlite'}")
    with store.session() as s:
        seed_municipalities(s, ADMIN, now=NOW)
        site = service.create_site(s, ADMIN, {"name": "新宿区役所", "municipality_code": "131041",
                                              "address": "東京都新宿区歌舞伎町1-4-1"}, now=NOW)
        ap = service.create_ap(s, ADMIN, {"site_id": site.id, "name": "a", "nas_network": "127.0.1.5",
                                          "nas_identifier": "ap.5", "secret_ref": "file:good"}, now=NOW)
        service.create_ap(s, ADMIN, {"site_id": site.id, "name": "b", "nas_network": "127.0.1.6",
                                     "secret_ref": "file:missing"}, now=NOW)
        # a row no service would write (plain SQL, another tool): it must not take the others with it
        s.execute(insert(AccessPoint).values(site_id=site.id, name="c", platform="other", radios=[], bssids=[],
                                             nas_network="not-a-network", secret_ref="file:good", state="active",
                                             created_at=NOW, updated_at=NOW))
    yield store, secrets, ap.id
    store.dispose()


def test_rows_become_clients_and_bad_rows_are_left_out(registry: tuple[Store, Path, int]) -> None:
    store, secrets, ap_id = registry
    clients, skipped = load_clients(store, secrets, NOW)
    assert [c.name for c in clients] == [f"ap-{ap_id}"]
    (client,) = clients
    assert client.secret == b"good-secret" and str(client.network) == "127.0.1.5/32"
    assert client.nas_identifier is not None and client.nas_identifier.fullmatch("ap.5")
    assert not client.nas_identifier.fullmatch("apx5")  # the registry's name, not a pattern
    assert client.location is not None and "新宿区".encode() in (client.location[1] or b"")
    assert client.disaster_until is None and client.require_message_authenticator
    assert len(skipped) == 2 and all("secret" not in reason or "missing" in reason for reason in skipped)
    assert not any("good-secret" in reason for reason in skipped)


def test_an_incident_gives_disaster_until_and_no_rate_limit_and_its_boundaries(
    registry: tuple[Store, Path, int],
) -> None:
    store, secrets, ap_id = registry
    start, end = NOW + timedelta(minutes=10), NOW + timedelta(hours=2)
    with store.session() as s:
        s.add(IncidentRow(id="q", area={}, starts_at=start, ends_at=end, reason="地震", status="approved",
                          affected=[str(ap_id)], declared_by="t", declared_at=NOW, updated_at=NOW))
    assert next_boundary(store, NOW) == start
    assert next_boundary(store, start) == end
    assert next_boundary(store, end) is None
    (before,), _ = load_clients(store, secrets, NOW)
    (during,), _ = load_clients(store, secrets, start + timedelta(seconds=1))
    assert before.disaster_until is None and before.rate_per_second == 200
    assert during.disaster_until == end.timestamp() and during.rate_per_second >= 1e6


def test_the_follower_merges_keeps_clients_when_the_store_fails_and_follows_changes(
    registry: tuple[Store, Path, int], tmp_path: Path,
) -> None:
    store, secrets, ap_id = registry
    cfg = parse(FILE.format(db=store.engine.url.render_as_string(hide_password=False), secrets=secrets))
    follower = RegistryFollower(cfg, clock=lambda: NOW)
    assert follower.load_now()
    assert [c.name for c in follower.merged().clients] == ["static", f"ap-{ap_id}"]
    same_name = dataclasses.replace(cfg.clients[0], name=f"ap-{ap_id}")
    clash = follower.merged(dataclasses.replace(cfg, clients=(same_name,)))
    assert [c.secret for c in clash.clients] == [b"file-secret"]  # the file's client wins a name
    follower.base = cfg
    follower.store.dispose()
    follower.store = Store.open(f"sqlite:///{tmp_path / 'nope' / 'gone.sqlite'}", create=False)
    assert not follower.load_now()  # no such tables: refused, the clients loaded before stay
    assert follower.clients and follower.loaded
    follower.store.dispose()

    installed: list[int] = []
    done = threading.Event()

    async def follow() -> None:
        live = RegistryFollower(cfg, clock=lambda: datetime.now(UTC))
        live.load_now()
        loop = asyncio.get_running_loop()

        def install(new: object) -> None:
            installed.append(len(new.clients))  # type: ignore[attr-defined]
            done.set()

        live.start(loop, install)
        try:
            with store.session() as s:
                service.delete_ap(s, ADMIN, ap_id)
            for _ in range(300):
                if done.is_set():
                    break
                await asyncio.sleep(0.05)
        finally:
            await asyncio.to_thread(live.stop)

    asyncio.run(follow())
    assert installed == [1]  # only the file's client is left


def test_clients_db_needs_a_secrets_folder_and_may_stand_alone() -> None:
    with pytest.raises(ConfigError, match="clients_secrets"):
        parse('[anp]\nclients_db = "sqlite:///x.sqlite"\n')
    cfg = parse('[anp]\nclients_db = "sqlite:///x.sqlite"\nclients_secrets = "s"\n', base=Path("/etc/t"))
    assert cfg.clients == () and cfg.clients_secrets == Path("/etc/t/s") and cfg.clients_poll == 10
    with pytest.raises(ConfigError, match="no RADIUS clients"):
        parse("[anp]\n")
