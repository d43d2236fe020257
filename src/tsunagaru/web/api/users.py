"""``/api/v1/users``: web accounts per scope (see :mod:`tsunagaru.web.users` for who sees whom)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from tsunagaru.sites.scope import Role
from tsunagaru.web import users
from tsunagaru.web.api.common import ERRORS, READ, Page, PagingQ, etag_json
from tsunagaru.web.deps import DB, Authenticated, Ctx

router = APIRouter(prefix="/api/v1/users", tags=["users"])

USERNAME = r"^[a-z0-9][a-z0-9._-]{2,63}$"
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class UserIn(BaseModel):
    username: str = Field(pattern=USERNAME, description="lower case letters, digits, . _ -")
    password: str = Field(min_length=10, max_length=256)
    role: Role
    municipality_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    organisation_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    municipality_code: str | None
    organisation_id: int | None
    enabled: bool
    totp: bool
    created_at: datetime


class UserPatch(BaseModel):
    enabled: bool


def _out(view: users.UserView) -> UserOut:
    return UserOut(**view.__dict__)


@router.get("", response_model=Page[UserOut], responses=READ)
def list_users(request: Request, principal: Authenticated, db: DB, paging: PagingQ) -> Response:
    items, total = users.list_users(db, principal, paging.limit, paging.offset)
    return etag_json(request, Page[UserOut](items=[_out(v) for v in items], total=total, limit=paging.limit,
                                            offset=paging.offset))


@router.post("", response_model=UserOut, status_code=201, responses=ERRORS)
def create_user(body: UserIn, principal: Authenticated, db: DB, ctx: Ctx) -> UserOut:
    new = users.NewUser(body.username, body.password, body.role, body.municipality_code, body.organisation_id)
    return _out(users.create_user(db, principal, new, ctx.now()))


@router.get("/{user_id}", response_model=UserOut, responses=READ)
def get_user(request: Request, user_id: UserId, principal: Authenticated, db: DB) -> Response:
    return etag_json(request, _out(users.get_user(db, principal, user_id)))


@router.patch("/{user_id}", response_model=UserOut, responses=ERRORS)
def patch_user(user_id: UserId, body: UserPatch, principal: Authenticated, db: DB, ctx: Ctx) -> UserOut:
    return _out(users.set_enabled(db, principal, user_id, body.enabled, ctx.now()))


@router.delete("/{user_id}", status_code=204, responses=ERRORS)
def delete_user(user_id: UserId, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    users.delete_user(db, principal, user_id, ctx.now())
    return Response(status_code=204)
