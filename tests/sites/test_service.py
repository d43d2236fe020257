"""Registry services on SQLite and real PostgreSQL: audit rows, pagination, validation, approvals, no commits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.sites.world import ADMIN, NOW, SHINJUKU, build
from tsunagaru.sites import service
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.store import Store
from tsunagaru.store.registry_tables import AuditEntry, Site


def test_every_change_is_audited_with_before_and_after(store: Store) -> None:
    with store.session() as s:
        world = build(s)
        site_id = world.sites["shinjuku"]
        service.update_site(s, ADMIN, site_id, {"name_en": "Shinjuku booth", "lat": 35.7}, now=NOW)
        service.update_site(s, ADMIN, site_id, {"name_en": "Shinjuku booth"}, now=NOW)  # no change, no row
    with store.session() as s:
        page = service.list_audit(s, ADMIN, resource_type="site", resource_id=str(site_id))
        assert [e.action for e in page.items] == ["site.update", "site.create"]
        update = page.items[0]
        assert update.before is not None and update.after is not None
        assert (update.before["name_en"], update.after["name_en"]) == (None, "Shinjuku booth")
        assert (update.before["lat"], update.after["lat"]) == (35.69, 35.7)
        assert update.actor == "admin" and update.role == "city-admin" and update.municipality_code == SHINJUKU
        assert update.to_json()["at"].endswith("Z")


def test_services_never_commit(store: Store) -> None:
    with store.session() as s:
        build(s)
    with pytest.raises(RuntimeError), store.session() as s:
        service.create_site(s, ADMIN, {"name": "rolled back", "municipality_code": SHINJUKU})
        raise RuntimeError("the caller's unit of work fails")
    with store.session() as s:
        assert s.scalar(select(func.count()).where(Site.name == "rolled back")) == 0
        assert s.scalar(select(func.count()).where(AuditEntry.action == "site.create")) == 4


def test_pagination_and_filters(store: Store) -> None:
    with store.session() as s:
        build(s)
        for i in range(30):
            service.create_site(s, ADMIN, {"name": f"extra {i}", "municipality_code": SHINJUKU, "category": "park"})
        page = service.list_sites(s, ADMIN, municipality=SHINJUKU, limit=10, offset=25)
        assert (page.total, len(page.items), page.limit, page.offset) == (32, 7, 10, 25)
        assert service.list_sites(s, ADMIN, category="park", limit=1).total == 30
        assert service.list_sites(s, ADMIN, q="extra 1", limit=100).total == 11  # 1, 10-19
        assert service.list_sites(s, ADMIN, q="100%_", limit=100).total == 0  # LIKE wildcards are literal
        for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}):
            with pytest.raises(service.Invalid):
                service.list_sites(s, ADMIN, **bad)  # type: ignore[arg-type]


def test_contract_fields(store: Store) -> None:
    with store.session() as s:
        world = build(s)
        site = service.get_site(s, ADMIN, world.sites["minato"]).to_json()
        ap = service.get_ap(s, ADMIN, world.aps["minato"], now=NOW).to_json()
    assert {"id", "name", "name_en", "municipality_code", "lat", "lon", "category", "state"} <= set(site)
    assert {"id", "site_id", "municipality_code", "config_state"} <= set(ap)
    assert ap["config_state"] == "new"


@pytest.mark.parametrize(("data", "field"), [
    ({"name": ""}, "name"),
    ({"name": "x", "lat": 91, "lon": 139}, "lat"),
    ({"name": "x", "lat": 35.6, "lon": 200}, "lon"),
    ({"name": "x", "lat": 35.6}, "lon"),
    ({"name": "x", "municipality_code": "999999"}, "municipality_code"),
    ({"name": "x", "municipality_code": "13104"}, "municipality_code"),
    ({"name": "x", "category": "castle"}, "category"),
    ({"name": "x", "url": "javascript:alert(1)"}, "url"),
    ({"name": "x" * 301}, "name"),
    ({"name": "x", "colour": "red"}, "colour"),
    ({"name": "x\x00y"}, "name"),
])
def test_bad_site_input_names_the_field(store: Store, data: dict[str, object], field: str) -> None:
    with store.session() as s:
        build(s)
        with pytest.raises(service.Invalid) as err:
            service.create_site(s, ADMIN, data)
    assert err.value.field == field


@pytest.mark.parametrize(("data", "field"), [
    ({"name": "a"}, "nas_network"),
    ({"name": "a", "nas_network": "10.9.9.9"}, "secret_ref"),
    ({"name": "a", "nas_network": "10.9.9.300", "secret_ref": "file:x"}, "nas_network"),
    ({"name": "a", "nas_network": "10.9.9.9", "secret_ref": "testing123"}, "secret_ref"),
    ({"name": "a", "radsec_name": "bad name!"}, "radsec_name"),
    ({"name": "a", "radsec_name": "ap.test", "bssids": ["nope"]}, "bssids"),
    ({"name": "a", "radsec_name": "ap.test", "radios": [{"band": "9g"}]}, "radios"),
    ({"name": "a", "radsec_name": "ap.test", "platform": "cisco"}, "platform"),
])
def test_bad_ap_input_names_the_field(store: Store, data: dict[str, object], field: str) -> None:
    with store.session() as s:
        world = build(s)
        with pytest.raises(service.Invalid) as err:
            service.create_ap(s, ADMIN, {"site_id": world.sites["minato"], **data})
    assert err.value.field == field


def test_clashes_are_conflicts(store: Store) -> None:
    with store.session() as s:
        world = build(s)
        with pytest.raises(service.Conflict):
            service.create_ap(s, ADMIN, {"site_id": world.sites["minato"], "name": "x", "nas_network": "10.0.0.1/32",
                                         "secret_ref": "file:s"})
        with pytest.raises(service.Conflict):
            service.create_ap(s, ADMIN, {"site_id": world.sites["minato"], "name": "ap1", "radsec_name": "a.test"})
        with pytest.raises(service.Conflict):
            service.delete_site(s, ADMIN, world.sites["minato"])  # it has an AP
        with pytest.raises(service.Conflict):
            service.create_organisation(s, ADMIN, {"name": "NTT公衆電話"})


def test_an_applicant_sees_its_sites_only_after_approval(store: Store) -> None:
    with store.session() as s:
        world = build(s)
        hotel = Principal("hotel", Role.SITE_OPERATOR, organisation_id=world.hotel_org)
        assert service.get_organisation(s, ADMIN, world.hotel_org).state == "pending"
        with pytest.raises(service.Invalid):
            service.assign_sites(s, ADMIN, world.hotel_org, [world.sites["minato"]])  # not approved yet
        with pytest.raises(service.Forbidden):
            service.create_site(s, hotel, {"name": "Hotel lobby", "municipality_code": SHINJUKU})
        service.approve_organisation(s, ADMIN, world.hotel_org, now=NOW)
        own = service.create_site(s, hotel, {"name": "Hotel lobby", "municipality_code": SHINJUKU})
        assert own.operator_id == world.hotel_org
        assert service.assign_sites(s, ADMIN, world.hotel_org, [world.sites["minato"]], now=NOW) == 1
        assert {x.id for x in service.list_sites(s, hotel).items} == {own.id, world.sites["minato"]}
        actions = [e.action for e in service.list_audit(s, ADMIN, resource_type="organisation").items]
        assert "organisation.apply" in actions and "organisation.approve" in actions
        service.reject_organisation(s, ADMIN, world.hotel_org, "closed", now=NOW)
        assert service.list_sites(s, hotel).total == 0


def test_application_needs_an_email_and_grants_nothing(store: Store) -> None:
    with store.session() as s:
        build(s)
        with pytest.raises(service.Invalid):
            service.apply_site_operator(s, "web", {"name": "No mail"})
        with pytest.raises(service.Invalid):
            service.apply_site_operator(s, "web", {"name": "Sneaky", "contact_email": "a@b.example",
                                                   "state": "approved"})


def test_config_states(store: Store) -> None:
    with store.session() as s:
        world = build(s)
        ap_id = world.aps["shinjuku"]
        service.record_config_served(s, ap_id, '"v1"', now=NOW)
        assert service.get_ap(s, ADMIN, ap_id, now=NOW).config_state == "pending"
        service.record_status(s, ap_id, '"v1"', "applied", "ok", now=NOW + timedelta(seconds=5))
        assert service.get_ap(s, ADMIN, ap_id, now=NOW + timedelta(seconds=6)).config_state == "current"
        service.record_config_served(s, ap_id, '"v2"', now=NOW + timedelta(seconds=60))
        assert service.get_ap(s, ADMIN, ap_id, now=NOW + timedelta(seconds=61)).config_state == "pending"
        for minute in range(2, 6):  # keeps polling, never reports on v2
            service.record_config_served(s, ap_id, '"v2"', now=NOW + timedelta(minutes=minute))
        assert service.get_ap(s, ADMIN, ap_id, now=NOW + timedelta(minutes=5)).config_state == "silent"
        service.record_status(s, ap_id, '"v2"', "error", "hostapd: bad key\x1b[31m" + "x" * 5000,
                              now=NOW + timedelta(minutes=5))
        view = service.get_ap(s, ADMIN, ap_id, now=NOW + timedelta(minutes=5))
        assert view.config_state == "failed" and view.report_log is not None and len(view.report_log) == 2000
        assert "\x1b" not in view.report_log
        assert service.get_ap(s, ADMIN, ap_id, now=NOW + timedelta(hours=1)).config_state == "silent"
        with pytest.raises(service.Invalid):
            service.record_status(s, ap_id, '"v2"', "maybe", None, now=NOW)
