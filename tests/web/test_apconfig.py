"""The config loop over the real app: AP tokens, ETag/304, status reports, config states, registration."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import token_for
from tests.web.seed import Seeded


def _ap(seeded: Seeded, ap_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {seeded.ap_tokens[ap_id]}"}


def test_pull_apply_report(app_client: tuple[TestClient, Seeded]) -> None:
    client, seeded = app_client
    ap = seeded.shinjuku_ap
    admin = token_for(client, "admin")
    assert client.get(f"/api/v1/aps/{ap}", headers=admin).json()["config_state"] == "new"
    r = client.get(f"/api/v1/aps/{ap}/config?format=hostapd", headers=_ap(seeded, ap))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "interworking=1" in text and "hs20=1" in text
    assert "auth_server_shared_secret=a-long-ap-radius-secret-0123" in text  # the AP's own secret (file:ap-secret)
    etag = r.headers["etag"]
    assert etag.startswith('"') and len(etag) > 20
    again = client.get(f"/api/v1/aps/{ap}/config", headers=_ap(seeded, ap) | {"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
    assert client.get(f"/api/v1/aps/{ap}", headers=admin).json()["config_state"] == "pending"
    r = client.post(f"/api/v1/aps/{ap}/status", headers=_ap(seeded, ap),
                    json={"version": etag, "result": "applied", "log": "AP-ENABLED"})
    assert r.status_code == 200 and r.json()["config_state"] == "current"
    view = client.get(f"/api/v1/aps/{ap}", headers=admin).json()
    assert view["config_state"] == "current" and view["reported_version"] == etag
    r = client.post(f"/api/v1/aps/{ap}/status", headers=_ap(seeded, ap),
                    json={"version": etag, "result": "error", "log": "hostapd: bad line 3"})
    assert r.json()["config_state"] == "failed"


def test_formats_have_their_own_etags(app_client: tuple[TestClient, Seeded]) -> None:
    client, seeded = app_client
    ap = seeded.chiyoda_ap
    tags = set()
    for fmt, ctype in (("hostapd", "text/plain"), ("openwrt", "text/plain"), ("json", "application/json")):
        r = client.get(f"/api/v1/aps/{ap}/config?format={fmt}", headers=_ap(seeded, ap))
        assert r.status_code == 200 and r.headers["content-type"].startswith(ctype)
        tags.add(r.headers["etag"])
    assert len(tags) == 3
    assert "hostapd_bss_options" in client.get(f"/api/v1/aps/{ap}/config?format=openwrt", headers=_ap(seeded, ap)).text
    doc = client.get(f"/api/v1/aps/{ap}/config?format=json", headers=_ap(seeded, ap)).json()
    assert doc["ap_id"] == str(ap) and doc["disaster"]["active"] is False


def test_tokens_are_checked(app_client: tuple[TestClient, Seeded]) -> None:
    client, seeded = app_client
    ap, other = seeded.shinjuku_ap, seeded.chiyoda_ap
    assert client.get(f"/api/v1/aps/{ap}/config").status_code == 401
    r = client.get(f"/api/v1/aps/{ap}/config", headers=_ap(seeded, other))
    assert r.status_code == 403 and r.json()["error"]["code"] == "foreign_token"
    r = client.get(f"/api/v1/aps/{ap}/config", headers={"Authorization": "Bearer tsa_made-up"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_token"
    assert client.get(f"/api/v1/aps/{ap}/config", headers=token_for(client, "admin")).status_code == 401
    r = client.post(f"/api/v1/aps/{ap}/status", headers=_ap(seeded, other),
                    json={"version": '"x"', "result": "applied"})
    assert r.status_code == 403
    # a new token revokes the old one
    new = client.post(f"/api/v1/aps/{ap}/token", headers=token_for(client, "shinjuku")).json()["token"]
    assert client.get(f"/api/v1/aps/{ap}/config", headers=_ap(seeded, ap)).status_code == 401
    assert client.get(f"/api/v1/aps/{ap}/config", headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_a_changed_site_changes_the_etag(app_client: tuple[TestClient, Seeded]) -> None:
    client, seeded = app_client
    ap = seeded.shinjuku_ap
    first = client.get(f"/api/v1/aps/{ap}/config", headers=_ap(seeded, ap)).headers["etag"]
    admin = token_for(client, "admin")
    assert client.patch(f"/api/v1/sites/{seeded.shinjuku_site}", headers=admin,
                        json={"name_en": "Shinjuku City Hall"}).status_code == 200
    r = client.get(f"/api/v1/aps/{ap}/config", headers=_ap(seeded, ap) | {"If-None-Match": first})
    assert r.status_code == 200 and r.headers["etag"] != first and "Shinjuku City Hall" in r.text


def test_register_with_an_enrolment_secret(app_client: tuple[TestClient, Seeded]) -> None:
    client, seeded = app_client
    booth = token_for(client, "booth")
    r = client.post(f"/api/v1/tenants/{seeded.booth_org}/enrolment-secrets", headers=booth)
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert client.post(f"/api/v1/tenants/{seeded.booth_org}/enrolment-secrets",
                       headers=token_for(client, "shinjuku")).status_code in (403, 404)
    ap = {"site_id": seeded.chiyoda_site, "name": "booth-2", "radios": [{"band": "5g"}], "nas_identifier": "ap-b2",
          "nas_network": "10.9.0.0/24", "secret_ref": "file:ap-secret"}
    r = client.post("/api/v1/aps/register", json={"secret": secret, "ap": ap})
    assert r.status_code == 201, r.text
    new_id, token = r.json()["id"], r.json()["token"]
    assert client.get(f"/api/v1/aps/{new_id}/config", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # the secret reaches only its own tenant's sites, and a wrong secret nothing
    r = client.post("/api/v1/aps/register", json={"secret": secret, "ap": ap | {"site_id": seeded.shinjuku_site,
                                                                                "nas_identifier": "ap-b3"}})
    assert r.status_code in (403, 404, 422), r.text  # the registry: "no such site" for this tenant
    r = client.post("/api/v1/aps/register", json={"secret": "tse_wrong-secret", "ap": ap})
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_secret"


def test_a_disaster_config_carries_its_end_time(app_client: tuple[TestClient, Seeded]) -> None:
    from datetime import timedelta

    from tsunagaru.passpoint.model import DisasterState

    client, seeded = app_client
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    until = ctx.now() + timedelta(hours=72)
    ctx.extras["disaster"] = lambda ap, site, now: DisasterState(until=until, reason="test") \
        if site.municipality_code == "131041" else DisasterState()
    ap = seeded.shinjuku_ap
    r = client.get(f"/api/v1/aps/{ap}/config", headers=_ap(seeded, ap))
    assert "ssid=00000JAPAN" in r.text
    assert r.headers["x-tsunagaru-disaster-until"].startswith(until.strftime("%Y-%m-%dT%H:%M"))
    other = client.get(f"/api/v1/aps/{seeded.chiyoda_ap}/config", headers=_ap(seeded, seeded.chiyoda_ap))
    assert "00000JAPAN" not in other.text and "x-tsunagaru-disaster-until" not in other.headers
