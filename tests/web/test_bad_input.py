"""Bad input gets a typed error (in the caller's language) and nothing is stored."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web.conftest import token_for
from tests.web.seed import SHINJUKU, Seeded
from tsunagaru.store.registry_tables import Site


def _sites(client: TestClient) -> int:
    with client.app.state.ctx.store.session() as db:  # type: ignore[attr-defined]
        return db.scalar(select(func.count()).select_from(Site)) or 0


def test_api_errors_are_typed(app_client: tuple[TestClient, Seeded]) -> None:
    client, _seeded = app_client
    h = token_for(client, "admin")
    before = _sites(client)
    r = client.post("/api/v1/sites", headers=h | {"Content-Type": "application/json"}, content=b'{"name": ')
    assert r.status_code == 422 and r.json()["error"]["code"] == "malformed_json"
    r = client.post("/api/v1/sites", headers=h, json={"name": 12, "lat": "north"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"
    assert "body.lat" in r.json()["error"]["fields"]
    r = client.post("/api/v1/sites", headers=h, json={"name": "x", "municipality_code": "999999"})
    assert r.status_code == 422 and r.json()["error"]["fields"] == ["municipality_code"]
    r = client.post("/api/v1/sites", headers=h, json={"name": "x", "lat": 10.0, "lon": 139.0})  # outside Japan
    assert r.status_code == 422 and r.json()["error"]["fields"] == ["lat"]
    r = client.post("/api/v1/sites", headers=h, content=b"x" * (2 << 20))
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    r = client.get("/api/v1/sites?limit=100000", headers=h)
    assert r.status_code == 422
    assert _sites(client) == before


def test_errors_speak_the_callers_language(app_client: tuple[TestClient, Seeded]) -> None:
    client, _ = app_client
    ja = client.get("/api/v1/sites")
    en = client.get("/api/v1/sites", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert ja.status_code == en.status_code == 401
    assert ja.json()["error"]["code"] == en.json()["error"]["code"] == "unauthenticated"
    assert re.search(r"[\u3040-\u30ff]", ja.json()["error"]["message"])
    assert en.json()["error"]["message"] == "Sign in or send a valid token."
    assert ja.headers["www-authenticate"] == "Bearer"


def test_duplicates_conflict(app_client: tuple[TestClient, Seeded]) -> None:
    client, _ = app_client
    h = token_for(client, "admin")
    body = {"username": "dup-user", "password": "long-enough-pw", "role": "viewer"}
    assert client.post("/api/v1/users", headers=h, json=body).status_code == 201
    r = client.post("/api/v1/users", headers=h, json=body)
    assert r.status_code == 409 and r.json()["error"]["fields"] == ["username"]
    r = client.post("/api/v1/tenants", headers=h, json={"name": "公衆電話事業者"})
    assert r.status_code == 409


def test_expired_and_unknown_tokens(app_client: tuple[TestClient, Seeded]) -> None:
    client, _ = app_client
    h = token_for(client, "viewer")
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    real_now = ctx.now
    try:
        later = real_now() + __import__("datetime").timedelta(days=ctx.settings.token_days + 1)
        ctx.now = lambda: later
        r = client.get("/api/v1/sites", headers=h)
        assert r.status_code == 401 and r.json()["error"]["code"] == "bad_token"
    finally:
        ctx.now = real_now
    r = client.get("/api/v1/sites", headers={"Authorization": "Bearer tsg_nope"})
    assert r.status_code == 401


def test_page_form_errors_in_japanese_and_nothing_stored(app_client: tuple[TestClient, Seeded]) -> None:
    client, _ = app_client
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert csrf
    r = client.post("/login", data={"username": "shinjuku", "password": "correct-horse-battery",
                                    "csrf_token": csrf.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    before = _sites(client)
    form = client.get("/sites/new").text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form)
    assert token
    r = client.post("/sites/new", data={"name": "境界の外", "municipality_code": "131016", "lat": "35.0",
                                        "lon": "139.7", "csrf_token": token.group(1)})
    assert r.status_code == 422
    assert "項目" in r.text or "ロール" in r.text  # a Japanese message, not a traceback
    r = client.post("/sites/new", data={"name": "緯度なし", "municipality_code": SHINJUKU, "lat": "abc", "lon": "",
                                        "csrf_token": token.group(1)})
    assert r.status_code == 422 and "緯度" in r.text
    assert _sites(client) == before


def test_forms_need_the_csrf_token(app_client: tuple[TestClient, Seeded]) -> None:
    client, _ = app_client
    client.get("/login")
    r = client.post("/login", data={"username": "admin", "password": "correct-horse-battery"},
                    headers={"Accept": "text/html"})
    assert r.status_code == 403
    r = client.post("/login", data={"username": "admin", "password": "correct-horse-battery",
                                    "csrf_token": "0" * 64})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
