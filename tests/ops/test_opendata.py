"""The monthly open-data export: one row per site, no personal data, small counts hidden for everyone."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from tsunagaru.ops.activity import SessionRecord
from tsunagaru.ops.opendata import COLUMNS, Publisher, SiteInfo, metadata, monthly_rows, to_csv

DEC = datetime(2025, 12, 1, tzinfo=UTC).timestamp()
SITES = [SiteInfo("s1", "新宿御苑", "Shinjuku Gyoen", "131041", "park", 35.685212, 139.710123),
         SiteInfo("s2", "=bad", "Booth", "131016", "phone-booth", None, None)]
AP_SITE = {"ap1": "s1", "ap2": "s2"}


def sess(i: int, ap: str, at: float, user: str | None) -> SessionRecord:
    return SessionRecord(f"k{i}", ap, user, "idp.example", at, at + 600, True, True, 1000, 2000, 600)


def test_monthly_rows_and_csv() -> None:
    sessions = [sess(i, "ap1", DEC + i * 3600, f"user{i}") for i in range(6)]
    sessions += [sess(10, "ap2", DEC + 5, "x"), sess(11, "ap1", DEC - 5, "y"),  # the second: November
                 sess(12, "ap1", datetime(2026, 1, 1, tzinfo=UTC).timestamp(), "z")]
    rows = monthly_rows(2025, 12, SITES, sessions, AP_SITE)
    assert rows[0] == {"month": "2025-12", "site_id": "s1", "name": "新宿御苑", "name_en": "Shinjuku Gyoen",
                       "municipality_code": "131041", "category": "park", "lat": 35.685212, "lon": 139.710123,
                       "sessions": 6, "users": 6, "octets_in": 6000, "octets_out": 12000,
                       "median_session_minutes": 10.0}
    assert (rows[1]["sessions"], rows[1]["users"], rows[1]["octets_in"], rows[1]["lat"]) == ("<5", "<5", "", "")
    text = to_csv(rows)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert tuple(parsed[0]) == COLUMNS and parsed[1]["name"] == "'=bad" and parsed[1]["sessions"] == "<5"
    for secret in ("user0", "k0", "idp.example"):
        assert secret not in text


def test_a_site_without_use_has_a_row_of_zeros() -> None:
    (row, _) = monthly_rows(2025, 2, SITES, [], AP_SITE)
    assert (row["sessions"], row["users"], row["octets_in"], row["median_session_minutes"]) == (0, 0, 0, 0)


def test_metadata() -> None:
    doc = json.loads(metadata(2025, 12, Publisher("東京都", "Tokyo Metropolitan Government", "https://example.jp/"),
                              datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), 2))
    assert doc["license"] == "CC-BY-4.0" and doc["period"] == {"start": "2025-12-01", "end_exclusive": "2026-01-01"}
    assert doc["generated_at"] == "2026-01-02T03:04:05Z" and doc["columns"] == list(COLUMNS)
    assert doc["title"]["ja"].endswith("2025-12")
