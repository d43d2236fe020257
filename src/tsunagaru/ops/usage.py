"""Usage analytics: hourly aggregates per AP, site, municipality, tenant and IdP realm; small counts hidden.

Pure over accounting sessions (``tsunagaru.ops.activity.SessionRecord``, as the ANP batches them or as
the store reads them back) and where each AP is (:class:`Placement`). A session counts in the hour it
started, with its totals (bytes, duration) as last reported, so an hour is recomputed from its sessions
until they end; "distinct users" counts hashed user ids and cannot be summed across hours or keys,
which is why monthly figures are computed from the month's sessions, not from the hours.

Small counts: a figure about fewer than 5 people can identify someone. Every role but the city admin
sees counts 1-4 as ``"<5"``, and the bytes and durations of a row with fewer than 5 distinct users as
``""`` (they describe those few people). Zero stays 0: it describes nobody. The open-data export
applies the same rule for everyone.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from tsunagaru.ops.activity import SessionRecord

SMALL = 5
SUPPRESSED = "<5"
HOUR = 3600


class Dimension(StrEnum):
    AP = "ap"
    SITE = "site"
    MUNICIPALITY = "municipality"
    TENANT = "tenant"
    REALM = "realm"


@dataclass(frozen=True, slots=True)
class Placement:
    site_id: str
    municipality_code: str
    tenant: str  # the operating organisation, or the municipality/city for their own sites


@dataclass(slots=True)
class _Bucket:
    sessions: int = 0
    users: set[str] = field(default_factory=set)
    anonymous: int = 0  # sessions with no user id (anonymous outer identity, no CUI)
    octets_in: int = 0
    octets_out: int = 0
    durations: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UsageRow:
    dimension: Dimension
    key: str
    hour: datetime  # start of the hour (UTC), or of the month for monthly rows
    sessions: int
    users: int  # distinct hashed user ids (sessions without one are not counted as users)
    octets_in: int
    octets_out: int
    duration_total_s: int
    duration_median_s: int


def hour_of(epoch: float) -> float:
    return epoch - epoch % HOUR


def _keys(s: SessionRecord, placement: Placement | None) -> list[tuple[Dimension, str]]:
    keys = [(Dimension.AP, s.ap_key), (Dimension.REALM, s.realm or "unknown")]
    if placement is not None:
        keys += [(Dimension.SITE, placement.site_id), (Dimension.MUNICIPALITY, placement.municipality_code),
                 (Dimension.TENANT, placement.tenant)]
    return keys


def aggregate(sessions: Iterable[SessionRecord], placements: Mapping[str, Placement],
              dimensions: Sequence[Dimension] = tuple(Dimension)) -> list[UsageRow]:
    """Hourly rows for every (dimension, key, hour) that had a session, sorted."""
    wanted = set(dimensions)
    buckets: dict[tuple[Dimension, str, float], _Bucket] = {}
    for s in sessions:
        hour = hour_of(s.first_at)
        for dim, key in _keys(s, placements.get(s.ap_key)):
            if dim not in wanted:
                continue
            b = buckets.get((dim, key, hour))
            if b is None:
                b = buckets[(dim, key, hour)] = _Bucket()
            _add(b, s)
    return sorted((_row(dim, key, hour, b) for (dim, key, hour), b in buckets.items()),
                  key=lambda r: (r.dimension, r.key, r.hour))


def _add(b: _Bucket, s: SessionRecord) -> None:
    b.sessions += 1
    if s.user_id:
        b.users.add(s.user_id)
    else:
        b.anonymous += 1
    b.octets_in += s.octets_in
    b.octets_out += s.octets_out
    b.durations.append(s.session_time_s)


def _row(dim: Dimension, key: str, start: float, b: _Bucket) -> UsageRow:
    return UsageRow(dim, key, datetime.fromtimestamp(start, UTC), b.sessions, len(b.users), b.octets_in,
                    b.octets_out, sum(b.durations), int(statistics.median(b.durations)) if b.durations else 0)


def connected(sessions: Iterable[SessionRecord], placements: Mapping[str, Placement], now: float,
              stale_after_s: float = 25 * 60) -> dict[str, int]:
    """People connected now per site: sessions not stopped whose last record is recent (interims come every
    10 min, so 25 min is two missed interims), counted by distinct user id (a session without one counts)."""
    users: dict[str, set[str]] = {}
    for s in sessions:
        place = placements.get(s.ap_key)
        if place is None or s.stopped or now - s.last_at > stale_after_s:
            continue
        users.setdefault(place.site_id, set()).add(s.user_id or s.session_key)
    return {site: len(ids) for site, ids in users.items()}


# -- rendering: exact for city admins, small counts hidden for everyone else ------------------------------


@dataclass(frozen=True, slots=True)
class Rendering:
    exact: bool

    @classmethod
    def for_role(cls, role: str) -> Rendering:
        return cls(exact=role == "city-admin")


PUBLIC = Rendering(exact=False)


def show_count(n: int, rendering: Rendering) -> int | str:
    return n if rendering.exact or n == 0 or n >= SMALL else SUPPRESSED


def render_row(row: UsageRow, rendering: Rendering) -> dict[str, int | str]:
    """A row as shown or exported: counts per :func:`show_count`, detail blanked for rows of few users."""
    # people in the row: distinct users, or the sessions when none had a user id (anonymous identities)
    few = not rendering.exact and 0 < (row.users or row.sessions) < SMALL
    hidden: int | str = ""
    return {
        "dimension": row.dimension.value,
        "key": safe_cell(row.key),
        "hour": row.hour.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sessions": show_count(row.sessions, rendering),
        "users": show_count(row.users, rendering),
        "octets_in": hidden if few else row.octets_in,
        "octets_out": hidden if few else row.octets_out,
        "duration_total_s": hidden if few else row.duration_total_s,
        "duration_median_s": hidden if few else row.duration_median_s,
    }


def safe_cell(text: str) -> str:
    """A realm comes from the network: a leading = + - @ (or tab/CR) would run as a spreadsheet formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_COLUMNS = ("dimension", "key", "hour", "sessions", "users", "octets_in", "octets_out", "duration_total_s",
               "duration_median_s")


def to_csv(rows: Iterable[UsageRow], rendering: Rendering) -> str:
    """CSV (RFC 4180, CRLF) of the rows as the rendering shows them."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(render_row(row, rendering))
    return out.getvalue()
