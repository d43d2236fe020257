"""Headers, cookies, login rate limits, TOTP."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
from fastapi.testclient import TestClient

from tests.web.seed import PASSWORD, Seeded


def _csrf(client: TestClient, path: str = "/login") -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get(path).text)
    assert found
    return found.group(1)


def test_security_headers_everywhere(app_client: tuple[TestClient, Seeded]) -> None:
    client, _ = app_client
    for path in ("/", "/login", "/api/v1/sites", "/api/v1/openapi.json", "/static/tsunagaru.css"):
        r = client.get(path)
        assert "default-src 'self'" in r.headers["content-security-policy"], path
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"


def test_cookies_are_httponly_lax(app_client: tuple[TestClient, Seeded]) -> None:
    client, _ = app_client
    r = client.get("/login")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # plain http here
    r = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": _csrf(client)},
                    follow_redirects=False)
    session = next(c for c in r.headers.get_list("set-cookie") if c.startswith("tsg_session=")).lower()
    assert "httponly" in session and "samesite=lax" in session


def test_login_is_rate_limited(app_client: tuple[TestClient, Seeded]) -> None:
    client, _ = app_client
    codes = [client.post("/api/v1/auth/token", json={"username": "viewer", "password": "wrong-password"}).status_code
             for _ in range(6)]
    assert codes == [401] * 5 + [429]
    r = client.post("/api/v1/auth/token", json={"username": "viewer", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"


def test_open_redirects_are_refused(app_client: tuple[TestClient, Seeded]) -> None:
    client, _ = app_client
    r = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": _csrf(client),
                                    "next": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_totp(app_client: tuple[TestClient, Seeded]) -> None:
    client, _ = app_client
    client.post("/login", data={"username": "auditor", "password": PASSWORD, "csrf_token": _csrf(client)})
    page = client.get("/account").text
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page)
    assert secret
    r = client.post("/account/totp", data={"secret": secret.group(1), "code": pyotp.TOTP(secret.group(1)).now(),
                                           "csrf_token": _csrf(client, "/account")})
    assert r.status_code == 200
    assert client.post("/api/v1/auth/token", json={"username": "auditor", "password": PASSWORD}).status_code == 401
    r = client.post("/api/v1/auth/token", json={"username": "auditor", "password": PASSWORD,
                                                "otp": pyotp.TOTP(secret.group(1)).now()})
    assert r.status_code == 200


def test_a_configured_tile_server_is_allowed_to_serve_images(tmp_path: Path) -> None:
    """img-src gains the tile server's origin (and only that) when web.tile_url names one; none by default."""
    from tests.web.conftest import settings_for
    from tsunagaru.web import create_app
    from tsunagaru.web.security import CSP, csp, tile_origin

    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    assert tile_origin("https://tiles.city.example:8443/a/{z}/{x}/{y}.png") == "https://tiles.city.example:8443"
    assert tile_origin("https://x.example'; script-src *;/{z}") is None and csp("javascript:x") == CSP
    settings = settings_for(tmp_path, tile_url="https://tiles.city.example/{z}/{x}/{y}.png")
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        policy = client.get("/login").headers["content-security-policy"]
    assert "img-src 'self' data: https://tiles.city.example;" in policy
    assert "script-src 'self';" in policy and "connect-src 'self';" in policy
    with TestClient(create_app(settings_for(tmp_path)), base_url="http://127.0.0.1") as client:
        assert client.get("/login").headers["content-security-policy"] == CSP
