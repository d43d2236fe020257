"""Sites, APs and principals the incident tests share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tsunagaru.ops.areas import SiteAps

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Who:
    """Shaped like tsunagaru.sites.scope.Principal."""

    username: str
    role: str
    municipality_code: str | None = None
    organisation_id: int | None = None


ADMIN = Who("root", "city-admin")
SHINJUKU_OP = Who("shinjuku", "municipality-operator", "131041")
VIEWER = Who("v", "viewer")

SITES = (
    SiteAps("s-shinjuku-park", "131041", 35.6852, 139.7101, "park", ("ap-1", "ap-2"), "Shinjuku Gyoen"),
    SiteAps("s-shinjuku-shelter", "131041", 35.6938, 139.7034, "shelter", ("ap-3",), "Shinjuku shelter"),
    SiteAps("s-chiyoda-booth", "131016", 35.6812, 139.7671, "phone-booth", ("ap-4",), "Tokyo station booth"),
    # recorded in Koto by its address, though the simplified polygon may say otherwise: codes decide
    SiteAps("s-koto-coast", "131083", 35.6190, 139.7790, "city-facility", ("ap-5",), "Odaiba coast"),
    SiteAps("s-nowhere", "131016", None, None, "city-facility", ("ap-6",), "No coordinates"),
)
