"""Disaster incidents over the API (the demo contract) and the typed errors they answer with.

    POST /api/v1/incidents            {"area", "ends_at", "reason", ["starts_at"]} -> {"id", "affected_aps", ...}
    GET  /api/v1/incidents            the incidents the caller may read, newest first
    GET  /api/v1/incidents/{id}       one incident (its area, phase, affected APs and sites, shelters first)
    POST /api/v1/incidents/{id}/approve | /reject | /end       (city admins)
    POST /api/v1/incidents/{id}/extend {"ends_at"}             (city admins, at most 72 h from now)

A city admin's POST declares (active at once, or at ``starts_at``); a municipality operator's POST is a
request for its own municipality that a city admin approves. Refusals are 422 (403 for a role that may
not, 409 for a wrong state or an overlap) with ``{"error": {"code", "message", "problems": [...]}}``,
every problem found at once, each message in the caller's language.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator

from tsunagaru.ops import incidents as rules
from tsunagaru.ops.areas import AreaError, parse_area
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.web import incidents
from tsunagaru.web.api.common import ERRORS
from tsunagaru.web.deps import DB, Authenticated, Ctx
from tsunagaru.web.errors import PermissionDenied, _, translator
from tsunagaru.web.i18n import Translator

router = APIRouter(prefix="/api/v1", tags=["incidents"])
IncidentId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9-]+$")]

# Stable codes (tsunagaru.ops.incidents / areas) -> the message shown, translated per request.
MESSAGES = {
    "not-allowed": _("Your role may not do this with incidents (municipality operators request for their own "
                     "municipality; city administrators declare, approve, extend and end)."),
    "outside-tokyo": _("The area lies outside Tokyo."),
    "end-in-past": _("The end must be in the future."),
    "end-before-start": _("The end must be after the start (an extension must move the end later)."),
    "end-beyond-72h": _("The end may be at most 72 hours ahead."),
    "start-too-far": _("A scheduled start may be at most 30 days ahead."),
    "unknown-municipality": _("A municipality code is not a Tokyo municipality."),
    "municipality-without-sites": _("A municipality of the area has no sites."),
    "empty-area": _("The area holds no access point."),
    "overlap": _("Access points of this area are already in a live incident: extend or approve that one instead."),
    "bad-reason": _("A reason of 1 to 500 characters is required."),
    "wrong-state": _("The incident is not in a state that allows this."),
    "invalid-area": _("The area must be municipalities, a GeoJSON polygon or a circle."),
    "invalid-geojson": _("The polygon is not valid GeoJSON (a Polygon or MultiPolygon with closed rings)."),
    "naive-time": _("Times must be ISO 8601 with a time zone (e.g. 2026-12-02T09:00:00+09:00)."),
}
STATUS = {"not-allowed": 403, "wrong-state": 409, "overlap": 409}


class IncidentIn(BaseModel):
    area: dict[str, Any] = Field(description='{"municipalities": [...]} | {"polygon": GeoJSON} | {"circle": {...}}')
    ends_at: datetime
    reason: str = Field(max_length=2000)
    starts_at: datetime | None = None

    @field_validator("ends_at", "starts_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("a time zone is required")
        return v


class ExtendIn(BaseModel):
    ends_at: datetime

    @field_validator("ends_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("a time zone is required")
        return v


def problems(t: Translator, codes: list[str], details: list[str]) -> list[dict[str, str]]:
    return [{"code": c, "message": t.gettext(MESSAGES.get(c, c)), "detail": d}
            for c, d in zip(codes, details, strict=True)]


def refused(request: Request, codes: list[str], details: list[str]) -> JSONResponse:
    """The typed error of a refused step; nothing was written (the rules raise before any write)."""
    t = translator(request)
    listed = problems(t, codes, details)
    status = max((STATUS.get(c, 422) for c in codes), default=422)
    if "not-allowed" in codes:
        status = 403
    return JSONResponse({"error": {"code": codes[0], "message": listed[0]["message"], "problems": listed}},
                        status_code=status)


def invalid(request: Request, exc: rules.IncidentInvalid | AreaError) -> JSONResponse:
    if isinstance(exc, AreaError):
        return refused(request, [exc.code], [str(exc)])
    return refused(request, exc.codes, [str(e) for e in exc.errors])


def view(db: DB, incident: rules.Incident, now: datetime, sites: bool = True) -> dict[str, object]:
    data = incident.to_json(now)
    if sites:
        data["sites"] = [{"id": int(s.site_id), "name": s.name, "category": s.category,
                          "municipality_code": s.municipality_code, "aps": len(s.ap_ids)}
                         for s in incidents.affected_site_list(db, incident)]
    return data


def changed(request: Request, body: dict[str, object], status: int = 200) -> JSONResponse:
    """The answer to a step that changed an incident; the config view reloads once the change is committed
    (a background task runs after the request's transaction has committed)."""
    return incidents.reload_after(JSONResponse(body, status_code=status), request.app.state.ctx.extras)


@router.post("/incidents", status_code=201, responses={**ERRORS, 409: ERRORS[403]})
def create(request: Request, body: IncidentIn, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    if principal.role not in (Role.CITY_ADMIN, Role.MUNICIPALITY_OPERATOR):
        raise PermissionDenied
    now = ctx.now()
    try:
        draft = rules.Draft(parse_area(body.area), body.ends_at, body.reason, body.starts_at)
        incident = incidents.declare(db, principal, draft, now)
    except (rules.IncidentInvalid, AreaError) as exc:
        return invalid(request, exc)
    return changed(request, view(db, incident, now), 201)


@router.get("/incidents", responses=ERRORS)
def list_all(principal: Authenticated, db: DB, ctx: Ctx) -> dict[str, object]:
    now = ctx.now()
    items = [view(db, i, now, sites=False) for i in incidents.list_incidents(db, principal)]
    return {"items": items, "total": len(items)}


@router.get("/incidents/{incident_id}", responses=ERRORS)
def get_one(incident_id: IncidentId, principal: Authenticated, db: DB, ctx: Ctx) -> dict[str, object]:
    return view(db, incidents.get(db, principal, incident_id), ctx.now())


def _step(request: Request, db: DB, principal: Principal, now: datetime, run: Any) -> Response:
    try:
        incident = run()
    except rules.IncidentInvalid as exc:
        return invalid(request, exc)  # raised before any write: nothing to roll back
    return changed(request, view(db, incident, now))


@router.post("/incidents/{incident_id}/approve", responses={**ERRORS, 409: ERRORS[403]})
def approve(request: Request, incident_id: IncidentId, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    now = ctx.now()
    return _step(request, db, principal, now, lambda: incidents.approve(db, principal, incident_id, now))


@router.post("/incidents/{incident_id}/reject", responses={**ERRORS, 409: ERRORS[403]})
def reject(request: Request, incident_id: IncidentId, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    now = ctx.now()
    return _step(request, db, principal, now, lambda: incidents.reject(db, principal, incident_id, now))


@router.post("/incidents/{incident_id}/extend", responses={**ERRORS, 409: ERRORS[403]})
def extend(request: Request, incident_id: IncidentId, body: ExtendIn, principal: Authenticated, db: DB,
           ctx: Ctx) -> Response:
    now = ctx.now()
    return _step(request, db, principal, now,
                 lambda: incidents.extend(db, principal, incident_id, body.ends_at, now))


@router.post("/incidents/{incident_id}/end", responses={**ERRORS, 409: ERRORS[403]})
def end(request: Request, incident_id: IncidentId, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    now = ctx.now()
    return _step(request, db, principal, now, lambda: incidents.end(db, principal, incident_id, now))
