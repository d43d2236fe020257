from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import token_for
from tests.web.seed import Seeded


def test_token_and_sites(app_client: tuple[TestClient, Seeded]) -> None:
    client, _seeded = app_client
    h = token_for(client, "admin")
    r = client.get("/api/v1/sites?municipality=131041&limit=10&offset=0", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1
    assert set(body["items"][0]) >= {"id", "name", "name_en", "municipality_code", "lat", "lon", "category", "state"}
