"""FastAPI dependencies every router uses: the request's DB session, the Principal, role checks, CSRF.

    @router.get("/things")
    def things(db: DB, who: Annotated[Principal, Depends(require(Role.CITY_ADMIN, Role.VIEWER))]) -> ...

``require()`` with no roles admits any signed-in user. Both bearer tokens (API) and the session cookie
(pages) are accepted everywhere, so a page and its API twin share one dependency. The session commits
when the endpoint returns and rolls back when it raises (``scope="function"``: before the response is
sent, so a failed commit is an error response, never a lost write behind a 200).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tsunagaru.sites.scope import Principal, Role
from tsunagaru.web.auth.accounts import SESSION_PREFIX, principal_of, user_by_session, user_by_token
from tsunagaru.web.context import WebContext, context
from tsunagaru.web.errors import CsrfFailed, PermissionDenied, Unauthenticated
from tsunagaru.web.pollbook import PollBook
from tsunagaru.web.security import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, csrf_valid


def get_db(request: Request) -> Iterator[Session]:
    ctx = context(request)
    book = ctx.extras.get("pollbook")
    if isinstance(book, PollBook):
        book.flush()  # AP poll times buffered by the config endpoint (tsunagaru.web.pollbook) first
    with ctx.store.session() as session:  # commits at the end of the block, rolls back on an exception
        yield session


DB = Annotated[Session, Depends(get_db, scope="function")]
Ctx = Annotated[WebContext, Depends(context)]


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def optional_principal(request: Request, db: DB, ctx: Ctx) -> Principal | None:
    """The signed-in user's Principal (token or session cookie), or None."""
    now = ctx.now()
    token = bearer(request)
    if token is not None:
        user = user_by_token(db, token, now)
        if user is None:
            raise Unauthenticated(code="bad_token")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        user = user_by_session(db, cookie, now) if cookie and cookie.startswith(SESSION_PREFIX) else None
    if user is None:
        return None
    principal = principal_of(user)
    request.state.principal = principal
    return principal


MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require(*roles: Role) -> Callable[[Principal | None], Principal]:
    """A dependency admitting signed-in users with one of ``roles`` (any role when none is given)."""

    def check(principal: MaybePrincipal) -> Principal:
        if principal is None:
            raise Unauthenticated
        if roles and principal.role not in roles:
            raise PermissionDenied
        return principal

    return check


Authenticated = Annotated[Principal, Depends(require())]


async def check_csrf(request: Request, ctx: Ctx) -> None:
    """Refuse a form post whose CSRF field does not match its cookie (every page form depends on this)."""
    form = await request.form()
    submitted = form.get(CSRF_FIELD)
    if not csrf_valid(ctx.settings.secret_key, request.cookies.get(CSRF_COOKIE),
                      submitted if isinstance(submitted, str) else None):
        raise CsrfFailed


Csrf = Depends(check_csrf)
