"""The dashboard's pages: the map with filters, site and AP pages, usage charts, alerts, incidents.

Every page reads through the signed-in Principal's scope (the registry services, or the same scope
filter on the map query), so a municipality operator sees its ward and a site operator its sites.
The map is drawn in the browser from ``/api/v1/map/sites`` by ``/static/dashboard/map.js`` (no inline
script: the Content-Security-Policy allows scripts from this origin only); base tiles only when
``web.tile_url`` (or ``TSUNAGARU_TILE_URL``) names a tile server (its origin joins the CSP's img-src),
none by default, so nothing leaves the machine.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from sqlalchemy import select

from tsunagaru.ops import incidents as rules
from tsunagaru.ops.alert_history import list_alerts
from tsunagaru.ops.areas import AreaError, parse_area
from tsunagaru.ops.usage import Rendering, show_count
from tsunagaru.sites import service, tenants
from tsunagaru.sites.fields import CATEGORIES
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.store.ops_tables import AccountingSessionRow, ActivityRow, UsageHourRow
from tsunagaru.store.registry_tables import AccessPoint
from tsunagaru.web import incidents
from tsunagaru.web.config import tile_url
from tsunagaru.web.dashboard.api import SITE_STATES, fleet, scoped_sites
from tsunagaru.web.dashboard.charts import hours, usage_svg
from tsunagaru.web.dashboard.fleet import ap_ids as fleet_ap_ids
from tsunagaru.web.dashboard.idps import idps
from tsunagaru.web.deps import DB, Authenticated, Csrf, Ctx
from tsunagaru.web.errors import Rejected, translator
from tsunagaru.web.incidents_api import MESSAGES
from tsunagaru.web.pages.common import see_other
from tsunagaru.web.render import render

router = APIRouter(include_in_schema=False)
Code = Annotated[str, Query(max_length=6, pattern=r"^(\d{6})?$")]
Word = Annotated[str, Query(max_length=32, pattern=r"^[a-z-]*$")]
Tenant = Annotated[str, Query(alias="tenant", pattern=r"^(\d{1,9})?$")]  # "" from a form: all
RECENT = timedelta(hours=6)
HISTORY = timedelta(days=7)  # ended alerts shown on the alert list and the site and AP pages
MAP_CATEGORIES = CATEGORIES  # the registry's, shelter and library among them (shelters come first in incidents)


def _orgs(db: DB, principal: Principal) -> list[Any]:
    if principal.role not in (Role.CITY_ADMIN, Role.VIEWER, Role.AUDITOR):
        return []  # the tenant filter is for those who see every tenant's sites
    return [o for o in tenants.list_organisations(db, principal, kind="site-operator", limit=500).items]


@router.get("/dashboard")
def dashboard(request: Request, principal: Authenticated, db: DB, ctx: Ctx, state: Word = "", municipality: Code = "",
              category: Word = "", tenant_: Tenant = "") -> Response:
    now = ctx.now()
    tenant = int(tenant_) if tenant_ else None  # "" from the form: no filter
    states = fleet(ctx).get(now)
    counts = dict.fromkeys(SITE_STATES, 0)
    for row in scoped_sites(db, principal):
        s = states.site_state(row[0])
        counts[s] = counts.get(s, 0) + 1
    live = [i for i in incidents.list_incidents(db, principal, limit=50) if i.is_live(now)]
    query = {k: v for k, v in {"state": state, "municipality": municipality, "category": category,
                               "tenant": str(tenant) if tenant else ""}.items() if v}
    return render(request, "dashboard/map.html", counts=counts, states=SITE_STATES, state=state,
                  municipality=municipality, category=category, tenant=tenant, categories=MAP_CATEGORIES,
                  municipalities=list(tenants.list_municipalities(db, principal)), organisations=_orgs(db, principal),
                  incidents=live, now=now, tile_url=tile_url(ctx.settings), query=query)


def _keys_of(db: DB, keys: Any, ap_ids: list[int]) -> set[str]:
    """The activity keys among ``keys`` that belong to ``ap_ids`` (``ap-ID[/..]`` or ``CLIENT/NAS-ID``)."""
    wanted = {str(i) for i in ap_ids}
    return {key for key, ap in fleet_ap_ids(db, set(keys)).items() if ap in wanted}


def _activity(db: DB, ap_ids: list[int], since: datetime) -> list[Any]:
    if not ap_ids:
        return []
    keys = _keys_of(db, db.scalars(select(ActivityRow.ap_key).distinct().where(ActivityRow.interval_start >= since)),
                    ap_ids)
    if not keys:
        return []
    return list(db.scalars(select(ActivityRow).where(ActivityRow.interval_start >= since,
                                                     ActivityRow.ap_key.in_(sorted(keys)[:1000]))
                           .order_by(ActivityRow.interval_start.desc()).limit(48)))


def _connected(db: DB, ap_ids: list[int], now: datetime) -> int:
    session = AccountingSessionRow
    rows = list(db.execute(select(session.ap_key, session.user_id, session.session_key)
                           .where(AccountingSessionRow.last_at >= now - timedelta(minutes=25),
                                  AccountingSessionRow.stopped.is_(False))))
    keys = _keys_of(db, {row[0] for row in rows}, ap_ids)
    return len({user or session for key, user, session in rows if key in keys})


@router.get("/dashboard/sites/{site_id}")
def site_page(request: Request, site_id: int, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    now = ctx.now()
    site = service.get_site(db, principal, site_id)  # NotFound out of scope
    aps = service.list_aps(db, principal, site_id=site_id, limit=100, offset=0, now=now)
    f = fleet(ctx).get(now)
    ids = [a.id for a in aps.items]
    rendering = Rendering.for_role(principal.role)
    connected = _connected(db, ids, now)
    return render(request, "dashboard/site.html", site=site, aps=aps, fleet=f, site_state=f.site_state(site_id),
                  activity=_activity(db, ids, now - RECENT), connected=show_count(connected, rendering),
                  chart=f"/dashboard/charts/usage.svg?site={site_id}",
                  history=list_alerts(db, principal, site_id=site_id, since=now - HISTORY, limit=50), show_site=False)


@router.get("/dashboard/aps/{ap_id}")
def ap_page(request: Request, ap_id: int, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    now = ctx.now()
    ap = service.get_ap(db, principal, ap_id, now=now)
    row = db.get(AccessPoint, ap_id)
    f = fleet(ctx).get(now)
    disaster = incidents.DisasterIndex._load(db, now).get(str(ap_id))
    return render(request, "dashboard/ap.html", ap=ap, row=row, ap_health=f.ap(ap_id), disaster=disaster,
                  activity=_activity(db, [ap_id], now - RECENT),
                  history=list_alerts(db, principal, ap_id=ap_id, since=now - HISTORY, limit=50), show_site=False)


def _usage_keys(db: DB, principal: Principal, site: int | None) -> tuple[str, list[str]]:
    if site is not None:
        service.get_site(db, principal, site)
        return "site", [str(site)]
    if principal.role is Role.MUNICIPALITY_OPERATOR and principal.municipality_code:
        return "municipality", [principal.municipality_code]
    if principal.role is Role.SITE_OPERATOR and principal.organisation_id is not None:
        return "tenant", [str(principal.organisation_id)]
    return "municipality", []  # everything: the sum over municipalities


@router.get("/dashboard/charts/usage.svg")
def usage_chart(request: Request, principal: Authenticated, db: DB, ctx: Ctx,
                site: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Response:
    t = translator(request)
    now = ctx.now()
    slots = hours(now)
    dimension, keys = _usage_keys(db, principal, site)
    query = select(UsageHourRow.hour, UsageHourRow.sessions, UsageHourRow.users).where(
        UsageHourRow.dimension == dimension, UsageHourRow.hour >= slots[0])
    if keys:
        query = query.where(UsageHourRow.key.in_(keys))
    sessions = dict.fromkeys(slots, 0)
    users = dict.fromkeys(slots, 0)
    for hour, n, u in db.execute(query):
        if hour in sessions:
            sessions[hour] += n
            users[hour] += u
    body = usage_svg(t.gettext("Sessions and users per hour (last 24 h)"), slots,
                     [(t.gettext("Sessions"), list(sessions.values())), (t.gettext("Users"), list(users.values()))],
                     exact=principal.role is Role.CITY_ADMIN)
    return Response(body, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})


@router.get("/dashboard/usage")
def usage_page(request: Request, principal: Authenticated) -> Response:
    return render(request, "dashboard/usage.html", chart="/dashboard/charts/usage.svg",
                  exact=principal.role is Role.CITY_ADMIN)


@router.get("/dashboard/alerts")
def alerts_page(request: Request, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    now = ctx.now()
    f = fleet(ctx).get(now)
    sites = {row[0]: row for row in scoped_sites(db, principal)}
    alerts = []
    for ap_id, health in f.health.aps.items():
        site_id = int(f.site_of.get(ap_id, "0"))
        if site_id in sites and health.state.value in ("down", "degraded"):
            alerts.append({"ap": int(ap_id), "site": site_id, "site_name": sites[site_id][4],
                           "state": health.state.value, "checks": health.failing})
    alerts.sort(key=lambda a: (a["state"] != "down", a["site"], a["ap"]))
    history = list_alerts(db, principal, since=now - HISTORY, limit=500, idps=True)
    bad_idps = [h for h in idps(db, now) if h.state.value in ("down", "degraded")]
    return render(request, "dashboard/alerts.html", alerts=alerts[:1000], total=len(alerts), history=history,
                  show_site=True, idps=bad_idps)


# -- incidents ------------------------------------------------------------------------------------------


def _incident_list(request: Request, db: DB, principal: Principal, now: datetime, status: int = 200,
                   **values: Any) -> Response:
    return render(request, "dashboard/incidents.html", status=status, items=incidents.list_incidents(db, principal),
                  now=now, municipalities=list(tenants.list_municipalities(db, principal)),
                  may_declare=principal.role in (Role.CITY_ADMIN, Role.MUNICIPALITY_OPERATOR), **values)


@router.get("/dashboard/incidents")
def incidents_page(request: Request, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    return _incident_list(request, db, principal, ctx.now(), form={"hours": "24"})


def _messages(request: Request, exc: rules.IncidentInvalid | AreaError) -> list[str]:
    t = translator(request)
    codes = exc.codes if isinstance(exc, rules.IncidentInvalid) else [exc.code]
    return [t.gettext(MESSAGES.get(c, c)) for c in codes]


@router.post("/dashboard/incidents", dependencies=[Csrf])
def declare_page(request: Request, principal: Authenticated, db: DB, ctx: Ctx,
                 municipality: Annotated[str, Form(max_length=6)] = "",
                 hours_: Annotated[str, Form(alias="hours", max_length=6)] = "24",
                 reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    now = ctx.now()
    form = {"municipality": municipality, "hours": hours_, "reason": reason}
    try:
        try:
            span = float(hours_)
        except ValueError:
            raise rules.IncidentInvalid([rules.EndInPast("hours is not a number")]) from None
        ends = now + timedelta(hours=span) if 0 < span < 10_000 else now
        draft = rules.Draft(parse_area({"municipalities": [municipality]}), ends, reason)
        incident = incidents.declare(db, principal, draft, now)
    except (rules.IncidentInvalid, AreaError) as exc:
        raise Rejected(_incident_list(request, db, principal, now, status=422, form=form,
                                      errors=_messages(request, exc))) from None
    return incidents.reload_after(see_other(f"/dashboard/incidents/{incident.id}"), ctx.extras)


@router.get("/dashboard/incidents/{incident_id}")
def incident_page(request: Request, incident_id: str, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    now = ctx.now()
    incident = incidents.get(db, principal, incident_id[:40])
    f = fleet(ctx).get(now)
    sites = incidents.affected_site_list(db, incident)
    readable = {row[0] for row in scoped_sites(db, principal)}
    shown = [s for s in sites if int(s.site_id) in readable]
    ap_ids = [int(a) for s in shown for a in s.ap_ids]
    rendering = Rendering.for_role(principal.role)
    return render(request, "dashboard/incident.html", incident=incident, phase=incident.phase(now).value,
                  sites=shown, fleet=f, connected=show_count(_connected(db, ap_ids, now), rendering),
                  area=incident.area.to_json(), site_ids=",".join(s.site_id for s in shown),
                  may_end=principal.role is Role.CITY_ADMIN and incident.phase(now).value in ("active", "scheduled"),
                  may_approve=principal.role is Role.CITY_ADMIN and incident.phase(now).value == "requested")


def _incident_step(request: Request, db: DB, principal: Principal, ctx: Ctx, incident_id: str, step: str) -> Response:
    now = ctx.now()
    run = {"end": incidents.end, "approve": incidents.approve}[step]
    try:
        run(db, principal, incident_id[:40], now)
    except rules.IncidentInvalid as exc:
        raise Rejected(render(request, "error.html", status=409, status_code=409,
                              message=" ".join(_messages(request, exc)))) from None
    return incidents.reload_after(see_other(f"/dashboard/incidents/{incident_id[:40]}"), ctx.extras)


@router.post("/dashboard/incidents/{incident_id}/end", dependencies=[Csrf])
def end_page(request: Request, incident_id: str, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    return _incident_step(request, db, principal, ctx, incident_id, "end")


@router.post("/dashboard/incidents/{incident_id}/approve", dependencies=[Csrf])
def approve_page(request: Request, incident_id: str, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    return _incident_step(request, db, principal, ctx, incident_id, "approve")
