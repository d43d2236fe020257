"""The monthly open-data export per site: a CSV of usage and a JSON metadata document (docs/open-data.md).

Public data, so the small-count rule applies to everyone and nothing personal is in it: no user ids
(hashed or not), no session ids, no realms (a small IdP's realm with a count is close to a person).
Columns and metadata are described in ``docs/open-data.md``; the CSV is UTF-8 with a header, CRLF,
as Japan's open-data guidance for tables asks, with the site columns of the national Wi-Fi list where
they exist.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from tsunagaru.ops.activity import SessionRecord
from tsunagaru.ops.usage import PUBLIC, SMALL, safe_cell, show_count

FORMAT_VERSION = "1"
COLUMNS = ("month", "site_id", "name", "name_en", "municipality_code", "category", "lat", "lon", "sessions",
           "users", "octets_in", "octets_out", "median_session_minutes")
LICENSE = "CC-BY-4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"


@dataclass(frozen=True, slots=True)
class SiteInfo:
    site_id: str
    name: str
    name_en: str
    municipality_code: str
    category: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class Publisher:
    name: str  # e.g. 東京都 / Tokyo Metropolitan Government
    name_en: str
    contact_url: str


def month_bounds(year: int, month: int) -> tuple[float, float]:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start.timestamp(), end.timestamp()


def monthly_rows(year: int, month: int, sites: Iterable[SiteInfo], sessions: Iterable[SessionRecord],
                 site_of_ap: Mapping[str, str]) -> list[dict[str, str | int | float]]:
    """One row per site (every site, also those without use), sessions counted in the month they started."""
    lo, hi = month_bounds(year, month)
    per_site: dict[str, list[SessionRecord]] = {}
    for s in sessions:
        site = site_of_ap.get(s.ap_key)
        if site is not None and lo <= s.first_at < hi:
            per_site.setdefault(site, []).append(s)
    label = f"{year:04d}-{month:02d}"
    return [_row(label, site, per_site.get(site.site_id, [])) for site in sorted(sites, key=lambda s: s.site_id)]


def _row(label: str, site: SiteInfo, sessions: list[SessionRecord]) -> dict[str, str | int | float]:
    users = len({s.user_id for s in sessions if s.user_id})
    people = users or len(sessions)
    few = 0 < people < SMALL
    minutes = round(statistics.median(s.session_time_s for s in sessions) / 60, 1) if sessions else 0
    return {
        "month": label, "site_id": site.site_id, "name": site.name, "name_en": site.name_en,
        "municipality_code": site.municipality_code, "category": site.category,
        "lat": "" if site.lat is None else round(site.lat, 6), "lon": "" if site.lon is None else round(site.lon, 6),
        "sessions": show_count(len(sessions), PUBLIC), "users": show_count(users, PUBLIC),
        "octets_in": "" if few else sum(s.octets_in for s in sessions),
        "octets_out": "" if few else sum(s.octets_out for s in sessions),
        "median_session_minutes": "" if few else minutes,
    }


def to_csv(rows: Iterable[Mapping[str, str | int | float]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: str | int | float) -> str | int | float:
    return safe_cell(value) if isinstance(value, str) else value


def metadata(year: int, month: int, publisher: Publisher, generated_at: datetime, rows: int) -> str:
    """The JSON document beside the CSV (a DCAT-like subset), in Japanese and English."""
    label = f"{year:04d}-{month:02d}"
    doc = {
        "format_version": FORMAT_VERSION,
        "title": {"ja": f"公衆無線LAN 利用状況 {label}", "en": f"Public Wi-Fi usage by site, {label}"},
        "publisher": {"ja": publisher.name, "en": publisher.name_en, "url": publisher.contact_url},
        "license": LICENSE,
        "license_url": LICENSE_URL,
        "attribution": {"ja": f"{publisher.name}「公衆無線LAN 利用状況」",
                        "en": f"{publisher.name_en}, Public Wi-Fi usage"},
        "period": {"start": f"{label}-01", "end_exclusive": _next_month(year, month)},
        "generated_at": generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rows": rows,
        "columns": list(COLUMNS),
        "suppression": f"counts from 1 to {SMALL - 1} are shown as <{SMALL}; "
                       "bytes and durations of such rows are empty",
        "personal_data": "none: no user, device or session identifiers",
        "encoding": "UTF-8, CRLF, header row",
    }
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _next_month(year: int, month: int) -> str:
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}-01"
