"""Role x resource x action through the real app and its real auth (tokens from /auth/token, no overrides).

Reads out of scope answer 404; writes answer 403 where the caller may read the resource (a viewer, an
auditor) and 404 where it may not even see it (the registry does not confirm that a resource exists to
someone outside its scope); anonymous 401. Expectations are written out per case, so a change in the
rules shows up here as a readable diff.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import settings_for, token_for
from tests.web.seed import SHINJUKU, Seeded, seed
from tsunagaru.store import Store
from tsunagaru.web import create_app

ROLES = ("anonymous", "city-admin", "municipality-operator", "site-operator", "viewer", "auditor")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Seeded, dict[str, dict[str, str]]]]:
    tmp = tmp_path_factory.mktemp("matrix")
    settings = settings_for(tmp)
    store = Store.open(settings.db_url)
    with store.session() as db:
        seeded = seed(db)
    with TestClient(create_app(settings, store), base_url="http://127.0.0.1") as client:
        headers = {"anonymous": {}} | {role: token_for(client, name) for role, name in seeded.users.items()}
        yield client, seeded, headers
    store.dispose()


def _cases() -> list[tuple[str, str, str, Any, dict[str, int]]]:
    # (name, method, path template, json body, {role: status}); roles not named expect the "*" status
    return [
        ("read own-ward site", "GET", "/api/v1/sites/{shinjuku_site}", None,
         {"anonymous": 401, "site-operator": 404, "*": 200}),
        ("read booth site", "GET", "/api/v1/sites/{chiyoda_site}", None,
         {"anonymous": 401, "municipality-operator": 404, "*": 200}),
        ("list sites", "GET", "/api/v1/sites?limit=5", None, {"anonymous": 401, "*": 200}),
        ("read ward AP", "GET", "/api/v1/aps/{shinjuku_ap}", None,
         {"anonymous": 401, "site-operator": 404, "*": 200}),
        ("read booth AP", "GET", "/api/v1/aps/{chiyoda_ap}", None,
         {"anonymous": 401, "municipality-operator": 404, "*": 200}),
        ("read audit", "GET", "/api/v1/audit?limit=5", None,
         {"anonymous": 401, "city-admin": 200, "auditor": 200, "*": 404}),
        ("list users", "GET", "/api/v1/users", None, {"anonymous": 401, "*": 200}),
        ("list tenants", "GET", "/api/v1/tenants", None, {"anonymous": 401, "*": 200}),
        ("change ward site", "PATCH", "/api/v1/sites/{shinjuku_site}", {"name_en": "Shinjuku City Office"},
         {"anonymous": 401, "city-admin": 200, "municipality-operator": 200, "site-operator": 404, "*": 403}),
        ("change booth site", "PATCH", "/api/v1/sites/{chiyoda_site}", {"name_en": "Phone booth Chiyoda 1"},
         {"anonymous": 401, "city-admin": 200, "site-operator": 200, "municipality-operator": 404, "*": 403}),
        ("change ward AP", "PATCH", "/api/v1/aps/{shinjuku_ap}", {"name": "shinjuku-1"},
         {"anonymous": 401, "city-admin": 200, "municipality-operator": 200, "site-operator": 404, "*": 403}),
        ("change booth AP", "PATCH", "/api/v1/aps/{chiyoda_ap}", {"name": "booth-1"},
         {"anonymous": 401, "city-admin": 200, "site-operator": 200, "municipality-operator": 404, "*": 403}),
        ("create ward site", "POST", "/api/v1/sites",  # a site operator's new site is its own (operator_id set)
         {"name": "matrix site", "municipality_code": SHINJUKU, "category": "park"},
         {"anonymous": 401, "city-admin": 201, "municipality-operator": 201, "site-operator": 201, "*": 403}),
        ("delete ward site that has APs", "DELETE", "/api/v1/sites/{shinjuku_site}", None,
         {"anonymous": 401, "city-admin": 409, "municipality-operator": 409, "site-operator": 404, "*": 403}),
        ("create tenant", "POST", "/api/v1/tenants", {"name": "matrix org {role}", "kind": "site-operator"},
         {"anonymous": 401, "city-admin": 201, "*": 403}),
        ("create viewer account", "POST", "/api/v1/users",
         {"username": "m-{role}", "password": "long-enough-pw", "role": "viewer"},
         {"anonymous": 401, "city-admin": 201, "*": 403}),
        ("issue AP token for ward AP", "POST", "/api/v1/aps/{shinjuku_ap}/token", None,
         {"anonymous": 401, "city-admin": 201, "municipality-operator": 201, "site-operator": 404, "*": 403}),
    ]


CASES = [(name, method, path, body, role, expect.get(role, expect["*"]))
         for name, method, path, body, expect in _cases() for role in ROLES]


@pytest.mark.parametrize(("name", "method", "path", "body", "role", "status"), CASES,
                         ids=[f"{c[0]}-{c[4]}" for c in CASES])
def test_matrix(world: tuple[TestClient, Seeded, dict[str, dict[str, str]]], name: str, method: str, path: str,
                body: Any, role: str, status: int) -> None:
    client, seeded, headers = world
    url = path.format(**seeded.__dict__)
    if isinstance(body, dict):
        body = {k: v.format(role=role) if isinstance(v, str) else v for k, v in body.items()}
    r = client.request(method, url, json=body, headers=headers[role])
    assert r.status_code == status, f"{name} as {role}: {r.status_code} {r.text}"
    if status >= 400:
        assert set(r.json()["error"]) >= {"code", "message"}


def test_out_of_scope_site_is_absent_from_lists(world: tuple[TestClient, Seeded, dict[str, dict[str, str]]]) -> None:
    client, seeded, headers = world
    ids = {s["id"] for s in client.get("/api/v1/sites?limit=500", headers=headers["site-operator"]).json()["items"]}
    assert seeded.chiyoda_site in ids and seeded.shinjuku_site not in ids
    r = client.get(f"/api/v1/sites?municipality={SHINJUKU}&limit=500", headers=headers["site-operator"])
    assert all(s["operator_id"] == seeded.booth_org for s in r.json()["items"])


def test_a_pending_applicant_org_grants_nothing(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    store = Store.open(settings.db_url)
    from tests.web.seed import ADMIN, NOW, PASSWORD
    from tsunagaru.sites.scope import Role
    from tsunagaru.web import users

    with store.session() as db:
        seeded = seed(db)
        users.create_user(db, ADMIN, users.NewUser("hotel", PASSWORD, Role.SITE_OPERATOR, None, seeded.pending_org),
                          NOW)
    with TestClient(create_app(settings, store)) as client:
        h = token_for(client, "hotel")
        assert client.get("/api/v1/sites", headers=h).json()["total"] == 0
        admin = token_for(client, "admin")
        assert client.post(f"/api/v1/tenants/{seeded.pending_org}/approve", headers=admin).status_code == 200
        r = client.post("/api/v1/sites", headers=h, json={"name": "hotel lobby", "operator_id": seeded.pending_org,
                                                           "municipality_code": SHINJUKU})
        assert r.status_code == 201, r.text
        assert client.get("/api/v1/sites", headers=h).json()["total"] == 1
    store.dispose()
