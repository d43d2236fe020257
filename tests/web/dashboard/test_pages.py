"""The dashboard pages and the map endpoint through the app (no browser): each role's scope, the compact
map rows, the SVG chart, and the incident form's errors in the user's language."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from tests.web.conftest import token_for
from tests.web.dashboard.fleetdata import add_fleet, add_usage
from tests.web.seed import SHINJUKU, Seeded


def fill(client: TestClient, seeded: Seeded) -> None:
    now = datetime.now(UTC)
    with client.app.state.ctx.store.session() as db:  # type: ignore[attr-defined]
        add_fleet(db, 60, now, operator_id=seeded.booth_org)
        add_usage(db, now, [("municipality", SHINJUKU), ("site", str(seeded.shinjuku_site))])


def test_pages_render_for_each_role(app_client: tuple[TestClient, Seeded]) -> None:
    client, seeded = app_client
    fill(client, seeded)
    for user in ("admin", "shinjuku", "booth", "viewer", "auditor"):
        headers = token_for(client, user) | {"Accept": "text/html", "Accept-Language": "ja"}
        for path in ("/dashboard", "/dashboard/alerts", "/dashboard/usage", "/dashboard/incidents"):
            r = client.get(path, headers=headers)
            assert r.status_code == 200, (user, path, r.text[:2000])
        chart = client.get("/dashboard/charts/usage.svg", headers=headers)
        assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
        assert b"<script" not in chart.content and b"http://kozea" not in chart.content
        data = client.get("/api/v1/map/sites", headers=headers).json()
        assert data["fields"][:4] == ["id", "lat", "lon", "state"]
        if user == "shinjuku":
            codes = {r[0] for r in data["rows"]}
            assert seeded.chiyoda_site not in codes and seeded.shinjuku_site in codes
    admin = token_for(client, "admin") | {"Accept": "text/html"}
    assert client.get(f"/dashboard/sites/{seeded.shinjuku_site}", headers=admin).status_code == 200
    assert client.get(f"/dashboard/aps/{seeded.shinjuku_ap}", headers=admin).status_code == 200
    booth = token_for(client, "booth") | {"Accept": "text/html"}
    assert client.get(f"/dashboard/sites/{seeded.shinjuku_site}", headers=booth).status_code == 404
