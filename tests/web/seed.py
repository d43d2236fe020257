"""A small registry for the web tests: Tokyo's municipalities, the phone-booth operator, a pending
applicant, a few sites and APs in two wards, and one web account per role (passwords in USERS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tsunagaru.sites import service, tenants
from tsunagaru.sites.municipalities import shipped
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.web import users
from tsunagaru.web.api.apconfig import issue_ap_token

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SHINJUKU, CHIYODA = "131041", "131016"
ADMIN = Principal("seed", Role.CITY_ADMIN)
PASSWORD = "correct-horse-battery"


@dataclass
class Seeded:
    booth_org: int
    pending_org: int
    shinjuku_site: int
    chiyoda_site: int  # operated by the phone-booth operator
    shinjuku_ap: int
    chiyoda_ap: int
    ap_tokens: dict[int, str]
    users: dict[str, str]  # role -> username


def ap_data(site_id: int, name: str, n: int) -> dict[str, object]:
    return {"site_id": site_id, "name": name, "platform": "hostapd", "radios": [{"band": "2g", "channel": 6}],
            "nas_identifier": f"ap-test-{n}", "nas_network": f"10.0.{n}.0/24", "secret_ref": "file:ap-secret"}


def seed(db: Session) -> Seeded:
    tenants.upsert_municipalities(db, ADMIN, [m.__dict__ for m in shipped()], now=NOW)
    booth = tenants.create_organisation(db, ADMIN, {"name": "公衆電話事業者", "name_en": "Phone booth operator",
                                                    "kind": "site-operator"}, now=NOW)
    pending = tenants.apply_site_operator(db, "127.0.0.1", {"name": "ホテル新宿", "contact_email": "a@hotel.example"},
                                          now=NOW)
    s1 = service.create_site(db, ADMIN, {"name": "新宿区役所", "name_en": "Shinjuku City Office",
                                         "category": "municipal", "lat": 35.6938, "lon": 139.7034,
                                         "municipality_code": SHINJUKU}, now=NOW)
    s2 = service.create_site(db, ADMIN, {"name": "公衆電話 千代田1", "name_en": "Phone booth Chiyoda 1",
                                         "category": "phone-booth", "lat": 35.684, "lon": 139.753,
                                         "municipality_code": CHIYODA, "operator_id": booth.id}, now=NOW)
    a1 = service.create_ap(db, ADMIN, ap_data(s1.id, "shinjuku-1", 1), now=NOW)
    a2 = service.create_ap(db, ADMIN, ap_data(s2.id, "booth-1", 2), now=NOW)
    accounts = {"city-admin": ("admin", None, None), "municipality-operator": ("shinjuku", SHINJUKU, None),
                "site-operator": ("booth", None, booth.id), "viewer": ("viewer", None, None),
                "auditor": ("auditor", None, None)}
    for role, (name, code, org) in accounts.items():
        users.create_user(db, ADMIN, users.NewUser(name, PASSWORD, Role(role), code, org), NOW)
    tokens = {a1.id: issue_ap_token(db, a1.id, NOW), a2.id: issue_ap_token(db, a2.id, NOW)}
    return Seeded(booth.id, pending.id, s1.id, s2.id, a1.id, a2.id, tokens,
                  {role: name for role, (name, _, _) in accounts.items()})
