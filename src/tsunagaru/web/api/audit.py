"""``GET /api/v1/audit``: the append-only audit log, newest first (city admins and auditors)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from tsunagaru.sites import audit
from tsunagaru.web.api.common import READ, Page, PagingQ, etag_json
from tsunagaru.web.api.models import AuditOut
from tsunagaru.web.deps import DB, Authenticated

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Short = Annotated[str | None, Query(max_length=64)]


@router.get("", response_model=Page[AuditOut], responses=READ)
def list_audit(request: Request, principal: Authenticated, db: DB, paging: PagingQ, resource_type: Short = None,
               resource_id: Short = None, actor: Short = None, action: Short = None) -> Response:
    page = audit.list_audit(db, principal, resource_type=resource_type, resource_id=resource_id, actor=actor,
                            action=action, limit=paging.limit, offset=paging.offset)
    return etag_json(request, Page[AuditOut](items=[AuditOut(**e.to_json()) for e in page.items], total=page.total,
                                             limit=page.limit, offset=page.offset))
