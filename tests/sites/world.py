"""A small registry for tests: two wards, the phone-booth operator, a pending applicant, sites and APs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tsunagaru.sites import service
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.sites.seed import seed_municipalities

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SHINJUKU, MINATO = "131041", "131032"
ADMIN = Principal("admin", Role.CITY_ADMIN)


@dataclass
class World:
    phone_org: int
    hotel_org: int
    sites: dict[str, int]  # "shinjuku-phone", "shinjuku", "minato-phone", "minato"
    aps: dict[str, int]  # same keys

    def principals(self) -> dict[str, Principal]:
        return {
            "admin": ADMIN,
            "viewer": Principal("viewer", Role.VIEWER),
            "auditor": Principal("auditor", Role.AUDITOR),
            "shinjuku-op": Principal("shinjuku", Role.MUNICIPALITY_OPERATOR, municipality_code=SHINJUKU),
            "phone-op": Principal("phone", Role.SITE_OPERATOR, organisation_id=self.phone_org),
            "pending-op": Principal("hotel", Role.SITE_OPERATOR, organisation_id=self.hotel_org),
            "no-code-op": Principal("nocode", Role.MUNICIPALITY_OPERATOR),
        }


def build(session: Session) -> World:
    seed_municipalities(session, ADMIN, now=NOW)
    phone = service.create_organisation(session, ADMIN, {"name": "NTT公衆電話", "name_en": "Phone booths",
                                                         "kind": "site-operator"}, now=NOW)
    hotel = service.apply_site_operator(session, "web", {"name": "Hotel Example", "contact_email": "a@hotel.example"},
                                        now=NOW)
    sites, aps = {}, {}
    layout = {"shinjuku-phone": (SHINJUKU, phone.id), "shinjuku": (SHINJUKU, None),
              "minato-phone": (MINATO, phone.id), "minato": (MINATO, None)}
    for i, (key, (code, operator)) in enumerate(layout.items()):
        site = service.create_site(session, ADMIN, {"name": f"site {key}", "category": "phone-booth",
                                                    "municipality_code": code, "operator_id": operator,
                                                    "lat": 35.69, "lon": 139.70}, now=NOW)
        sites[key] = site.id
        aps[key] = service.create_ap(session, ADMIN, {"site_id": site.id, "name": "ap1", "nas_network": f"10.0.{i}.1",
                                                      "secret_ref": "file:nas-secret"}, now=NOW).id
    return World(phone.id, hotel.id, sites, aps)
