"""Pages of the account: the start page, sign in and out, the language switch, the second factor."""

from __future__ import annotations

from typing import Annotated

import pyotp
from fastapi import APIRouter, Form, Request, Response

from tsunagaru.sites import service
from tsunagaru.web import users
from tsunagaru.web.api.auth import client_address
from tsunagaru.web.auth.accounts import SignIn, authenticate, close_session, open_session
from tsunagaru.web.deps import DB, Authenticated, Csrf, Ctx, MaybePrincipal
from tsunagaru.web.errors import WebError, translator
from tsunagaru.web.i18n import COOKIE, LOCALES
from tsunagaru.web.pages.common import role_names, safe_next, see_other
from tsunagaru.web.render import render
from tsunagaru.web.security import SESSION_COOKIE, cookie_options

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, principal: MaybePrincipal, db: DB) -> Response:
    counts = {"sites": 0, "aps": 0}
    if principal is not None:  # totals of what this user may read (the services scope them)
        counts = {"sites": service.list_sites(db, principal, limit=1).total,
                  "aps": service.list_aps(db, principal, limit=1).total}
    return render(request, "home.html", counts=counts, role_names=role_names(translator(request)))


@router.get("/login")
def login_form(request: Request, principal: MaybePrincipal, next: str = "/") -> Response:
    return render(request, "login.html", next=safe_next(next))


@router.post("/login", dependencies=[Csrf])
def login(request: Request, db: DB, ctx: Ctx, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=256)], otp: Annotated[str, Form(max_length=10)] = "",
          next: Annotated[str, Form(max_length=500)] = "/") -> Response:
    try:
        user = authenticate(db, ctx.limiter, SignIn(username, password, otp or None, client_address(request)),
                            ctx.monotonic())
    except WebError as exc:
        t = translator(request)
        return render(request, "login.html", status=exc.status, next=safe_next(next), username=username,
                      error=t.gettext(exc.message, **exc.values))
    value = open_session(db, user, ctx.now(), ctx.settings.session_hours)
    response = see_other(safe_next(next))
    response.set_cookie(SESSION_COOKIE, value,
                        **cookie_options(ctx.settings.https, max_age=int(ctx.settings.session_hours * 3600)))
    return response


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request, db: DB) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        close_session(db, cookie)
    response = see_other("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, ctx: Ctx, next: str = "/") -> Response:
    response = see_other(safe_next(next))
    if code in LOCALES:
        response.set_cookie(COOKIE, code, **cookie_options(ctx.settings.https, max_age=365 * 86400))
    return response


@router.get("/account")
def account(request: Request, principal: Authenticated) -> Response:
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=principal.username, issuer_name="Tsunagaru")
    return render(request, "account.html", secret=secret, uri=uri,
                  role_names=role_names(translator(request)))


@router.post("/account/totp", dependencies=[Csrf])
def enable_totp(request: Request, principal: Authenticated, db: DB, ctx: Ctx,
                secret: Annotated[str, Form(min_length=16, max_length=64)],
                code: Annotated[str, Form(max_length=10)]) -> Response:
    t = translator(request)
    if not pyotp.TOTP(secret).verify(code, valid_window=1):
        uri = pyotp.TOTP(secret).provisioning_uri(name=principal.username, issuer_name="Tsunagaru")
        return render(request, "account.html", status=422, secret=secret, uri=uri, role_names=role_names(t),
                      error=t.gettext("The code does not match; check the clock of your device and try again."))
    users.set_totp(db, principal, secret, ctx.now())
    return render(request, "account.html", secret=None, uri=None, role_names=role_names(t),
                  flash=t.gettext("A one-time code is now required when you sign in."))
