"""The dashboard's JSON: the map's sites in a compact form, the shipped boundaries, and the vendored assets.

    GET /api/v1/map/sites?state=&municipality=&category=&tenant=   (any signed-in user, by scope)
        -> {"fields": ["id", "lat", "lon", "state", "category", "name"], "rows": [[...], ...], "total", "states"}
    GET /api/v1/map/boundaries      the 62 municipalities (MLIT N03 2021, simplified), GeoJSON
    GET /assets/leaflet/{file}      Leaflet and Leaflet.markercluster from the xstatic packages (no CDN)

Rows rather than objects: 20,000 sites as arrays are about a third of the bytes of the same as objects,
and the page builds its markers from them in one loop. Sites without coordinates are left out of the
map (they are in the lists) and counted in ``unplaced``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from tsunagaru.sites.scope import Principal, read_scope
from tsunagaru.store.registry_tables import Site
from tsunagaru.web.api.common import READ, etag_json
from tsunagaru.web.context import WebContext
from tsunagaru.web.dashboard.fleet import FleetCache
from tsunagaru.web.deps import DB, Authenticated, Ctx
from tsunagaru.web.errors import Missing
from tsunagaru.web.i18n import negotiate

router = APIRouter(tags=["dashboard"])
SITE_STATES = ("ok", "problem", "critical", "unknown")
Code = Annotated[str, Query(max_length=6, pattern=r"^(\d{6})?$")]
Word = Annotated[str, Query(max_length=32, pattern=r"^[a-z-]*$")]
Tenant = Annotated[str, Query(alias="tenant", pattern=r"^(\d{1,9})?$")]  # "" from a form: all


def fleet(ctx: WebContext) -> FleetCache:
    found = ctx.extras.get("fleet")
    if not isinstance(found, FleetCache):
        found = FleetCache(ctx.store)
        ctx.extras["fleet"] = found
    return found


def scoped_sites(db: DB, principal: Principal, municipality: str = "", category: str = "",
                 tenant: int | None = None) -> list[Any]:
    scope = read_scope(principal)
    if scope.nothing:
        return []
    query = select(Site.id, Site.lat, Site.lon, Site.category, Site.name, Site.name_en, Site.municipality_code,
                   Site.operator_id).where(Site.state != "retired")
    if scope.municipality_code is not None:
        query = query.where(Site.municipality_code == scope.municipality_code)
    elif scope.operator_id is not None:
        query = query.where(Site.operator_id == scope.operator_id)
    if municipality:
        query = query.where(Site.municipality_code == municipality)
    if category:
        query = query.where(Site.category == category)
    if tenant is not None:
        query = query.where(Site.operator_id == tenant)
    return list(db.execute(query.order_by(Site.id)))


@router.get("/api/v1/map/sites", responses=READ)
def map_sites(request: Request, principal: Authenticated, db: DB, ctx: Ctx, state: Word = "", municipality: Code = "",
              category: Word = "", tenant_: Tenant = "") -> Response:
    lang = negotiate(request.query_params.get("lang"), request.cookies.get("tsg_lang"),
                     request.headers.get("accept-language"))
    tenant = int(tenant_) if tenant_ else None  # "" from the form: no filter
    states = fleet(ctx).get(ctx.now())
    rows, unplaced, counts = [], 0, dict.fromkeys(SITE_STATES, 0)
    for site_id, lat, lon, cat, name, name_en, _code, _org in scoped_sites(db, principal, municipality, category,
                                                                          tenant):
        site_state = states.site_state(site_id)
        if state and site_state != state:
            continue
        counts[site_state] = counts.get(site_state, 0) + 1
        if lat is None or lon is None:
            unplaced += 1
            continue
        label = name if lang == "ja" else (name_en or name)
        rows.append([site_id, round(lat, 5), round(lon, 5), site_state, cat, label[:80]])
    return etag_json(request, {"fields": ["id", "lat", "lon", "state", "category", "name"], "rows": rows,
                               "total": len(rows), "unplaced": unplaced, "states": counts})


def boundaries_path() -> Path:
    from tsunagaru.web.incidents import boundaries_file

    return boundaries_file()


@functools.cache
def boundaries_body() -> bytes:
    data = json.loads(boundaries_path().read_text(encoding="utf-8"))
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


@router.get("/api/v1/map/boundaries", response_class=Response, responses={
    **READ, 200: {"description": "a GeoJSON FeatureCollection (RFC 7946)",
                  "content": {"application/geo+json": {"schema": {"type": "object"}}}}})
def map_boundaries(principal: Authenticated) -> Response:
    return Response(boundaries_body(), media_type="application/geo+json",
                    headers={"Cache-Control": "private, max-age=86400"})


@functools.cache
def vendored() -> dict[str, Path]:
    """The files the pages load, by the name they use: nothing else of the packages is reachable."""
    import xstatic.pkg.leaflet as leaflet  # type: ignore[import-untyped]
    import xstatic.pkg.leaflet_markercluster as cluster  # type: ignore[import-untyped]

    base, extra = Path(leaflet.BASE_DIR), Path(cluster.BASE_DIR)
    return {"leaflet.js": base / "leaflet.js", "leaflet.css": base / "leaflet.css",
            "images/marker-icon.png": base / "images" / "marker-icon.png",
            "images/marker-icon-2x.png": base / "images" / "marker-icon-2x.png",
            "images/marker-shadow.png": base / "images" / "marker-shadow.png",
            "images/layers.png": base / "images" / "layers.png",
            "images/layers-2x.png": base / "images" / "layers-2x.png",
            "leaflet.markercluster.js": extra / "leaflet.markercluster.js",
            "MarkerCluster.css": extra / "MarkerCluster.css",
            "MarkerCluster.Default.css": extra / "MarkerCluster.Default.css"}


@router.get("/assets/leaflet/{name:path}", include_in_schema=False)
def leaflet_asset(name: str) -> Response:
    path = vendored().get(name)
    if path is None:
        raise Missing
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
