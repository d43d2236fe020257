"""Fixtures for the web tests: a migrated SQLite store with the seed, the real app, and a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.store_backends import backend_url, pg_server  # noqa: F401 (pg_server: a fixture)
from tests.web.seed import PASSWORD, Seeded, seed
from tsunagaru.store import Store
from tsunagaru.web import WebSettings, create_app

OPERATOR_TOML = Path(__file__).with_name("operator.toml")


def settings_for(tmp: Path, **overrides: object) -> WebSettings:
    secrets = tmp / "secrets"
    secrets.mkdir(exist_ok=True)
    (secrets / "ap-secret").write_text("a-long-ap-radius-secret-0123\n")
    values: dict[str, object] = {"db_url": f"sqlite:///{tmp / 'web.sqlite'}", "passpoint": OPERATOR_TOML,
                                 "secrets_dir": secrets, "login_attempts": 5}
    values.update(overrides)
    return WebSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def seeded_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Seeded, WebSettings]]:
    with backend_url(request, tmp_path / "web.sqlite") as url:  # TSUNAGARU_TEST_DB=postgresql: a real PostgreSQL
        settings = settings_for(tmp_path, db_url=url)
        store = Store.open(settings.db_url)
        with store.session() as db:
            seeded = seed(db)
        yield store, seeded, settings
        store.dispose()


@pytest.fixture
def app_client(seeded_store: tuple[Store, Seeded, WebSettings]) -> Iterator[tuple[TestClient, Seeded]]:
    store, seeded, settings = seeded_store
    with TestClient(create_app(settings, store), base_url="http://127.0.0.1") as client:
        yield client, seeded


def token_for(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}
