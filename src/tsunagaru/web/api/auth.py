"""``POST /api/v1/auth/token``: a username and password (and TOTP code) for a bearer token, shown once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tsunagaru.web.api.common import ERRORS
from tsunagaru.web.auth.accounts import SignIn, authenticate, issue_token
from tsunagaru.web.deps import DB, Authenticated, Ctx

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    otp: str | None = Field(default=None, max_length=10, description="TOTP code, when the account has one")
    label: str = Field(default="", max_length=64)


class TokenResponse(BaseModel):
    token: str
    expires_in: int = Field(description="seconds")


class Me(BaseModel):
    username: str
    role: str
    municipality_code: str | None
    organisation_id: int | None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


@router.post("/token", response_model=TokenResponse, responses=ERRORS, status_code=200)
def token(body: TokenRequest, request: Request, db: DB, ctx: Ctx) -> TokenResponse:
    user = authenticate(db, ctx.limiter, SignIn(body.username, body.password, body.otp, client_address(request)),
                        ctx.monotonic())
    value = issue_token(db, user, ctx.now(), ctx.settings.token_days, body.label)
    return TokenResponse(token=value, expires_in=int(ctx.settings.token_days * 86400))


@router.get("/me", response_model=Me, responses=ERRORS)
def me(principal: Authenticated) -> Me:
    return Me(username=principal.username, role=principal.role.value,
              municipality_code=principal.municipality_code, organisation_id=principal.organisation_id)
