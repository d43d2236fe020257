"""Sites, APs and principals the incident tests share."""

from __future__ import annotations

from datetime import UTC, datetime

from tsunagaru.ops.areas import SiteAps
from tsunagaru.sites.scope import Principal, Role

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

ADMIN = Principal("root", Role.CITY_ADMIN)
SHINJUKU_OP = Principal("shinjuku", Role.MUNICIPALITY_OPERATOR, "131041")
VIEWER = Principal("v", Role.VIEWER)

SITES = (
    SiteAps("s-shinjuku-park", "131041", 35.6852, 139.7101, "park", ("ap-1", "ap-2"), "Shinjuku Gyoen"),
    SiteAps("s-shinjuku-shelter", "131041", 35.6938, 139.7034, "shelter", ("ap-3",), "Shinjuku shelter"),
    SiteAps("s-chiyoda-booth", "131016", 35.6812, 139.7671, "phone-booth", ("ap-4",), "Tokyo station booth"),
    # recorded in Koto by its address, though the simplified polygon may say otherwise: codes decide
    SiteAps("s-koto-coast", "131083", 35.6190, 139.7790, "city-facility", ("ap-5",), "Odaiba coast"),
    SiteAps("s-nowhere", "131016", None, None, "city-facility", ("ap-6",), "No coordinates"),
)
