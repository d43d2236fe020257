"""What every API router shares: the error body and pagination in the schema, and ETag'd JSON.

Routers declare ``responses=ERRORS`` so the OpenAPI document names the typed error body for each
status they can return (schemathesis checks responses against it), and answer reads with
:func:`etag_json`, which turns a matching ``If-None-Match`` into 304.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[str] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorBody, "description": "typed error"} for s in statuses}


ERRORS = _errors(400, 401, 403, 404, 409, 413, 415, 422, 429)
READ = {**ERRORS, 304: {"description": "not modified (If-None-Match matched the ETag)"}}


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Paging(BaseModel):
    model_config = ConfigDict(frozen=True)
    limit: int
    offset: int


def paging(limit: Annotated[int, Query(ge=1, le=500)] = 50,
           offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Paging:
    return Paging(limit=limit, offset=offset)


PagingQ = Annotated[Paging, Depends(paging)]


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    return etag in {tag.strip().removeprefix("W/") for tag in header.split(",")[:50]}


def etag_json(request: Request, model: BaseModel | dict[str, Any] | list[Any]) -> Response:
    """``model`` as JSON with a strong ETag; 304 when the client already has it."""
    data = model.model_dump(mode="json") if isinstance(model, BaseModel) else model
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"}
    if matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
