"""``/api/v1/tenants``: organisations (the city, municipalities, site operators), applications, approvals;
``/api/v1/municipalities``: the reference list.

Applications come from the public form or ``POST /api/v1/tenants/applications`` without an account;
they are stored pending and grant nothing until a city admin approves them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from tsunagaru.sites import tenants
from tsunagaru.web.api.common import ERRORS, READ, Page, PagingQ, etag_json
from tsunagaru.web.api.models import Application, MunicipalityOut, OrganisationIn, OrganisationOut, dump
from tsunagaru.web.deps import DB, Authenticated, Ctx

router = APIRouter(prefix="/api/v1", tags=["tenants"])
OrgId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/municipalities", response_model=list[MunicipalityOut], responses=READ)
def municipalities(request: Request, principal: Authenticated, db: DB) -> Response:
    return etag_json(request, [m.to_json() for m in tenants.list_municipalities(db, principal)])


@router.get("/tenants", response_model=Page[OrganisationOut], responses=READ)
def list_tenants(request: Request, principal: Authenticated, db: DB, paging: PagingQ,
                 kind: Annotated[str | None, Query(pattern="^(city|municipality|site-operator)$")] = None,
                 state: Annotated[str | None, Query(pattern="^(pending|approved|rejected)$")] = None) -> Response:
    page = tenants.list_organisations(db, principal, kind=kind, state=state, limit=paging.limit, offset=paging.offset)
    return etag_json(request, Page[OrganisationOut](items=[OrganisationOut(**o.to_json()) for o in page.items],
                                                    total=page.total, limit=page.limit, offset=page.offset))


@router.post("/tenants", response_model=OrganisationOut, status_code=201, responses=ERRORS)
def create_tenant(body: OrganisationIn, principal: Authenticated, db: DB, ctx: Ctx) -> OrganisationOut:
    return OrganisationOut(**tenants.create_organisation(db, principal, dump(body), now=ctx.now()).to_json())


@router.post("/tenants/applications", response_model=OrganisationOut, status_code=201, responses=ERRORS)
def apply(body: Application, request: Request, db: DB, ctx: Ctx) -> OrganisationOut:
    """A private facility applies as a site-operator organisation; no account needed, nothing granted yet."""
    applicant = request.client.host if request.client else "-"
    return OrganisationOut(**tenants.apply_site_operator(db, applicant, dump(body), now=ctx.now()).to_json())


@router.get("/tenants/{org_id}", response_model=OrganisationOut, responses=READ)
def get_tenant(request: Request, org_id: OrgId, principal: Authenticated, db: DB) -> Response:
    return etag_json(request, OrganisationOut(**tenants.get_organisation(db, principal, org_id).to_json()))


@router.post("/tenants/{org_id}/approve", response_model=OrganisationOut, responses=ERRORS)
def approve(org_id: OrgId, principal: Authenticated, db: DB, ctx: Ctx) -> OrganisationOut:
    return OrganisationOut(**tenants.approve_organisation(db, principal, org_id, now=ctx.now()).to_json())


@router.post("/tenants/{org_id}/reject", response_model=OrganisationOut, responses=ERRORS)
def reject(org_id: OrgId, principal: Authenticated, db: DB, ctx: Ctx) -> OrganisationOut:
    return OrganisationOut(**tenants.reject_organisation(db, principal, org_id, now=ctx.now()).to_json())
