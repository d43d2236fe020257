"""The identity providers the ANP reaches, as the dashboard shows them: per realm, its state and peers.

    GET /api/v1/idps            (any signed-in user; what each role sees below)
        -> {"at", "items": [{"realm", "state", "peers_up", "peers_total", "last_reply", "requests", "timeouts",
                             "peers": [{"node", "host", "port", "server_name", "found", "state", "state_since",
                                        "last_reply", "requests", "timeouts", "errors", "updated_at", "fresh"}]}],
            "total", "detail"}
    GET /dashboard/idps         the same as a page (linked from the dashboard's navigation)

The state is ``tsunagaru.ops.health.idp_fleet`` over every ANP node's latest peer rows (``ops_idp_peers``).
Who sees what: city admins, viewers and auditors (the city-wide roles) see everything; municipality and
site operators see each realm's state, since when, and how many of its peers are up: what explains failing
logins at their sites. The peers' addresses and the city-wide request counts stay with the city roles
(``"detail": false``, and no ``peers``, ``requests``, ``timeouts``, ``last_reply`` in their items; an IdP
alert's detail, which names peers, is blank for them too).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tsunagaru.ops.alert_history import IDP_DETAIL_ROLES, list_alerts
from tsunagaru.ops.health import IdpHealth, IdpState, Thresholds, idp_fleet
from tsunagaru.sites.scope import Principal
from tsunagaru.store.peer_status import latest_peers
from tsunagaru.web.api.common import READ, etag_json
from tsunagaru.web.deps import DB, Authenticated, Ctx
from tsunagaru.web.render import render

router = APIRouter(tags=["dashboard"])
ORDER = {IdpState.DOWN: 0, IdpState.DEGRADED: 1, IdpState.UNKNOWN: 2, IdpState.UP: 3}
THRESHOLDS = Thresholds()
HISTORY = timedelta(days=7)


def sees_peers(principal: Principal) -> bool:
    return principal.role in IDP_DETAIL_ROLES


def idps(db: Session, now: datetime, t: Thresholds = THRESHOLDS) -> list[IdpHealth]:
    """Every realm's health, the bad ones first."""
    found = idp_fleet(latest_peers(db), now, t)
    return sorted(found.values(), key=lambda h: (ORDER[h.state], h.realm))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _since(h: IdpHealth) -> datetime | None:
    """When the realm's fresh peers last changed state (the newest change among them)."""
    times = [p.state_since for p, f in zip(h.peers, h.fresh, strict=True) if f and p.state_since is not None]
    return max(times) if times else None


def item(h: IdpHealth, now: datetime, detail: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"realm": h.realm, "state": h.state.value, "since": _iso(_since(h)),
                           "peers_up": h.peers_up, "peers_total": sum(h.fresh)}
    if detail:
        out |= {"last_reply": _iso(h.last_reply), "requests": h.requests, "timeouts": h.timeouts,
                "peers": [{"node": p.node, "host": p.host, "port": p.port, "server_name": p.server_name,
                           "found": p.found, "state": p.state, "state_since": _iso(p.state_since),
                           "last_reply": _iso(p.last_reply), "requests": p.requests, "timeouts": p.timeouts,
                           "errors": p.errors, "updated_at": _iso(p.updated_at), "fresh": f}
                          for p, f in zip(h.peers, h.fresh, strict=True)]}
    return out


@router.get("/api/v1/idps", responses=READ)
def idps_api(request: Request, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    now = ctx.now()
    detail = sees_peers(principal)
    items = [item(h, now, detail) for h in idps(db, now)]
    return etag_json(request, {"at": now.isoformat(), "items": items, "total": len(items), "detail": detail})


@router.get("/dashboard/idps", include_in_schema=False)
def idps_page(request: Request, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    now = ctx.now()
    found = idps(db, now)
    history = [a for a in list_alerts(db, principal, since=now - HISTORY, limit=500, idps=True)
               if a.realm is not None]
    return render(request, "dashboard/idps.html", idps=found, detail=sees_peers(principal),
                  stale_minutes=int(THRESHOLDS.idp_stale_after.total_seconds() // 60),
                  since={h.realm: _since(h) for h in found}, history=history[:200], show_site=False)
