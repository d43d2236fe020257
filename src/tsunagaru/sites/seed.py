"""Reference data every registry starts with: Tokyo's 62 municipalities and the city's own organisation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagaru.sites.municipalities import shipped
from tsunagaru.sites.scope import Principal
from tsunagaru.sites.tenants import create_organisation, upsert_municipalities
from tsunagaru.store.registry_tables import Organisation

CITY_NAME = "東京都"
CITY_NAME_EN = "Tokyo Metropolitan Government"


def seed_municipalities(session: Session, p: Principal, *, now: datetime | None = None) -> int:
    """Add (or refresh) the shipped municipalities; returns how many changed."""
    rows = [{"code": r.code, "pref_code": r.pref_code, "name_ja": r.name_ja, "name_kana": r.name_kana,
             "name_en": r.name_en, "kind": r.kind} for r in shipped()]
    return upsert_municipalities(session, p, rows, now=now)


def seed_tenants(session: Session, p: Principal, *, now: datetime | None = None) -> dict[str, int]:
    """The city and one organisation per municipality (kind ``municipality``), created when missing.

    Returns organisation ids by name (the city under ``CITY_NAME``, municipalities under their code).
    """
    ids: dict[str, int] = {}
    existing = {o.name: o for o in session.scalars(select(Organisation))}
    if CITY_NAME not in existing:
        ids[CITY_NAME] = create_organisation(session, p, {"name": CITY_NAME, "name_en": CITY_NAME_EN,
                                                          "kind": "city"}, now=now).id
    else:
        ids[CITY_NAME] = existing[CITY_NAME].id
    for ref in shipped():
        name = f"{ref.name_ja}（{ref.code}）"
        if name in existing:
            ids[ref.code] = existing[name].id
            continue
        ids[ref.code] = create_organisation(session, p, {"name": name, "name_en": ref.name_en, "kind": "municipality",
                                                         "municipality_code": ref.code}, now=now).id
    return ids
