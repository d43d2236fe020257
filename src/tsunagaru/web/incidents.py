"""Incidents in the store: the adapter between ``tsunagaru.ops.incidents`` (pure rules) and the database.

Each step (declare or request, approve, reject, extend, end) loads the world the rules need (the sites
with their active APs, the shipped boundaries, the other live incidents), lets the pure function decide,
then writes the row and its audit record in the caller's transaction: a refused step raises before
anything is written, so nothing is half-applied. The same module answers the config endpoint's question
"is this AP in an active incident now" through :class:`DisasterIndex`, installed on
``ctx.extras["disaster"]`` (the hook :mod:`tsunagaru.web.apconfig` reads).
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.responses import Response

from tsunagaru.ops import incidents as rules
from tsunagaru.ops.areas import SiteAps, affected_sites, parse_area
from tsunagaru.ops.geo import Boundaries
from tsunagaru.passpoint.model import NO_DISASTER, DisasterState
from tsunagaru.sites import audit
from tsunagaru.sites.errors import NotFound
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.store import Store
from tsunagaru.store.incident_tables import IncidentRow
from tsunagaru.store.registry_tables import AccessPoint, Municipality, Site

LIVE_STATUSES = (rules.Status.REQUESTED.value, rules.Status.APPROVED.value)
INDEX_TTL = timedelta(seconds=2)  # another process's change reaches this one's configs within this


BOUNDARIES = "tokyo_municipalities_N03-21_13_210101_s0010.geojson"  # MLIT N03 (2021), simplified


def boundaries_file() -> Path:
    return Path(str(resources.files("tsunagaru.sites") / "data" / BOUNDARIES))


@functools.cache
def boundaries() -> Boundaries:
    return Boundaries.load(boundaries_file())


def to_incident(row: IncidentRow) -> rules.Incident:
    return rules.Incident(row.id, parse_area(row.area), row.starts_at, row.ends_at, row.reason, row.declared_by,
                          row.declared_at, rules.Status(row.status), frozenset(row.affected), row.approved_by,
                          row.approved_at, row.ended_by, row.ended_at)


def _write(row: IncidentRow, incident: rules.Incident, now: datetime) -> None:
    row.area = incident.area.to_json()
    row.starts_at, row.ends_at, row.reason = incident.starts_at, incident.ends_at, incident.reason
    row.status, row.affected = incident.status.value, sorted(incident.affected)
    row.declared_by, row.declared_at = incident.declared_by, incident.declared_at
    row.approved_by, row.approved_at = incident.approved_by, incident.approved_at
    row.ended_by, row.ended_at, row.updated_at = incident.ended_by, incident.ended_at, now


def site_aps(db: Session) -> list[SiteAps]:
    """Every non-retired site with the ids of its active APs (what area matching needs)."""
    aps: dict[int, list[str]] = {}
    for ap_id, site_id in db.execute(select(AccessPoint.id, AccessPoint.site_id).where(AccessPoint.state == "active")):
        aps.setdefault(site_id, []).append(str(ap_id))
    rows = db.execute(select(Site.id, Site.municipality_code, Site.lat, Site.lon, Site.category, Site.name)
                      .where(Site.state != "retired"))
    return [SiteAps(str(i), code or "", lat, lon, category, tuple(aps.get(i, ())), name)
            for i, code, lat, lon, category, name in rows]


def live_incidents(db: Session, now: datetime) -> list[rules.Incident]:
    rows = db.scalars(select(IncidentRow).where(IncidentRow.status.in_(LIVE_STATUSES), IncidentRow.ends_at > now))
    return [to_incident(r) for r in rows]


def context(db: Session, now: datetime, sites: Sequence[SiteAps] | None = None) -> rules.Context:
    known = frozenset(db.scalars(select(Municipality.code)))
    return rules.Context(sites if sites is not None else site_aps(db), boundaries(), live_incidents(db, now), known)


def _audit(db: Session, who: Principal, action: str, before: rules.Incident | None, after: rules.Incident,
           now: datetime, code: str | None) -> None:
    def view(i: rules.Incident | None) -> dict[str, Any] | None:
        if i is None:
            return None
        data = i.to_json(now)
        data["affected_aps"] = len(i.affected)  # the count; the ids are in the incident itself
        return data

    audit.record(db, who, action, "incident", after.id, view(before), view(after), now=now, municipality_code=code)


def declare(db: Session, who: Principal, draft: rules.Draft, now: datetime) -> rules.Incident:
    """A city admin's incident or a municipality operator's request (raises IncidentInvalid)."""
    incident_id = "inc-" + secrets.token_hex(6)
    incident = rules.declare(incident_id, draft, who, now, context(db, now))
    code = who.municipality_code if who.role is Role.MUNICIPALITY_OPERATOR else None
    row = IncidentRow(id=incident_id, municipality_code=code)
    _write(row, incident, now)
    db.add(row)
    action = "incident.request" if incident.status is rules.Status.REQUESTED else "incident.declare"
    _audit(db, who, action, None, incident, now, code)
    db.flush()
    return incident


def _row(db: Session, who: Principal, incident_id: str) -> IncidentRow:
    row = db.get(IncidentRow, incident_id) if len(incident_id) <= 40 else None
    if row is None or not may_read(who, row, db):
        raise NotFound("no such incident")
    return row


def may_read(who: Principal, row: IncidentRow, db: Session) -> bool:
    """City admins, auditors and viewers read every incident; operators the ones that touch their sites."""
    if who.role in (Role.CITY_ADMIN, Role.AUDITOR, Role.VIEWER):
        return True
    if who.role is Role.MUNICIPALITY_OPERATOR:
        if row.municipality_code is not None and row.municipality_code == who.municipality_code:
            return True
        column: Any = Site.municipality_code
        value: object = who.municipality_code
    elif who.role is Role.SITE_OPERATOR and who.organisation_id is not None:
        column, value = Site.operator_id, who.organisation_id
    else:
        return False
    ids = [int(a) for a in row.affected[:10_000]]
    hit = db.scalar(select(AccessPoint.id).join(Site, AccessPoint.site_id == Site.id)
                    .where(AccessPoint.id.in_(ids), column == value).limit(1))
    return hit is not None


def get(db: Session, who: Principal, incident_id: str) -> rules.Incident:
    return to_incident(_row(db, who, incident_id))


def list_incidents(db: Session, who: Principal, limit: int = 100) -> list[rules.Incident]:
    rows = db.scalars(select(IncidentRow).order_by(IncidentRow.declared_at.desc()).limit(max(1, min(limit, 500))))
    return [to_incident(r) for r in rows if may_read(who, r, db)]


def _step(db: Session, who: Principal, incident_id: str, now: datetime, action: str,
          change: Callable[[rules.Incident, rules.Context], rules.Incident]) -> rules.Incident:
    row = _row(db, who, incident_id)
    before = to_incident(row)
    after = change(before, context(db, now))
    _write(row, after, now)
    _audit(db, who, action, before, after, now, row.municipality_code)
    db.flush()
    return after


def approve(db: Session, who: Principal, incident_id: str, now: datetime) -> rules.Incident:
    return _step(db, who, incident_id, now, "incident.approve", lambda i, c: rules.approve(i, who, now, c))


def reject(db: Session, who: Principal, incident_id: str, now: datetime) -> rules.Incident:
    return _step(db, who, incident_id, now, "incident.reject", lambda i, c: rules.reject(i, who, now))


def extend(db: Session, who: Principal, incident_id: str, ends_at: datetime, now: datetime) -> rules.Incident:
    return _step(db, who, incident_id, now, "incident.extend", lambda i, c: rules.extend(i, ends_at, who, now, c))


def end(db: Session, who: Principal, incident_id: str, now: datetime) -> rules.Incident:
    return _step(db, who, incident_id, now, "incident.end", lambda i, c: rules.end(i, who, now))


def affected_site_list(db: Session, incident: rules.Incident) -> list[SiteAps]:
    """The incident's sites (those holding an affected AP), shelters first."""
    sites = [s for s in site_aps(db) if incident.affected.intersection(s.ap_ids)]
    return affected_sites(incident.area, sites) or sites


# -- the config endpoint's view ------------------------------------------------------------------------


class DisasterIndex:
    """AP id -> the disaster state of the active incident holding it, reloaded from the store every
    ``INDEX_TTL`` (and at once after a change made in this process: :meth:`invalidate`).

    Called as ``lookup(ap_row, site_row, now)``; an incident that ends (declared, or its ``ends_at``
    passing) drops out on the next load, so the AP's next poll gets its previous plan and a new ETag.
    """

    def __init__(self, store: Store, ttl: timedelta = INDEX_TTL) -> None:
        self.store, self.ttl = store, ttl
        self._lock = threading.Lock()
        self._loaded_at: datetime | None = None
        self._states: dict[str, DisasterState] = {}

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = None

    def states(self, now: datetime) -> dict[str, DisasterState]:
        with self._lock:
            if self._loaded_at is None or not (self._loaded_at <= now < self._loaded_at + self.ttl):
                with self.store.session() as db:
                    self._states = self._load(db, now)
                self._loaded_at = now
            return self._states

    @staticmethod
    def _load(db: Session, now: datetime) -> dict[str, DisasterState]:
        states: dict[str, DisasterState] = {}
        for incident in live_incidents(db, now):
            if incident.phase(now) is not rules.Phase.ACTIVE:
                continue
            state = DisasterState(until=incident.ends_at, reason=incident.reason[:200], incident_id=incident.id)
            for ap in incident.affected:
                known = states.get(ap)
                if known is None or (known.until is not None and incident.ends_at > known.until):
                    states[ap] = state
        return states

    def __call__(self, ap: AccessPoint, site: Site, now: datetime) -> DisasterState:
        return self.states(now).get(str(ap.id), NO_DISASTER)


R = TypeVar("R", bound=Response)


def reload_after(response: R, extras: Mapping[str, object]) -> R:
    """``response`` with a task that reloads the config view after the request's transaction committed
    (background tasks run once the response is out, after the session dependency has committed)."""
    index = extras.get("disaster")
    if isinstance(index, DisasterIndex):
        response.background = BackgroundTask(index.invalidate)
    return response


def install(extras: dict[str, object], store: Store) -> DisasterIndex:
    index = DisasterIndex(store)
    extras["disaster"] = index
    return index
