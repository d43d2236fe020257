"""Stored alert history: the health rules' alerts opened and closed in ``ops_alerts``, read per role.

:func:`tsunagaru.ops.health.track_alerts` is the pure rule (states in, alerts started and ended out);
this module is its adapter: it loads the open alerts, lets the rule decide, and writes what changed in
one transaction (the alert job calls :func:`evaluate_and_store` every minute or so). Reads go through the
reader's site scope (a municipality operator sees the alerts of its ward's sites, a site operator those
of its own sites; out of scope is not there).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from tsunagaru.ops.health import Alert, AlertChanges, track_alerts
from tsunagaru.sites.scope import Principal, Role, read_scope
from tsunagaru.store.ops_tables import AlertRow
from tsunagaru.store.registry_tables import Site

IDP_PREFIX = "idp:"
# who sees an IdP's peers (addresses, counters, an alert's detail): the city-wide roles
IDP_DETAIL_ROLES = frozenset({Role.CITY_ADMIN, Role.VIEWER, Role.AUDITOR})
GONE = "gone"  # the state given to a subject with an open alert that no longer exists (closes the alert)
MAX_DETAIL = 300
MAX_LIST = 1000


def open_alerts(db: Session) -> dict[str, Alert]:
    """Subject -> its open alert (the newest, should a crash have left two)."""
    rows = db.execute(select(AlertRow.subject, AlertRow.state, AlertRow.started_at, AlertRow.detail)
                      .where(AlertRow.ended_at.is_(None)).order_by(AlertRow.started_at))
    return {subject: Alert(subject, state, started, None, detail) for subject, state, started, detail in rows}


def with_gone(open_: Mapping[str, Alert], states: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """``states`` plus :data:`GONE` for open subjects it no longer names (a removed AP's alert ends)."""
    out = dict(states)
    for subject in open_:
        out.setdefault(subject, (GONE, ""))
    return out


def _place(subject: str, site_of: Mapping[str, str]) -> tuple[int | None, int | None]:
    kind, _, key = subject.partition(":")
    if kind == "ap" and key.isdigit():
        site = site_of.get(key)
        return int(key), int(site) if site and site.isdigit() else None
    if kind == "site" and key.isdigit():
        return None, int(key)
    return None, None


def record(db: Session, changes: AlertChanges, site_of: Mapping[str, str]) -> None:
    """Close the ended alerts and insert the started ones (``site_of``: AP id -> site id)."""
    for alert in changes.ended:
        db.execute(update(AlertRow).where(AlertRow.subject == alert.subject, AlertRow.ended_at.is_(None))
                   .values(ended_at=alert.ended_at))
    for alert in changes.started:
        ap_id, site_id = _place(alert.subject, site_of)
        db.add(AlertRow(subject=alert.subject, ap_id=ap_id, site_id=site_id, state=alert.state,
                        detail=alert.detail[:MAX_DETAIL], started_at=alert.started_at, ended_at=None))


@dataclass(frozen=True, slots=True)
class Evaluated:
    started: int
    ended: int
    open: int


def store_states(db: Session, states: Mapping[str, tuple[str, str]], site_of: Mapping[str, str],
                 now: datetime) -> Evaluated:
    """One round of the alert job over given states: the rule, then its changes written."""
    current = open_alerts(db)
    changes = track_alerts(current, with_gone(current, states), now)
    record(db, changes, site_of)
    return Evaluated(len(changes.started), len(changes.ended), len(changes.open))


@dataclass(frozen=True, slots=True)
class AlertView:
    id: int
    subject: str
    ap_id: int | None
    site_id: int | None
    site_name: str | None
    state: str
    detail: str
    started_at: datetime
    ended_at: datetime | None

    @property
    def open(self) -> bool:
        return self.ended_at is None

    @property
    def realm(self) -> str | None:
        """The IdP realm of an ``idp:REALM`` alert, else None."""
        return self.subject[len(IDP_PREFIX):] if self.subject.startswith(IDP_PREFIX) else None


def list_alerts(db: Session, principal: Principal, *, open_only: bool = False, site_id: int | None = None,
                ap_id: int | None = None, since: datetime | None = None, limit: int = 200,
                idps: bool = False) -> list[AlertView]:
    """Alerts in the reader's scope, newest first: open ones, or also those ended after ``since``.

    ``idps``: also the IdP alerts (``idp:REALM``, no site). Every role that reads the dashboard may see
    them: an IdP serves every ward's users, and its realm and state are what a ward or booth operator
    needs to explain failing logins. Their detail names peer addresses: only :data:`IDP_DETAIL_ROLES` read it."""
    scope = read_scope(principal)
    if scope.nothing:
        return []
    query = (select(AlertRow, Site.name).outerjoin(Site, AlertRow.site_id == Site.id)
             .order_by(AlertRow.ended_at.is_not(None), AlertRow.started_at.desc(), AlertRow.id.desc()))
    in_scope: ColumnElement[bool] = Site.id.is_not(None)
    if scope.municipality_code is not None:
        in_scope = Site.municipality_code == scope.municipality_code
    elif scope.operator_id is not None:
        in_scope = Site.operator_id == scope.operator_id
    query = query.where(or_(in_scope, AlertRow.subject.startswith(IDP_PREFIX)) if idps else in_scope)
    if open_only:
        query = query.where(AlertRow.ended_at.is_(None))
    elif since is not None:
        query = query.where((AlertRow.ended_at.is_(None)) | (AlertRow.ended_at >= since))
    if site_id is not None:
        query = query.where(AlertRow.site_id == site_id)
    if ap_id is not None:
        query = query.where(AlertRow.ap_id == ap_id)
    rows = db.execute(query.limit(max(1, min(limit, MAX_LIST))))
    peers = principal.role in IDP_DETAIL_ROLES
    return [AlertView(r.id, r.subject, r.ap_id, r.site_id, name, r.state,
                      r.detail if peers or not r.subject.startswith(IDP_PREFIX) else "", r.started_at, r.ended_at)
            for r, name in rows]
