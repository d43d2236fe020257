"""A synthetic fleet for the dashboard's browser tests and bench: sites with APs spread over Tokyo's wards,
and activity and usage rows that give them every health state (written with Core inserts, so 20,000 APs
take seconds)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tsunagaru.store.ops_tables import ActivityRow, UsageHourRow
from tsunagaru.store.registry_tables import AccessPoint, Site

# (code, lat, lon) of ward centres; sites scatter ~1.5 km around them
WARDS = [("131016", 35.694, 139.753), ("131024", 35.670, 139.772), ("131032", 35.658, 139.751),
         ("131041", 35.694, 139.703), ("131059", 35.708, 139.752), ("131067", 35.713, 139.780),
         ("131083", 35.673, 139.817), ("131091", 35.609, 139.730), ("131105", 35.641, 139.698),
         ("131113", 35.561, 139.716), ("131121", 35.646, 139.653), ("131130", 35.664, 139.698),
         ("131148", 35.708, 139.664), ("131156", 35.700, 139.636), ("131164", 35.728, 139.716),
         ("131172", 35.753, 139.734), ("131181", 35.736, 139.783), ("131199", 35.751, 139.709),
         ("131202", 35.736, 139.652), ("131211", 35.775, 139.805), ("131229", 35.744, 139.847),
         ("131237", 35.707, 139.868), ("132012", 35.666, 139.316), ("132039", 35.703, 139.580)]
CATEGORIES = ["phone-booth", "phone-booth", "park", "station", "municipal", "shelter", "tourist-info", "library"]


def add_fleet(db: Session, sites: int, now: datetime, *, seed: int = 7, operator_id: int | None = None,
              aps_per_site: int = 1) -> list[int]:
    """``sites`` sites with ``aps_per_site`` APs each; activity for most of them. Returns the new AP ids."""
    rnd = random.Random(seed)
    site_rows: list[dict[str, Any]] = []
    for i in range(sites):
        code, lat, lon = WARDS[i % len(WARDS)]
        category = CATEGORIES[rnd.randrange(len(CATEGORIES))]
        site_rows.append({"source": "synthetic", "source_id": f"s{seed}-{i}", "name": f"テスト拠点 {i}",
                          "name_en": f"Test site {i}", "category": category, "lat": lat + rnd.gauss(0, 0.012),
                          "lon": lon + rnd.gauss(0, 0.014), "municipality_code": code,
                          "operator_id": operator_id if category == "phone-booth" else None, "state": "active",
                          "created_at": now, "updated_at": now})
    db.execute(insert(Site), site_rows)
    ids = list(db.scalars(select(Site.id).where(Site.source == "synthetic", Site.source_id.like(f"s{seed}-%"))
                          .order_by(Site.id)))
    ap_rows = [{"site_id": sid, "name": f"ap-{k}", "platform": "hostapd", "radios": [{"band": "2g", "channel": 6}],
                "bssids": [], "nas_identifier": f"syn-{sid}-{k}", "state": "active", "created_at": now,
                "updated_at": now} for sid in ids for k in range(aps_per_site)]
    db.execute(insert(AccessPoint), ap_rows)
    ap_ids = list(db.scalars(select(AccessPoint.id).where(AccessPoint.site_id.in_(ids)).order_by(AccessPoint.id)))
    interval = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5)
    activity = []
    for n, ap in enumerate(ap_ids):
        kind = n % 10
        if kind == 9:
            continue  # never seen: unknown
        last = now - (timedelta(minutes=40) if kind == 8 else timedelta(seconds=30))  # kind 8: down
        rejects = 30 if kind == 7 else 1  # kind 7: degraded (auth failure ratio)
        activity.append({"ap_key": f"ap-{ap}", "interval_start": interval - (timedelta(minutes=40) if kind == 8
                                                                             else timedelta()),
                         "interval_s": 300, "last_request": last, "accepts": 10, "rejects": rejects, "challenges": 0,
                         "status_server": 1, "acct_starts": 2, "acct_interims": 3, "acct_stops": 1,
                         "octets_in": 1000, "octets_out": 5000})
    for chunk in range(0, len(activity), 5000):
        db.execute(insert(ActivityRow), activity[chunk:chunk + 5000])
    return ap_ids


def add_usage(db: Session, now: datetime, keys: list[tuple[str, str]]) -> None:
    """24 h of hourly usage for each (dimension, key), with a daily shape and a few small hours."""
    top = now.replace(minute=0, second=0, microsecond=0)
    rows = []
    for dimension, key in keys:
        for h in range(24):
            hour = top - timedelta(hours=23 - h)
            local = (hour.hour + 9) % 24
            sessions = max(0, int(40 * (1 - abs(local - 14) / 12))) + (3 if local < 5 else 0)
            rows.append({"dimension": dimension, "key": key, "hour": hour, "sessions": sessions,
                         "users": max(0, sessions - 2), "octets_in": sessions * 10_000, "octets_out": sessions * 90_000,
                         "duration_total_s": sessions * 600, "duration_median_s": 600})
    db.execute(insert(UsageHourRow), rows)


def add_idp_peers(db: Session, now: datetime) -> None:
    """Two ANP nodes' peer rows: the demo realm up on both, a partner realm down on one node and up on the
    other (degraded), a realm only a stopped node knew (unknown), and the overflow row."""
    from tsunagaru.ops.idp_peers import Found, PeerBatch, PeerId, PeerRecord
    from tsunagaru.store.peer_status import write_peers

    wall = now.timestamp()

    def rec(realm: str, host: str, state: str, found: Found = Found.SRV, requests: int = 40,
            timeouts: int = 0) -> PeerRecord:
        return PeerRecord(realm, PeerId(host, 2083, f"radsec.{realm}"), found, state, wall - 3600, wall - 20,
                          requests, timeouts, 0)

    write_peers(db, PeerBatch("anp-1", wall - 30, 300, (
        rec("idp.tsunagaru.test", "127.0.0.1", "up"), rec("partner.example", "192.0.2.10", "down", requests=12,
                                                          timeouts=12),
        PeerRecord("other", PeerId("*", 0, ""), Found.SRV, "unknown", None, None, 3, 0, 0))))
    write_peers(db, PeerBatch("anp-2", wall - 40, 300, (
        rec("idp.tsunagaru.test", "127.0.0.1", "up"), rec("partner.example", "192.0.2.11", "up", Found.STATIC))))
    write_peers(db, PeerBatch("anp-old", wall - 7200, 300, (rec("gone.example", "198.51.100.1", "up"),)))
