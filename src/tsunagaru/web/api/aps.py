"""``/api/v1/aps``: access points per scope, with their config state (current, pending, failed, silent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from tsunagaru.sites import service
from tsunagaru.web.api.common import ERRORS, READ, Page, PagingQ, etag_json
from tsunagaru.web.api.models import ApIn, ApOut, ApPatch, dump
from tsunagaru.web.deps import DB, Authenticated, Ctx

router = APIRouter(prefix="/api/v1/aps", tags=["aps"])
ApId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_model=Page[ApOut], responses=READ)
def list_aps(request: Request, principal: Authenticated, db: DB, ctx: Ctx, paging: PagingQ,
             site_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
             municipality: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None) -> Response:
    page = service.list_aps(db, principal, site_id=site_id, municipality=municipality, limit=paging.limit,
                            offset=paging.offset, now=ctx.now())
    return etag_json(request, Page[ApOut](items=[ApOut(**a.to_json()) for a in page.items], total=page.total,
                                          limit=page.limit, offset=page.offset))


@router.post("", response_model=ApOut, status_code=201, responses=ERRORS)
def create_ap(body: ApIn, principal: Authenticated, db: DB, ctx: Ctx) -> ApOut:
    return ApOut(**service.create_ap(db, principal, dump(body) | {"site_id": body.site_id}, now=ctx.now()).to_json())


@router.get("/{ap_id}", response_model=ApOut, responses=READ)
def get_ap(request: Request, ap_id: ApId, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    return etag_json(request, ApOut(**service.get_ap(db, principal, ap_id, now=ctx.now()).to_json()))


@router.patch("/{ap_id}", response_model=ApOut, responses=ERRORS)
def update_ap(ap_id: ApId, body: ApPatch, principal: Authenticated, db: DB, ctx: Ctx) -> ApOut:
    return ApOut(**service.update_ap(db, principal, ap_id, dump(body), now=ctx.now()).to_json())


@router.delete("/{ap_id}", status_code=204, responses=ERRORS)
def delete_ap(ap_id: ApId, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    service.delete_ap(db, principal, ap_id, now=ctx.now())
    return Response(status_code=204)
