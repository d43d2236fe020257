"""The ANP's policy for APs in an active incident reaches the ANP through the registry export: the clients
file gives them no rate limit (the ANP's highest rate and burst) while the incident is active, and the
ANP's own loader reads it, with the incident's end as ``disaster_until`` (the disaster credential's window);
at the end the next export takes both away."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from tests.web.conftest import token_for
from tests.web.dashboard.test_incidents_api import Clock, iso
from tests.web.seed import SHINJUKU, Seeded
from tsunagaru.anp.clients import Client
from tsunagaru.anp.config import load
from tsunagaru.ops.effects import IN_INCIDENT
from tsunagaru.sites.anp_export import INCIDENT_RATE, export


def test_incident_policy_in_the_clients_file(app_client: tuple[TestClient, Seeded], tmp_path: Path) -> None:
    client, seeded = app_client
    clock = Clock()
    client.app.state.ctx.now = clock  # type: ignore[attr-defined]
    store = client.app.state.ctx.store  # type: ignore[attr-defined]
    secrets = tmp_path / "secrets"  # the web fixture's folder, holding the seed's file:ap-secret
    out = tmp_path / "registry-clients.toml"
    (tmp_path / "anp.toml").write_text('[anp]\nwbaid = "TEST:JP"\nclients_files = ["registry-clients.toml"]\n')

    def rates() -> dict[str, float]:
        return {c.name: c.rate_per_second for c in exported()}

    def exported() -> tuple[Client, ...]:
        with store.session() as db:
            export(db, secrets, out)
        return load(tmp_path / "anp.toml").clients

    normal = rates()
    assert normal[f"ap-{seeded.shinjuku_ap}"] == normal[f"ap-{seeded.chiyoda_ap}"] == 200.0
    admin = token_for(client, "admin")
    r = client.post("/api/v1/incidents", headers=admin, json={
        "area": {"municipalities": [SHINJUKU]}, "ends_at": iso(clock.now + timedelta(hours=3)), "reason": "地震"})
    assert r.status_code == 201, r.text
    during = rates()
    assert during[f"ap-{seeded.shinjuku_ap}"] == INCIDENT_RATE and during[f"ap-{seeded.chiyoda_ap}"] == 200.0
    until = {c.name: c.disaster_until for c in exported()}
    end = (clock.now + timedelta(hours=3)).timestamp()
    assert until[f"ap-{seeded.shinjuku_ap}"] == int(end) and until[f"ap-{seeded.chiyoda_ap}"] is None
    timeouts = {c.name: c.disaster_session_timeout for c in exported()}  # the longer Session-Timeout
    assert timeouts[f"ap-{seeded.shinjuku_ap}"] == IN_INCIDENT.session_timeout_s
    assert timeouts[f"ap-{seeded.chiyoda_ap}"] is None
    assert client.post(f"/api/v1/incidents/{r.json()['id']}/end", headers=admin).status_code == 200
    assert rates() == normal
    assert all(c.disaster_until is None and c.disaster_session_timeout is None for c in exported())
