"""The demo's registry: the Tokyo sample list imported at first start, the tenants, and a few demo APs.

Tenants: the city (東京都), one organisation per municipality (62), and a demo phone-booth operator
that operates every phone-booth site of the list. Demo APs stand in several wards (Shinjuku, Chiyoda,
Minato, Shibuya, Taito), each a RADIUS/UDP client of the demo ANP on its own loopback address
(127.0.1.N) with the demo NAS secret by reference (``file:nas-secret`` under ``STATE/secrets``, 0600).
Running it again changes nothing (the import is idempotent and the rest is created only when missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tsunagaru.sites import service
from tsunagaru.sites.importers import apply, wifi_list
from tsunagaru.sites.municipalities import Gazetteer, shipped
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.sites.seed import seed_municipalities, seed_tenants
from tsunagaru.store.registry_tables import AccessPoint, Organisation, Site

SAMPLE = "tokyo_free_wifi_accesspoints_130001_2024-09-01.cp932.csv"
PHONE_OPERATOR = "デモ公衆電話事業者"
PHONE_OPERATOR_EN = "Demo phone-booth operator"
SECRET_NAME = "nas-secret"
DEMO_NAS_SECRET = "testing123"  # the demo contract's NAS secret (DESIGN.md)
SEEDER = Principal("demo:seed", Role.CITY_ADMIN)
# (municipality code, AP name): one demo AP at the first phone-booth (or any) site of each ward
DEMO_WARDS = ("131041", "131016", "131032", "131130", "131067")


@dataclass(frozen=True)
class DemoRegistry:
    city_id: int
    municipality_org_ids: dict[str, int]  # by local government code
    phone_operator_id: int
    ap_ids: tuple[int, ...]
    sites_imported: int
    sites_total: int


def sample_bytes() -> bytes:
    return (resources.files("tsunagaru.sites") / "data" / SAMPLE).read_bytes()


def secrets_dir(state_dir: Path) -> Path:
    return state_dir / "secrets"


def _write_secret(state_dir: Path) -> None:
    from tsunagaru.secretfile import private_dir, write_private

    path = secrets_dir(state_dir) / SECRET_NAME
    if not path.exists():
        private_dir(secrets_dir(state_dir))
        write_private(path, DEMO_NAS_SECRET.encode())


def seed_demo_registry(session: Session, state_dir: Path, *, now: datetime | None = None) -> DemoRegistry:
    """Fill the demo's registry (in the caller's transaction; the caller commits)."""
    when = now or datetime.now(UTC)
    seed_municipalities(session, SEEDER, now=when)
    tenants = seed_tenants(session, SEEDER, now=when)
    records, report = wifi_list.parse(sample_bytes(), Gazetteer(shipped()), name=SAMPLE)
    diff = apply.apply_sites(session, SEEDER, records, report, now=when)
    operator = session.scalar(select(Organisation).where(Organisation.name == PHONE_OPERATOR))
    if operator is None:
        operator_id = service.create_organisation(session, SEEDER, {
            "name": PHONE_OPERATOR, "name_en": PHONE_OPERATOR_EN, "kind": "site-operator",
            "contact_email": "booths@operator.tsunagaru.test"}, now=when).id
    else:
        operator_id = operator.id
    booths = session.scalars(select(Site.id).where(Site.category == "phone-booth", Site.operator_id.is_(None),
                                                   Site.source == "130001")).all()
    service.assign_sites(session, SEEDER, operator_id, booths, now=when)
    _write_secret(state_dir)
    ap_ids = []
    for i, code in enumerate(DEMO_WARDS, start=1):
        site_id = session.scalar(select(Site.id).where(Site.municipality_code == code, Site.source == "130001")
                                 .order_by((Site.category != "phone-booth"), Site.id).limit(1))
        if site_id is None:
            continue
        existing = session.scalar(select(AccessPoint.id).where(AccessPoint.site_id == site_id,
                                                               AccessPoint.name == f"demo-ap-{i}"))
        if existing is None:
            existing = service.create_ap(session, SEEDER, {
                "site_id": site_id, "name": f"demo-ap-{i}", "platform": "hostapd",
                "radios": [{"band": "2g", "channel": 1 + 5 * (i % 3)}, {"band": "5g", "channel": 36 + 4 * i}],
                "bssids": [f"02:00:5e:00:{i:02x}:01", f"02:00:5e:00:{i:02x}:02"],
                "nas_network": f"127.0.1.{i}/32", "nas_identifier": f"demo-ap-{i}",
                "secret_ref": f"file:{SECRET_NAME}"}, now=when).id
        ap_ids.append(existing)
    total = session.scalar(select(func.count()).select_from(Site)) or 0
    return DemoRegistry(tenants["東京都"], {k: v for k, v in tenants.items() if k != "東京都"}, operator_id,
                        tuple(ap_ids), len(diff.added), total)


def seed_demo_store(state_dir: Path, db_url: str) -> DemoRegistry:
    """Open the demo's store, seed it in one transaction, close it (what ``tsunagaru demo`` calls).

    Also writes ``STATE/registry-clients.toml``, the ANP clients file of the demo APs (for an ANP that
    lists it in ``anp.clients_files``; the demo's own ANP reads the registry itself, ``anp.clients_db``).
    """
    from tsunagaru.sites.anp_export import export
    from tsunagaru.store import Store

    store = Store.open(db_url)
    try:
        with store.session() as session:
            seeded = seed_demo_registry(session, state_dir)
        with store.session() as session:
            export(session, secrets_dir(state_dir), state_dir / "registry-clients.toml")
        return seeded
    finally:
        store.dispose()
