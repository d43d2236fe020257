"""Scope as a matrix: every role x resource x action, read out of scope -> NotFound, write -> Forbidden."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.sites.world import MINATO, NOW, SHINJUKU, World, build
from tsunagaru.sites import service
from tsunagaru.sites.errors import Forbidden, Invalid, NotFound
from tsunagaru.sites.scope import Principal
from tsunagaru.store import Store

ALL = {"shinjuku-phone", "shinjuku", "minato-phone", "minato"}
READ = {
    "admin": ALL, "viewer": ALL, "auditor": ALL,
    "shinjuku-op": {"shinjuku-phone", "shinjuku"},
    "phone-op": {"shinjuku-phone", "minato-phone"},
    "pending-op": set(), "no-code-op": set(),
}
WRITE = {
    "admin": ALL, "viewer": set(), "auditor": set(),
    "shinjuku-op": {"shinjuku-phone", "shinjuku"},
    "phone-op": {"shinjuku-phone", "minato-phone"},
    "pending-op": set(), "no-code-op": set(),
}
AUDIT = {"admin", "auditor"}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, World]]:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'r.sqlite'}")
    with store.session() as s:
        world = build(s)
    yield store, world
    store.dispose()


def _outcome(store: Store, action: Callable[[Session], Any]) -> str:
    """Run ``action`` in a transaction that is always rolled back; name what happened."""
    with store.engine.connect() as conn:
        tx = conn.begin()
        session = Session(bind=conn)
        try:
            action(session)
            return "ok"
        except NotFound:
            return "404"
        except Forbidden:
            return "403"
        except Invalid:
            return "invalid"
        finally:
            session.close()
            tx.rollback()


ROLES = sorted(READ)
KEYS = sorted(ALL)


def expect(role: str, key: str, write: bool) -> str:
    if key not in READ[role]:
        return "404"
    if write and key not in WRITE[role]:
        return "403"
    return "ok"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("action", ["get", "update", "delete"])
@pytest.mark.parametrize("resource", ["site", "ap"])
def test_matrix(registry: tuple[Store, World], role: str, key: str, action: str, resource: str) -> None:
    store, world = registry
    p = world.principals()[role]
    site_id, ap_id = world.sites[key], world.aps[key]
    calls: dict[tuple[str, str], Callable[[Session], Any]] = {
        ("site", "get"): lambda s: service.get_site(s, p, site_id),
        ("site", "update"): lambda s: service.update_site(s, p, site_id, {"name_en": "changed"}, now=NOW),
        ("site", "delete"): lambda s: (service.delete_ap(s, service.Principal("root", service.Role.CITY_ADMIN),
                                                         ap_id), service.delete_site(s, p, site_id)),
        ("ap", "get"): lambda s: service.get_ap(s, p, ap_id, now=NOW),
        ("ap", "update"): lambda s: service.update_ap(s, p, ap_id, {"name": "renamed"}, now=NOW),
        ("ap", "delete"): lambda s: service.delete_ap(s, p, ap_id, now=NOW),
    }
    assert _outcome(store, calls[(resource, action)]) == expect(role, key, action != "get")


@pytest.mark.parametrize("role", ROLES)
def test_lists_hold_exactly_the_read_scope(registry: tuple[Store, World], role: str) -> None:
    store, world = registry
    p = world.principals()[role]
    with store.session() as s:
        sites = service.list_sites(s, p, limit=1000)
        aps = service.list_aps(s, p, limit=1000, now=NOW)
    by_id = {v: k for k, v in world.sites.items()}
    assert {by_id[x.id] for x in sites.items} == READ[role] and sites.total == len(READ[role])
    assert {by_id[x.site_id] for x in aps.items} == READ[role] and aps.total == len(READ[role])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("code", [SHINJUKU, MINATO])
@pytest.mark.parametrize("resource", ["site", "ap"])
def test_create(registry: tuple[Store, World], role: str, code: str, resource: str) -> None:
    store, world = registry
    p = world.principals()[role]
    target = "shinjuku" if code == SHINJUKU else "minato"
    # a site operator's new site is its own, so it may create one anywhere; others only in their scope
    if resource == "site":
        may = role in ("admin", "phone-op") or (role == "shinjuku-op" and code == SHINJUKU)

        def action(s: Session) -> Any:
            return service.create_site(s, p, {"name": "new", "municipality_code": code}, now=NOW)
    else:
        may = target in WRITE[role]

        def action(s: Session) -> Any:
            return service.create_ap(s, p, {"site_id": world.sites[target], "name": "new", "radsec_name": "ap.x.test"},
                                     now=NOW)
    outcome = _outcome(store, action)
    if may:
        assert outcome == "ok"
    elif resource == "ap" and target not in READ[role]:
        assert outcome == "invalid"  # a site you cannot see is "no such site", never a hint that it exists
    else:
        assert outcome == "403"


def test_create_ap_on_an_unreadable_site_is_invalid_not_a_leak(registry: tuple[Store, World]) -> None:
    store, world = registry
    p = world.principals()["shinjuku-op"]
    with pytest.raises(service.Invalid) as err, store.session() as s:
        service.create_ap(s, p, {"site_id": world.sites["minato"], "name": "x", "radsec_name": "a.test"})
    assert err.value.field == "site_id" and "no site" in err.value.message


@pytest.mark.parametrize("role", ROLES)
def test_audit_log_readers(registry: tuple[Store, World], role: str) -> None:
    store, world = registry
    outcome = _outcome(store, lambda s: service.list_audit(s, world.principals()[role]))
    assert outcome == ("ok" if role in AUDIT else "404")


@pytest.mark.parametrize("role", ROLES)
def test_tenant_management_is_the_city_admins(registry: tuple[Store, World], role: str) -> None:
    store, world = registry
    p = world.principals()[role]
    outcome = _outcome(store, lambda s: service.approve_organisation(s, p, world.hotel_org, now=NOW))
    assert outcome == ("ok" if role == "admin" else ("403" if role in ("viewer", "auditor") else
                                                     ("403" if role == "pending-op" else "404")))


def test_operator_reassignment_needs_the_city_admin(registry: tuple[Store, World]) -> None:
    store, world = registry
    p = world.principals()["shinjuku-op"]
    assert _outcome(store, lambda s: service.update_site(s, p, world.sites["shinjuku"],
                                                         {"operator_id": world.phone_org})) == "403"
    assert _outcome(store, lambda s: service.update_site(s, p, world.sites["shinjuku"],
                                                         {"municipality_code": MINATO})) == "403"


def test_principal_shape_is_the_shared_one() -> None:
    p = Principal("x", service.Role.VIEWER)
    assert (p.municipality_code, p.organisation_id) == (None, None)
    assert [r.value for r in service.Role] == ["city-admin", "municipality-operator", "site-operator", "viewer",
                                               "auditor"]
