"""The IdP list (API and page) per role and language, and the IdP alerts in the alert list: city-wide roles
see the peers and counters, municipality and site operators each realm's state only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import token_for
from tests.web.dashboard.fleetdata import add_idp_peers
from tests.web.seed import Seeded
from tsunagaru.ops import jobs
from tsunagaru.store.ops_tables import AlertRow


@pytest.fixture
def with_idps(app_client: tuple[TestClient, Seeded]) -> tuple[TestClient, Seeded, datetime]:
    client, seeded = app_client
    store = client.app.state.ctx.store  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    with store.session() as db:
        add_idp_peers(db, now)
    jobs.alerts_job(store)(now)
    return client, seeded, now


def test_the_api_by_role(with_idps: tuple[TestClient, Seeded, datetime]) -> None:
    client, _, _ = with_idps
    assert client.get("/api/v1/idps").status_code == 401
    body = client.get("/api/v1/idps", headers=token_for(client, "admin")).json()
    states = {i["realm"]: i["state"] for i in body["items"]}
    assert states == {"partner.example": "degraded", "gone.example": "unknown", "other": "unknown",
                      "idp.tsunagaru.test": "up"}
    assert body["items"][0]["realm"] == "partner.example"  # the bad ones first
    assert body["detail"] is True and body["total"] == 4
    demo = next(i for i in body["items"] if i["realm"] == "idp.tsunagaru.test")
    assert (demo["peers_up"], demo["peers_total"], demo["requests"]) == (2, 2, 80)
    assert {p["node"] for p in demo["peers"]} == {"anp-1", "anp-2"} and all(p["fresh"] for p in demo["peers"])
    partner = next(i for i in body["items"] if i["realm"] == "partner.example")
    assert {(p["host"], p["found"], p["state"]) for p in partner["peers"]} == {
        ("192.0.2.10", "srv", "down"), ("192.0.2.11", "static", "up")}
    assert partner["timeouts"] == 12
    for user in ("viewer", "auditor"):
        assert client.get("/api/v1/idps", headers=token_for(client, user)).json()["detail"] is True
    for user in ("shinjuku", "booth"):
        scoped = client.get("/api/v1/idps", headers=token_for(client, user)).json()
        assert scoped["detail"] is False and {i["realm"] for i in scoped["items"]} == set(states)
        assert all(set(i) == {"realm", "state", "since", "peers_up", "peers_total"} for i in scoped["items"])
        assert "192.0.2" not in str(scoped)
    again = client.get("/api/v1/idps", headers=token_for(client, "admin"))
    etag = again.headers["etag"]
    assert client.get("/api/v1/idps", headers=token_for(client, "admin") | {"If-None-Match": etag}).status_code \
        in (200, 304)  # the body carries "at": a later request may differ


def test_the_page_and_the_alerts_in_both_languages(with_idps: tuple[TestClient, Seeded, datetime]) -> None:
    client, _, now = with_idps
    store = client.app.state.ctx.store  # type: ignore[attr-defined]
    with store.session() as db:
        alert = db.scalars(select(AlertRow).where(AlertRow.subject == "idp:partner.example")).one()
        assert (alert.state, alert.started_at, alert.ended_at, alert.site_id) == ("degraded", now, None, None)
        assert alert.detail == "192.0.2.10:2083 down"
        assert db.scalars(select(AlertRow).where(AlertRow.subject.like("idp:%"))).all() == [alert]
    admin = client.get("/dashboard/idps", headers=token_for(client, "admin") | {"Accept-Language": "ja"})
    assert admin.status_code == 200
    assert "<h1>IDプロバイダ</h1>" in admin.text and "192.0.2.10:2083" in admin.text
    assert "DNS（SRV）で発見" in admin.text
    assert "ノード anp-2" in admin.text and "IDプロバイダ partner.example" in admin.text  # its alert history
    en = client.get("/dashboard/idps", headers=token_for(client, "booth") | {"Accept-Language": "en"})
    assert en.status_code == 200 and "<h1>Identity providers</h1>" in en.text
    assert "192.0.2.10" not in en.text and "city-wide roles only" in en.text and "IdP partner.example" in en.text
    for user in ("booth", "shinjuku"):
        alerts = client.get("/dashboard/alerts", headers=token_for(client, user) | {"Accept-Language": "en"})
        assert alerts.status_code == 200 and 'href="/dashboard/idps">partner.example</a>' in alerts.text
        assert "IdP partner.example" in alerts.text  # the stored alert, in every role's list
    nav = client.get("/dashboard", headers=token_for(client, "shinjuku") | {"Accept-Language": "ja"})
    assert 'href="/dashboard/idps">IDプロバイダ</a>' in nav.text


def test_no_rows_yet(app_client: tuple[TestClient, Seeded]) -> None:
    client, _ = app_client
    assert client.get("/api/v1/idps", headers=token_for(client, "admin")).json()["items"] == []
    page = client.get("/dashboard/idps", headers=token_for(client, "admin") | {"Accept-Language": "en"})
    assert page.status_code == 200 and "No identity provider reported yet" in page.text
