"""Renewal before expiry: the reminder rule, the mail N days before, and the old credential ending after
the grace period (with the IdP store really refusing it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.web.enrol.conftest import PortalEnv, api_signup
from tsunagaru.idp import users
from tsunagaru.web.enrol.rules import DeviceFacts, grace_end, reminder_due, revocation_due

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _facts(i: int, expires_in: float, **kw: object) -> DeviceFacts:
    values: dict[str, object] = {"revoked_at": None, "revoke_at": None, "replaced_by": None, "reminder_sent_at": None}
    values.update(kw)
    return DeviceFacts(i, NOW + timedelta(days=expires_in), **values)  # type: ignore[arg-type]


def test_reminder_rule() -> None:
    devices = [_facts(1, 20), _facts(2, 14), _facts(3, 3), _facts(4, -1), _facts(5, 3, revoked_at=NOW),
               _facts(6, 3, replaced_by=9), _facts(7, 3, reminder_sent_at=NOW - timedelta(days=1))]
    assert reminder_due(devices, NOW, 14) == [2, 3]


def test_revocation_rule_and_grace() -> None:
    devices = [_facts(1, 30, revoke_at=NOW), _facts(2, 30, revoke_at=NOW + timedelta(seconds=1)), _facts(3, 0),
               _facts(4, -5, revoked_at=NOW - timedelta(days=5)), _facts(5, 30)]
    assert revocation_due(devices, NOW) == [1, 3]
    assert grace_end(NOW, NOW + timedelta(days=3), timedelta(days=7)) == NOW + timedelta(days=3)
    assert grace_end(NOW, NOW + timedelta(days=30), timedelta(days=7)) == NOW + timedelta(days=7)


def test_reminder_mail_renew_and_grace_end(client: TestClient, penv: PortalEnv) -> None:
    auth = {"Authorization": f"Bearer {api_signup(client, penv, 'renew@example.org', 'ja')}"}
    old = client.post("/api/v1/enrol/devices", json={"platform": "ios", "method": "ttls", "name": "私の iPhone"},
                      headers=auth).json()
    limits = penv.portal.service.limits
    penv.clock.advance(timedelta(days=limits.device_days - limits.reminder_days + 1))
    assert penv.portal.service.sweep(penv.clock()) == (0, 1)
    assert penv.portal.service.sweep(penv.clock()) == (0, 0)  # one reminder, not one per sweep
    mail = penv.mails_to("renew@example.org")[-1]
    assert "つながる Wi-Fi 認証情報の更新" in str(mail["Subject"])
    assert "私の iPhone" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    auth = {"Authorization": f"Bearer {api_signup(client, penv, 'renew@example.org', 'ja')}"}
    r = client.post(f"/api/v1/enrol/devices/{old['id']}/renew", headers=auth)
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["username"] != old["username"] and new["password"] != old["password"]
    assert _err_code(client.post(f"/api/v1/enrol/devices/{old['id']}/renew", headers=auth)) == "device_revoked"
    with penv.store.session() as s:  # both work during the grace period
        assert users.get_user(s, old["username"]).enabled and users.get_user(s, new["username"]).enabled
    penv.clock.advance(limits.grace + timedelta(minutes=1))
    ended, _ = penv.portal.service.sweep(penv.clock())
    assert ended == 1
    with penv.store.session() as s:
        assert not users.get_user(s, old["username"]).enabled and users.get_user(s, new["username"]).enabled
    auth = {"Authorization": f"Bearer {api_signup(client, penv, 'renew@example.org', 'ja')}"}
    listed = {d["id"]: d for d in client.get("/api/v1/enrol/devices", headers=auth).json()["items"]}
    assert listed[old["id"]]["revoked_at"] is not None and listed[old["id"]]["replaced_by"] == new["id"]
    assert listed[new["id"]]["name"] == "私の iPhone"


def _err_code(r: object) -> str:
    return str(r.json()["error"]["code"])  # type: ignore[attr-defined]
