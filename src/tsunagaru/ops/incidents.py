"""Disaster incidents: declaration, request and approval, extension, end, and their effect on the APs.

Pure: the registry hands in the sites with their APs, the other incidents and ``now``; the functions
return new frozen :class:`Incident` values or raise :class:`IncidentInvalid` holding every problem found
(never a half-made incident). The web app stores the result and writes the audit record of each step.

Rules (MIC's guide and the Wi-Biz guideline: open ``00000JAPAN`` per area, for a bounded time):

=====================  =====================================================================================
who                    a city admin declares (approved at once) and approves; a municipality operator may
                       request one for its own municipality only; nobody else
start                  now, or scheduled (at most ``MAX_LEAD`` ahead)
end                    required; after now and after the start; at most 72 h after the start (declaring)
                       or after now (extending: an extension re-arms up to 72 h from the moment it is made)
area                   inside Tokyo (its box meets a municipality's box); municipalities that exist and
                       have sites; holds at least one AP
overlap                no two live incidents (requested, scheduled or active) share an AP in overlapping
                       time: an AP's disaster state comes from one incident, so extend that one instead
end of an incident     at its end time by itself, or declared earlier; the APs' disaster state goes off
=====================  =====================================================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from tsunagaru.ops.areas import (
    Area,
    AreaError,
    CircleArea,
    MunicipalityArea,
    PolygonArea,
    SiteAps,
    affected_aps,
    area_bbox,
    codes_in,
    parse_area,
)
from tsunagaru.ops.geo import Boundaries
from tsunagaru.sites.scope import Principal, Role

MAX_DURATION = timedelta(hours=72)
MAX_LEAD = timedelta(days=30)
MAX_REASON = 500

# -- errors: one class per rule, each with a stable code ---------------------------------------------


class IncidentError(Exception):
    code: ClassVar[str] = "incident-error"


class NotAllowed(IncidentError):
    code = "not-allowed"


class OutsideTokyo(IncidentError):
    code = "outside-tokyo"


class EndInPast(IncidentError):
    code = "end-in-past"


class EndBeforeStart(IncidentError):
    code = "end-before-start"


class EndBeyondLimit(IncidentError):
    code = "end-beyond-72h"


class StartTooFar(IncidentError):
    code = "start-too-far"


class UnknownMunicipality(IncidentError):
    code = "unknown-municipality"


class MunicipalityWithoutSites(IncidentError):
    code = "municipality-without-sites"


class EmptyArea(IncidentError):
    code = "empty-area"


class Overlap(IncidentError):
    code = "overlap"


class BadReason(IncidentError):
    code = "bad-reason"


class WrongState(IncidentError):
    code = "wrong-state"


class BadArea(IncidentError):
    code = "invalid-area"


class BadGeoJSON(IncidentError):
    code = "invalid-geojson"


class BadTime(IncidentError):
    code = "bad-time"


class IncidentInvalid(Exception):
    """Every problem found at once, so a form can show them all."""

    def __init__(self, errors: Sequence[IncidentError]) -> None:
        super().__init__("; ".join(f"{e.code}: {e}" for e in errors))
        self.errors = tuple(errors)

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.errors]


# -- the model --------------------------------------------------------------------------------------


class Status(StrEnum):
    REQUESTED = "requested"  # by a municipality operator, waiting for a city admin
    APPROVED = "approved"  # declared by a city admin, or approved: scheduled, active or past its end
    REJECTED = "rejected"
    ENDED = "ended"  # ended by a person before its end time


class Phase(StrEnum):
    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    ENDED = "ended"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Draft:
    """What a person asks for (from the API's JSON via ``tsunagaru.ops.areas.parse_area``)."""

    area: Area
    ends_at: datetime
    reason: str
    starts_at: datetime | None = None  # None: now


def draft_from_json(body: object) -> Draft:
    """A Draft from ``POST /api/v1/incidents``'s JSON: ``{"area", "ends_at", "reason", "starts_at"?}``
    (times ISO-8601 with an offset); raises IncidentInvalid with every problem of the shape."""
    if not isinstance(body, Mapping):
        raise IncidentInvalid([BadArea("the body must be a JSON object")])
    errors: list[IncidentError] = []
    area: Area | None = None
    try:
        area = parse_area(body.get("area"))
    except AreaError as exc:
        errors.append(BadGeoJSON(str(exc)) if exc.code == "invalid-geojson" else BadArea(str(exc)))
    ends_at, starts_at = _time(body.get("ends_at"), "ends_at", errors), None
    if body.get("starts_at") is not None:
        starts_at = _time(body.get("starts_at"), "starts_at", errors)
    reason = body.get("reason")
    if not isinstance(reason, str):
        errors.append(BadReason("reason must be text"))
    _raise(errors)
    assert area is not None and ends_at is not None and isinstance(reason, str)
    return Draft(area, ends_at, reason, starts_at)


def _time(value: object, name: str, errors: list[IncidentError]) -> datetime | None:
    try:
        if not isinstance(value, str):
            raise ValueError
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.append(BadTime(f"{name} must be an ISO-8601 time, e.g. 2026-12-02T09:00:00+09:00"))
        return None
    if parsed.tzinfo is None:
        errors.append(BadTime(f"{name} needs a UTC offset (Z or +09:00)"))
        return None
    return parsed


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    area: Area
    starts_at: datetime
    ends_at: datetime
    reason: str
    declared_by: str
    declared_at: datetime
    status: Status
    affected: frozenset[str]  # AP ids, fixed when declared or approved
    approved_by: str | None = None
    approved_at: datetime | None = None
    ended_by: str | None = None
    ended_at: datetime | None = None

    def phase(self, now: datetime) -> Phase:
        if self.status is Status.REQUESTED:
            return Phase.REQUESTED
        if self.status is Status.REJECTED:
            return Phase.REJECTED
        if self.status is Status.ENDED or now >= self.ends_at:
            return Phase.ENDED
        return Phase.SCHEDULED if now < self.starts_at else Phase.ACTIVE

    def effective_end(self) -> datetime:
        return self.ended_at if self.status is Status.ENDED and self.ended_at else self.ends_at

    def is_live(self, now: datetime) -> bool:
        return self.phase(now) in (Phase.REQUESTED, Phase.SCHEDULED, Phase.ACTIVE)

    def to_json(self, now: datetime) -> dict[str, object]:
        """The API's view (``GET /api/v1/incidents/{id}``); ``affected_aps`` sorted."""
        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None
        return {"id": self.id, "area": self.area.to_json(), "starts_at": iso(self.starts_at),
                "ends_at": iso(self.ends_at), "reason": self.reason, "status": self.status.value,
                "phase": self.phase(now).value, "declared_by": self.declared_by, "declared_at": iso(self.declared_at),
                "approved_by": self.approved_by, "approved_at": iso(self.approved_at), "ended_by": self.ended_by,
                "ended_at": iso(self.ended_at), "affected_aps": sorted(self.affected)}


@dataclass(frozen=True, slots=True)
class Context:
    """The world an incident is checked against."""

    sites: Sequence[SiteAps]
    boundaries: Boundaries
    others: Sequence[Incident] = ()
    known_municipalities: frozenset[str] = field(default_factory=frozenset)  # empty: not checked


# -- validation -------------------------------------------------------------------------------------


def check(area: Area, starts_at: datetime, ends_at: datetime, reason: str, now: datetime, ctx: Context,
          ignore_id: str | None = None) -> tuple[list[IncidentError], frozenset[str]]:
    """Every rule over a would-be incident: (the problems, the AP ids it would affect)."""
    errors = _time_errors(starts_at, ends_at, now, starts_at)
    if not reason.strip() or len(reason) > MAX_REASON:
        errors.append(BadReason(f"a reason of 1 to {MAX_REASON} characters is required"))
    elif not reason.isprintable():  # one line: it reaches rendered AP configs (a comment in hostapd.conf)
        errors.append(BadReason("the reason must be one line of text, without control characters"))
    errors += _area_errors(area, ctx)
    aps = affected_aps(area, ctx.sites)
    if not aps and not any(isinstance(e, MunicipalityWithoutSites | OutsideTokyo) for e in errors):
        errors.append(EmptyArea("the area holds no access point"))
    errors += _overlaps(aps, starts_at, ends_at, now, ctx.others, ignore_id)
    return errors, aps


def _time_errors(starts_at: datetime, ends_at: datetime, now: datetime, limit_from: datetime) -> list[IncidentError]:
    errors: list[IncidentError] = []
    if ends_at <= now:
        errors.append(EndInPast("the end must be in the future"))
    elif ends_at <= starts_at:
        errors.append(EndBeforeStart("the end must be after the start"))
    elif ends_at - limit_from > MAX_DURATION:
        errors.append(EndBeyondLimit(f"the end may be at most {MAX_DURATION.total_seconds() / 3600:.0f} h ahead"))
    if starts_at - now > MAX_LEAD:
        errors.append(StartTooFar(f"a scheduled start may be at most {MAX_LEAD.days} days ahead"))
    return errors


def _area_errors(area: Area, ctx: Context) -> list[IncidentError]:
    if isinstance(area, MunicipalityArea):
        errors: list[IncidentError] = []
        known = ctx.known_municipalities
        with_sites = codes_in(ctx.sites)
        for code in sorted(area.codes):
            if known and code not in known:
                errors.append(UnknownMunicipality(f"{code} is not a Tokyo municipality"))
            elif code not in with_sites:
                errors.append(MunicipalityWithoutSites(f"municipality {code} has no sites"))
        return errors
    assert isinstance(area, PolygonArea | CircleArea)
    if not ctx.boundaries.touches(area_bbox(area)):
        return [OutsideTokyo("the area lies outside Tokyo")]
    return []


def _overlaps(aps: frozenset[str], starts_at: datetime, ends_at: datetime, now: datetime,
              others: Iterable[Incident], ignore_id: str | None) -> list[IncidentError]:
    errors: list[IncidentError] = []
    for other in others:
        if other.id == ignore_id or not other.is_live(now):
            continue
        if starts_at < other.effective_end() and other.starts_at < ends_at and aps & other.affected:
            shared = len(aps & other.affected)
            what = "approve" if other.status is Status.REQUESTED else "extend"
            errors.append(Overlap(f"{shared} access points are already in incident {other.id}: {what} it instead"))
    return errors


def _raise(errors: list[IncidentError]) -> None:
    if errors:
        raise IncidentInvalid(errors)


# -- the steps ----------------------------------------------------------------------------------------


def declare(incident_id: str, draft: Draft, by: Principal, now: datetime, ctx: Context) -> Incident:
    """A city admin's incident (approved at once) or a municipality operator's request for its own area."""
    if by.role is Role.CITY_ADMIN:
        status = Status.APPROVED
    elif by.role is Role.MUNICIPALITY_OPERATOR and by.municipality_code:
        status = Status.REQUESTED
    else:
        raise IncidentInvalid([NotAllowed("only city admins declare incidents; municipality operators request")])
    starts_at = draft.starts_at or now
    errors, aps = check(draft.area, starts_at, draft.ends_at, draft.reason, now, ctx)
    if status is Status.REQUESTED and not _own_area(by.municipality_code, aps, ctx.sites):
        errors.insert(0, NotAllowed("a municipality operator may request an incident for its own municipality only"))
    _raise(errors)
    approved = status is Status.APPROVED
    return Incident(incident_id, draft.area, starts_at, draft.ends_at, draft.reason.strip(), by.username, now,
                    status, aps, by.username if approved else None, now if approved else None)


def _own_area(code: str | None, aps: frozenset[str], sites: Sequence[SiteAps]) -> bool:
    return bool(aps) and all(s.municipality_code == code for s in sites if aps.intersection(s.ap_ids))


def approve(incident: Incident, by: Principal, now: datetime, ctx: Context) -> Incident:
    """A city admin approves a request; the rules are checked again (time has passed, sites changed)."""
    _require_admin(by)
    if incident.status is not Status.REQUESTED:
        raise IncidentInvalid([WrongState(f"incident {incident.id} is {incident.phase(now)}, not requested")])
    starts_at = max(incident.starts_at, now)
    errors, aps = check(incident.area, starts_at, incident.ends_at, incident.reason, now, ctx, incident.id)
    _raise(errors)
    return replace(incident, status=Status.APPROVED, starts_at=starts_at, affected=aps, approved_by=by.username,
                   approved_at=now)


def reject(incident: Incident, by: Principal, now: datetime) -> Incident:
    _require_admin(by)
    if incident.status is not Status.REQUESTED:
        raise IncidentInvalid([WrongState(f"incident {incident.id} is {incident.phase(now)}, not requested")])
    return replace(incident, status=Status.REJECTED, ended_by=by.username, ended_at=now)


def extend(incident: Incident, ends_at: datetime, by: Principal, now: datetime, ctx: Context) -> Incident:
    """A new end, later than the current one and at most 72 h from now; same area, so same APs."""
    _require_admin(by)
    if incident.phase(now) not in (Phase.SCHEDULED, Phase.ACTIVE):
        raise IncidentInvalid([WrongState(f"incident {incident.id} is {incident.phase(now)}; only live ones extend")])
    errors = _time_errors(incident.starts_at, ends_at, now, max(now, incident.starts_at))
    if ends_at <= incident.ends_at:
        errors.append(EndBeforeStart("an extension must move the end later"))
    errors += _overlaps(incident.affected, incident.starts_at, ends_at, now, ctx.others, incident.id)
    _raise(errors)
    return replace(incident, ends_at=ends_at)


def end(incident: Incident, by: Principal, now: datetime) -> Incident:
    """Ended by a person now (an incident also ends by itself at ``ends_at``: see :meth:`Incident.phase`)."""
    _require_admin(by)
    if incident.phase(now) not in (Phase.SCHEDULED, Phase.ACTIVE):
        raise IncidentInvalid([WrongState(f"incident {incident.id} is {incident.phase(now)}; nothing to end")])
    return replace(incident, status=Status.ENDED, ended_by=by.username, ended_at=now)


def _require_admin(by: Principal) -> None:
    if by.role is not Role.CITY_ADMIN:
        raise IncidentInvalid([NotAllowed("only city admins approve, extend and end incidents")])


def next_change(incidents: Iterable[Incident], now: datetime) -> datetime | None:
    """When the next scheduled start or end happens: the moment to re-render the affected APs' plans."""
    moments = [t for i in incidents if i.status is Status.APPROVED for t in (i.starts_at, i.ends_at) if t > now]
    return min(moments, default=None)
