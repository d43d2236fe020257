"""The fleet's health as the dashboard shows it: ``tsunagaru.ops.health`` over the store's rows.

Inputs per AP: the ANP's activity rows of the last window (keyed ``ap-ID`` or ``ap-ID/NAS-Identifier``,
the client names :mod:`tsunagaru.sites.anp_export` writes, or ``CLIENT/NAS-Identifier`` for a client that
serves many APs: placed by the AP's NAS-Identifier, :func:`ap_ids`), the agent's polls and config reports on the
AP row, and the registry's config state. The result is cached for ``TTL`` per process, so the map of
20,000 APs costs one evaluation per interval however many people look at it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagaru.ops.health import ApHealth, ApInputs, ConfigReport, ConfigState, FleetHealth, Thresholds, evaluate
from tsunagaru.sites.config_state import config_state
from tsunagaru.store import Store
from tsunagaru.store.ops_tables import ActivityRow
from tsunagaru.store.registry_tables import AccessPoint

TTL = timedelta(seconds=10)
LOOKBACK = timedelta(hours=24)  # an AP silent for longer than this (and never polling) shows as unknown
CONFIG_STATES = {"current": ConfigState.CURRENT, "pending": ConfigState.PENDING, "failed": ConfigState.FAILED,
                 "silent": ConfigState.SILENT}


def ap_id_of(ap_key: str) -> str | None:
    """The registry id in an activity key (``ap-12`` or ``ap-12/nas-id``); None for other clients."""
    name = ap_key.split("/", 1)[0]
    if name.startswith("ap-") and name[3:].isdigit():
        return name[3:]
    return None


def ap_ids(db: Session, keys: Iterable[str]) -> dict[str, str]:
    """Activity key -> registry AP id: ``ap-ID[/...]`` by its name; ``CLIENT/NAS-ID`` (a client serving many
    APs, such as a controller or the demo's loopback client) by the AP whose NAS-Identifier it is. A
    NAS-Identifier that two active APs share names neither (the key stays unplaced)."""
    out: dict[str, str] = {}
    by_nas: dict[str, list[str]] = {}
    for key in keys:
        found = ap_id_of(key)
        if found is not None:
            out[key] = found
        elif "/" in key:
            by_nas.setdefault(key.split("/", 1)[1], []).append(key)
    names = sorted(by_nas)
    for start in range(0, len(names), 500):  # bounded IN lists
        seen: dict[str, set[int]] = {}
        for ap_id, nas in db.execute(select(AccessPoint.id, AccessPoint.nas_identifier).where(
                AccessPoint.nas_identifier.in_(names[start:start + 500]), AccessPoint.state == "active")):
            if nas is not None:
                seen.setdefault(nas, set()).add(ap_id)
        for nas, found_ids in seen.items():
            if len(found_ids) == 1:
                out.update(dict.fromkeys(by_nas[nas], str(next(iter(found_ids)))))
    return out


@dataclass(frozen=True, slots=True)
class Fleet:
    at: datetime
    health: FleetHealth
    config: dict[str, str]  # AP id -> registry config state (new, pending, current, failed, silent)
    site_of: dict[str, str]

    def site_state(self, site_id: int | str) -> str:
        found = self.health.sites.get(str(site_id))
        return found.state.value if found else "unknown"

    def ap(self, ap_id: int | str) -> ApHealth | None:
        return self.health.aps.get(str(ap_id))


DEFAULT_THRESHOLDS = Thresholds()


def compute(db: Session, now: datetime, t: Thresholds = DEFAULT_THRESHOLDS) -> Fleet:
    activity: dict[str, tuple[datetime, int, int]] = {}
    window = now - t.down_after  # accepts/rejects count over this; the last request over LOOKBACK
    rows_ = list(db.execute(select(ActivityRow.ap_key, ActivityRow.interval_start, ActivityRow.last_request,
                                   ActivityRow.accepts, ActivityRow.rejects)
                            .where(ActivityRow.interval_start >= now - LOOKBACK)))
    placed = ap_ids(db, {row[0] for row in rows_})
    for key, start, last, acc, rej in rows_:
        ap = placed.get(key)
        if ap is None:
            continue
        acc, rej = (acc, rej) if start >= window else (0, 0)
        known = activity.get(ap)
        if known is None:
            activity[ap] = (last, acc, rej)
        else:
            activity[ap] = (max(known[0], last), known[1] + acc, known[2] + rej)
    inputs, site_of, configs = [], {}, {}
    rows = db.execute(select(AccessPoint.id, AccessPoint.site_id, AccessPoint.config_version,
                             AccessPoint.config_served_at, AccessPoint.polled_at, AccessPoint.reported_version,
                             AccessPoint.reported_at, AccessPoint.report_result).where(AccessPoint.state == "active"))
    for ap_id, site_id, version, served_at, polled_at, reported_version, reported_at, result in rows:
        key = str(ap_id)
        site_of[key] = str(site_id)
        state = config_state(version, served_at, polled_at, reported_version, reported_at, result, now)
        configs[key] = state
        report = ConfigReport(CONFIG_STATES[state], reported_at or served_at or now) if state in CONFIG_STATES else None
        seen = activity.get(key)
        last_request = seen[0] if seen else None
        accepts, rejects = (seen[1], seen[2]) if seen else (0, 0)
        polls = [x for x in (polled_at, reported_at) if x is not None]
        inputs.append(ApInputs(key, last_request, accepts, rejects, report, (), max(polls) if polls else None))
    return Fleet(now, evaluate(inputs, site_of, now, t), configs, site_of)


@dataclass
class FleetCache:
    store: Store
    ttl: timedelta = TTL
    _fleet: Fleet | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, now: datetime) -> Fleet:
        with self._lock:
            if self._fleet is None or not (self._fleet.at <= now < self._fleet.at + self.ttl):
                with self.store.session() as db:
                    self._fleet = compute(db, now)
            return self._fleet
