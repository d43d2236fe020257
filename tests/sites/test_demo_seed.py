"""The demo registry seed: Tokyo imported, 62 municipalities + city + phone-booth operator, demo APs; idempotent."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import func, select

from tests.sites.world import NOW
from tsunagaru.sites import service
from tsunagaru.sites.demo_seed import seed_demo_registry
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.store import Store
from tsunagaru.store.registry_tables import AuditEntry, Organisation, Site


def test_seed_and_reseed(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    try:
        with store.session() as s:
            demo = seed_demo_registry(s, tmp_path, now=NOW)
        assert demo.sites_imported == 737 and len(demo.ap_ids) == 5 and len(demo.municipality_org_ids) == 62
        secret = tmp_path / "secrets" / "nas-secret"
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and secret.read_text() == "testing123"
        with store.session() as s:
            audits = s.scalar(select(func.count()).select_from(AuditEntry))
            again = seed_demo_registry(s, tmp_path, now=NOW)
            assert again.ap_ids == demo.ap_ids and again.sites_imported == 0
            assert s.scalar(select(func.count()).select_from(AuditEntry)) == audits
            assert s.scalar(select(func.count()).select_from(Organisation)) == 64
            booths = Principal("booths", Role.SITE_OPERATOR, organisation_id=demo.phone_operator_id)
            assert service.list_sites(s, booths).total == 483
            shinjuku = Principal("shinjuku", Role.MUNICIPALITY_OPERATOR, municipality_code="131041")
            assert service.list_sites(s, shinjuku).total == 76
            codes = {service.get_ap(s, shinjuku.__class__("a", Role.CITY_ADMIN), i).municipality_code
                     for i in demo.ap_ids}
            assert len(codes) == 5 and "131041" in codes
            assert s.scalar(select(func.count()).select_from(Site)) == 737
    finally:
        store.dispose()
