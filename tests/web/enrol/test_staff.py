"""City staff in the portal: find by e-mail, revoke a device, disable a person; audited; city admins only.
Runs in the one web app (create_app) with the web helpers' seed users and sign-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import token_for
from tests.web.enrol.conftest import REALM, Clock, PortalEnv, api_signup, make_state
from tests.web.seed import PASSWORD, Seeded
from tsunagaru.idp import users
from tsunagaru.store import Store
from tsunagaru.store.registry_tables import AuditEntry
from tsunagaru.web import WebSettings, create_app
from tsunagaru.web.enrol.mail import OutboxSink, SmtpSettings
from tsunagaru.web.enrol.router import install
from tsunagaru.web.enrol.setup import portal_from_state


@pytest.fixture
def staff_env(seeded_store: tuple[Store, Seeded, WebSettings], tmp_path: Path) -> Iterator[tuple[TestClient,
                                                                                                   PortalEnv]]:
    store, _seeded, settings = seeded_store
    clock = Clock()
    state = make_state(tmp_path / "state", clock.now)
    sink = OutboxSink(state / "outbox").start()
    portal = portal_from_state(state, store, realm=REALM, secret=settings.secret_key, smtp=SmtpSettings(port=sink.port))
    portal.now = clock
    app = create_app(settings, store)
    install(app, portal)
    try:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            yield client, PortalEnv(state, store, sink, portal, app, clock)
    finally:
        sink.stop()


def test_staff_find_revoke_disable_audited(staff_env: tuple[TestClient, PortalEnv]) -> None:
    client, penv = staff_env
    person = {"Authorization": f"Bearer {api_signup(client, penv, 'resident@example.org', 'ja')}"}
    d1 = client.post("/api/v1/enrol/devices", json={"platform": "ios", "method": "ttls"}, headers=person).json()
    d2 = client.post("/api/v1/enrol/devices", json={"platform": "android", "method": "tls"}, headers=person).json()
    admin = token_for(client, "admin")
    found = client.get("/api/v1/enrol/staff/accounts", params={"email": "Resident@Example.org"}, headers=admin)
    assert found.status_code == 200 and [d["id"] for d in found.json()["devices"]] == [d1["id"], d2["id"]]
    assert client.post(f"/api/v1/enrol/staff/devices/{d1['id']}/revoke", headers=admin).status_code == 200
    with penv.store.session() as s:
        assert not users.get_user(s, d1["username"]).enabled
    account_id = found.json()["id"]
    r = client.post(f"/api/v1/enrol/staff/accounts/{account_id}/disable", headers=admin)
    assert r.status_code == 200 and r.json()["enabled"] is False
    with penv.store.session() as s:
        assert not users.get_user(s, d2["username"]).enabled
        assert users.list_certificates(s, d2["username"])[0].revoked_at is not None
        actions = [(a.actor, a.action, a.before is not None) for a in s.query(AuditEntry).filter(
            AuditEntry.action.like("enrol.%")).order_by(AuditEntry.id)]
    assert actions == [("admin", "enrol.device.revoke", True), ("admin", "enrol.account.disable", True)]
    # the person is refused everywhere, in their language
    r = client.get("/api/v1/enrol/devices", headers=person)
    assert r.status_code == 401  # their tokens were dropped
    r = client.post("/api/v1/enrol/start", json={"email": "resident@example.org", "lang": "ja"})
    assert r.status_code == 403 and r.json()["error"]["message"].startswith("このアカウントは市によって停止")


@pytest.mark.parametrize("role", ["municipality-operator", "site-operator", "viewer", "auditor"])
def test_only_city_admins_are_staff(staff_env: tuple[TestClient, PortalEnv], role: str) -> None:
    client, penv = staff_env
    person = {"Authorization": f"Bearer {api_signup(client, penv, 'other@example.org')}"}
    device = client.post("/api/v1/enrol/devices", json={"platform": "ios", "method": "ttls"}, headers=person).json()
    names = {"municipality-operator": "shinjuku", "site-operator": "booth", "viewer": "viewer", "auditor": "auditor"}
    who = token_for(client, names[role])
    assert client.get("/api/v1/enrol/staff/accounts", params={"email": "other@example.org"},
                      headers=who).status_code == 403
    assert client.post(f"/api/v1/enrol/staff/devices/{device['id']}/revoke", headers=who).status_code == 403
    with penv.store.session() as s:
        assert users.get_user(s, device["username"]).enabled


def test_staff_page_with_session_and_csrf(staff_env: tuple[TestClient, PortalEnv]) -> None:
    client, penv = staff_env
    person = {"Authorization": f"Bearer {api_signup(client, penv, 'page@example.org')}"}
    device = client.post("/api/v1/enrol/devices", json={"platform": "ios", "method": "ttls"}, headers=person).json()
    login = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert csrf, login.text[:500]
    r = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf.group(1)},
                    follow_redirects=False)
    assert r.status_code in (302, 303), r.text[:300]
    page = client.get("/enrol/staff", params={"email": "page@example.org"})
    assert page.status_code == 200 and device["username"] in page.text and 'lang="ja"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    forged = client.post(f"/enrol/staff/devices/{device['id']}/revoke", data={"csrf_token": "x"},
                         follow_redirects=False)
    assert forged.status_code == 403
    done = client.post(f"/enrol/staff/devices/{device['id']}/revoke", data={"csrf_token": token.group(1)},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("done=revoked")
    with penv.store.session() as s:
        assert not users.get_user(s, device["username"]).enabled

