"""``/api/v1/sites``: the registry's sites, per scope (out of scope: 404 on reads, 403 on writes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from tsunagaru.sites import service
from tsunagaru.web.api.common import ERRORS, READ, Page, PagingQ, etag_json
from tsunagaru.web.api.models import SiteIn, SiteOut, SitePatch, dump
from tsunagaru.web.deps import DB, Authenticated, Ctx

router = APIRouter(prefix="/api/v1/sites", tags=["sites"])
SiteId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Code = Annotated[str | None, Query(pattern=r"^\d{6}$", description="local government code, e.g. 131041")]


@router.get("", response_model=Page[SiteOut], responses=READ)
def list_sites(request: Request, principal: Authenticated, db: DB, paging: PagingQ, municipality: Code = None,
               q: Annotated[str | None, Query(max_length=100, description="part of a name")] = None) -> Response:
    page = service.list_sites(db, principal, municipality=municipality, q=q, limit=paging.limit,
                              offset=paging.offset)
    return etag_json(request, Page[SiteOut](items=[SiteOut(**s.to_json()) for s in page.items], total=page.total,
                                            limit=page.limit, offset=page.offset))


@router.post("", response_model=SiteOut, status_code=201, responses=ERRORS)
def create_site(body: SiteIn, principal: Authenticated, db: DB, ctx: Ctx) -> SiteOut:
    return SiteOut(**service.create_site(db, principal, dump(body), now=ctx.now()).to_json())


@router.get("/{site_id}", response_model=SiteOut, responses=READ)
def get_site(request: Request, site_id: SiteId, principal: Authenticated, db: DB) -> Response:
    return etag_json(request, SiteOut(**service.get_site(db, principal, site_id).to_json()))


@router.patch("/{site_id}", response_model=SiteOut, responses=ERRORS)
def update_site(site_id: SiteId, body: SitePatch, principal: Authenticated, db: DB, ctx: Ctx) -> SiteOut:
    return SiteOut(**service.update_site(db, principal, site_id, dump(body), now=ctx.now()).to_json())


@router.delete("/{site_id}", status_code=204, responses=ERRORS)
def delete_site(site_id: SiteId, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    service.delete_site(db, principal, site_id, now=ctx.now())
    return Response(status_code=204)
