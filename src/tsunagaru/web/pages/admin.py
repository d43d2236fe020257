"""Pages of the tenants and the people: organisations and their approval, the public application form,
web accounts, and the audit log. Same services and the same scope rules as the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response

from tsunagaru.sites import audit, tenants
from tsunagaru.sites.errors import RegistryError
from tsunagaru.sites.scope import Role, may_manage_tenants
from tsunagaru.web import users
from tsunagaru.web.deps import DB, Authenticated, Csrf, Ctx, MaybePrincipal
from tsunagaru.web.errors import Rejected, translator
from tsunagaru.web.pages.common import form_error, page_links, see_other
from tsunagaru.web.render import render

router = APIRouter(include_in_schema=False)
PAGE = 50
Offset = Annotated[int, Query(ge=0, le=10**7)]
Text = Annotated[str, Form(max_length=2000)]


@router.get("/tenants")
def tenants_page(request: Request, principal: Authenticated, db: DB, offset: Offset = 0,
                 flash: str = "") -> Response:
    page = tenants.list_organisations(db, principal, limit=PAGE, offset=offset)
    t = translator(request)
    return render(request, "tenants.html", page=page, manage=may_manage_tenants(principal),
                  links=page_links(request, page.total, PAGE, offset),
                  flash=t.gettext("Saved.") if flash else None)


@router.post("/tenants/{org_id}/{decision}", dependencies=[Csrf])
def decide(request: Request, org_id: int, decision: str, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    if decision == "approve":
        tenants.approve_organisation(db, principal, org_id, now=ctx.now())
    elif decision == "reject":
        tenants.reject_organisation(db, principal, org_id, now=ctx.now())
    else:
        from tsunagaru.web.errors import Missing

        raise Missing
    return see_other("/tenants?flash=1")


def _apply_form(request: Request, status: int = 200, **values: Any) -> Response:
    return render(request, "apply.html", status=status, **values)


@router.get("/apply")
def apply_form(request: Request, principal: MaybePrincipal) -> Response:
    return _apply_form(request, form={})


@router.post("/apply", dependencies=[Csrf])
def apply(request: Request, principal: MaybePrincipal, db: DB, ctx: Ctx,
          name: Annotated[str, Form(max_length=200)], contact_email: Annotated[str, Form(max_length=254)],
          name_en: Annotated[str, Form(max_length=200)] = "", note: Text = "") -> Response:
    form = {"name": name, "name_en": name_en, "contact_email": contact_email, "note": note}
    applicant = request.client.host if request.client else "-"
    t = translator(request)
    try:
        tenants.apply_site_operator(db, applicant, {k: v or None for k, v in form.items()}, now=ctx.now())
    except RegistryError as exc:
        raise Rejected(_apply_form(request, status=422, form=form, error=form_error(t, exc))) from None
    return _apply_form(request, form={}, done=True,
                       flash=t.gettext("Thank you. The city will review your application and contact you."))


def _users_page(request: Request, principal: Any, db: DB, offset: int, status: int = 200, **values: Any) -> Response:
    items, total = users.list_users(db, principal, PAGE, offset)
    return render(request, "users.html", status=status, items=items, total=total, roles=[r.value for r in Role],
                  municipalities=tenants.list_municipalities(db, principal),
                  organisations=tenants.list_organisations(db, principal, kind="site-operator", limit=1000).items,
                  links=page_links(request, total, PAGE, offset), **values)


@router.get("/users")
def users_page(request: Request, principal: Authenticated, db: DB, offset: Offset = 0) -> Response:
    return _users_page(request, principal, db, offset, form={})


@router.post("/users/new", dependencies=[Csrf])
def add_user(request: Request, principal: Authenticated, db: DB, ctx: Ctx,
             username: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=256)],
             role: Annotated[str, Form(max_length=32)], municipality_code: Annotated[str, Form(max_length=6)] = "",
             organisation_id: Annotated[str, Form(max_length=12)] = "") -> Response:
    form = {"username": username, "role": role, "municipality_code": municipality_code,
            "organisation_id": organisation_id}
    t = translator(request)
    try:
        new = users.NewUser(username, password, _role(role), municipality_code or None, _int(organisation_id))
        _check_username(username)
        view = users.create_user(db, principal, new, ctx.now())
    except RegistryError as exc:
        page = _users_page(request, principal, db, 0, status=422, form=form, error=form_error(t, exc))
        raise Rejected(page) from None
    return _users_page(request, principal, db, 0, form={},
                       flash=t.gettext("Account %(name)s added.", name=view.username))


def _role(text: str) -> Role:
    from tsunagaru.sites.errors import Invalid

    try:
        return Role(text)
    except ValueError:
        raise Invalid("unknown role", field="role") from None


def _int(text: str) -> int | None:
    from tsunagaru.sites.errors import Invalid

    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise Invalid("not an organisation id", field="organisation_id")
    return int(text)


def _check_username(name: str) -> None:
    import re

    from tsunagaru.sites.errors import Invalid
    from tsunagaru.web.api.users import USERNAME

    if not re.match(USERNAME, name):
        raise Invalid("lower case letters, digits, . _ -", field="username")


@router.post("/users/{user_id}/{action}", dependencies=[Csrf])
def user_action(request: Request, user_id: int, action: str, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    if action not in ("enable", "disable"):
        from tsunagaru.web.errors import Missing

        raise Missing
    users.set_enabled(db, principal, user_id, action == "enable", ctx.now())
    return see_other("/users")


@router.get("/audit")
def audit_page(request: Request, principal: Authenticated, db: DB, offset: Offset = 0) -> Response:
    page = audit.list_audit(db, principal, limit=PAGE, offset=offset)
    return render(request, "audit.html", page=page, links=page_links(request, page.total, PAGE, offset))
