"""Incidents through the API on the real app and a migrated store: the demo contract's paths, the effect on
the pulled config (00000JAPAN and a new ETag, then the previous config back), requests and approval,
extension, the audit trail, scope, and bad input answered with typed errors and nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web.conftest import token_for
from tests.web.seed import CHIYODA, SHINJUKU, Seeded
from tsunagaru.store.incident_tables import IncidentRow
from tsunagaru.store.registry_tables import AuditEntry


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def env(app_client: tuple[TestClient, Seeded]) -> tuple[TestClient, Seeded, Clock]:
    client, seeded = app_client
    clock = Clock()
    client.app.state.ctx.now = clock  # type: ignore[attr-defined]
    return client, seeded, clock


def config(client: TestClient, seeded: Seeded, ap: int) -> tuple[str, str]:
    r = client.get(f"/api/v1/aps/{ap}/config", headers={"Authorization": f"Bearer {seeded.ap_tokens[ap]}"})
    assert r.status_code == 200, r.text
    return r.headers["etag"], r.text


def count(client: TestClient, model: type) -> int:
    with client.app.state.ctx.store.session() as db:  # type: ignore[attr-defined]
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_declare_changes_config_of_the_area_only_and_end_restores(env: tuple[TestClient, Seeded, Clock]) -> None:
    client, seeded, clock = env
    admin = token_for(client, "admin")
    before_tag, before = config(client, seeded, seeded.shinjuku_ap)
    other_tag, _ = config(client, seeded, seeded.chiyoda_ap)
    assert "00000JAPAN" not in before
    r = client.post("/api/v1/incidents", headers=admin, json={
        "area": {"municipalities": [SHINJUKU]}, "ends_at": iso(clock.now + timedelta(hours=6)), "reason": "地震 M7"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["affected_aps"] == [str(seeded.shinjuku_ap)] and body["phase"] == "active"
    tag, during = config(client, seeded, seeded.shinjuku_ap)
    assert tag != before_tag and "ssid=00000JAPAN" in during
    assert during.index("ssid=00000JAPAN") > during.index("ssid=")  # secondary BSS, OpenRoaming stays first
    assert config(client, seeded, seeded.chiyoda_ap)[0] == other_tag  # outside the area: unchanged
    got = client.get(f"/api/v1/incidents/{body['id']}", headers=admin).json()
    assert got["sites"][0]["id"] == seeded.shinjuku_site
    r = client.post(f"/api/v1/incidents/{body['id']}/end", headers=admin)
    assert r.status_code == 200 and r.json()["phase"] == "ended"
    assert config(client, seeded, seeded.shinjuku_ap) == (before_tag, before)
    actions = [a["action"] for a in client.get("/api/v1/audit?limit=10", headers=admin).json()["items"]]
    assert actions[:2] == ["incident.end", "incident.declare"]


def test_end_time_passing_restores_the_plan_by_itself(env: tuple[TestClient, Seeded, Clock]) -> None:
    client, seeded, clock = env
    admin = token_for(client, "admin")
    before = config(client, seeded, seeded.shinjuku_ap)
    r = client.post("/api/v1/incidents", headers=admin, json={
        "area": {"circle": {"lat": 35.6938, "lon": 139.7034, "radius_m": 300}},
        "ends_at": iso(clock.now + timedelta(minutes=30)), "reason": "停電"})
    assert r.status_code == 201, r.text
    assert "00000JAPAN" in config(client, seeded, seeded.shinjuku_ap)[1]
    clock.now += timedelta(minutes=31)
    assert config(client, seeded, seeded.shinjuku_ap) == before
    assert client.get(f"/api/v1/incidents/{r.json()['id']}", headers=admin).json()["phase"] == "ended"


def test_request_by_municipality_operator_then_approval_and_extension(env: tuple[TestClient, Seeded, Clock]) -> None:
    client, seeded, clock = env
    admin, ward = token_for(client, "admin"), token_for(client, "shinjuku")
    body = {"area": {"municipalities": [SHINJUKU]}, "ends_at": iso(clock.now + timedelta(hours=12)), "reason": "断水"}
    r = client.post("/api/v1/incidents", headers=ward, json=body)
    assert r.status_code == 201 and r.json()["phase"] == "requested", r.text
    incident = r.json()["id"]
    assert "00000JAPAN" not in config(client, seeded, seeded.shinjuku_ap)[1]  # a request changes nothing
    other = dict(body, area={"municipalities": [CHIYODA]})
    assert client.post("/api/v1/incidents", headers=ward, json=other).status_code == 403  # not its ward
    assert client.post(f"/api/v1/incidents/{incident}/approve", headers=ward).status_code == 403
    r = client.post(f"/api/v1/incidents/{incident}/approve", headers=admin)
    assert r.status_code == 200 and r.json()["phase"] == "active", r.text
    assert "00000JAPAN" in config(client, seeded, seeded.shinjuku_ap)[1]
    too_far = client.post(f"/api/v1/incidents/{incident}/extend", headers=admin,
                          json={"ends_at": iso(clock.now + timedelta(hours=73))})
    assert too_far.status_code == 422 and too_far.json()["error"]["code"] == "end-beyond-72h"
    r = client.post(f"/api/v1/incidents/{incident}/extend", headers=admin,
                    json={"ends_at": iso(clock.now + timedelta(hours=48))})
    assert r.status_code == 200, r.text
    assert "X-Tsunagaru-Disaster-Until".lower() in {k.lower() for k in client.get(
        f"/api/v1/aps/{seeded.shinjuku_ap}/config",
        headers={"Authorization": f"Bearer {seeded.ap_tokens[seeded.shinjuku_ap]}"}).headers}
    actions = [a["action"] for a in client.get("/api/v1/audit?limit=10", headers=admin).json()["items"]]
    assert actions[:3] == ["incident.extend", "incident.approve", "incident.request"]
    # the booth operator does not see an incident that touches none of its sites; the viewer does
    assert client.get(f"/api/v1/incidents/{incident}", headers=token_for(client, "booth")).status_code == 404
    assert client.get(f"/api/v1/incidents/{incident}", headers=token_for(client, "viewer")).status_code == 200
    assert client.post(f"/api/v1/incidents/{incident}/end", headers=token_for(client, "viewer")).status_code == 403


BAD = [
    ({"polygon": {"type": "Polygon", "coordinates": [[[139.7, 35.6], [139.8, 35.6]]]}}, 6, "invalid-geojson"),
    ({"polygon": "not geojson"}, 6, "invalid-geojson"),
    ({"polygon": {"type": "Polygon", "coordinates": [[[2.3, 48.8], [2.4, 48.8], [2.4, 48.9], [2.3, 48.8]]]}}, 6,
     "outside-tokyo"),
    ({"circle": {"lat": 35.0, "lon": 135.0, "radius_m": 500}}, 6, "outside-tokyo"),
    ({"municipalities": ["131130"]}, 6, "municipality-without-sites"),  # Shibuya: no sites in the seed
    ({"municipalities": ["999999"]}, 6, "unknown-municipality"),
    ({"municipalities": [SHINJUKU]}, -1, "end-in-past"),
    ({"municipalities": [SHINJUKU]}, 73, "end-beyond-72h"),
    ({"triangle": {}}, 6, "invalid-area"),
]


@pytest.mark.parametrize(("area", "hours", "code"), BAD)
def test_bad_input_is_a_typed_error_and_nothing_is_stored(env: tuple[TestClient, Seeded, Clock], area: object,
                                                          hours: int, code: str) -> None:
    client, _seeded, clock = env
    admin = token_for(client, "admin")
    audit_before = count(client, AuditEntry)
    r = client.post("/api/v1/incidents", headers=admin | {"Accept-Language": "ja"},
                    json={"area": area, "ends_at": iso(clock.now + timedelta(hours=hours)), "reason": "訓練"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["message"] and not error["message"].isascii()  # Japanese message
    assert count(client, IncidentRow) == 0 and count(client, AuditEntry) == audit_before


def test_overlap_and_naive_times_are_refused(env: tuple[TestClient, Seeded, Clock]) -> None:
    client, _seeded, clock = env
    admin = token_for(client, "admin")
    body = {"area": {"municipalities": [SHINJUKU]}, "ends_at": iso(clock.now + timedelta(hours=6)), "reason": "x"}
    assert client.post("/api/v1/incidents", headers=admin, json=body).status_code == 201
    r = client.post("/api/v1/incidents", headers=admin,
                    json=body | {"area": {"circle": {"lat": 35.6938, "lon": 139.7034, "radius_m": 100}}})
    assert r.status_code == 409 and r.json()["error"]["code"] == "overlap"
    r = client.post("/api/v1/incidents", headers=admin, json=body | {"ends_at": "2026-12-02T10:00:00"})
    assert r.status_code == 422
    assert count(client, IncidentRow) == 1
    for role in ("viewer", "auditor", "booth"):
        assert client.post("/api/v1/incidents", headers=token_for(client, role), json=body).status_code == 403
