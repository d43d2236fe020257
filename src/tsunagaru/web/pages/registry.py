"""Pages of the registry: sites and access points, lists with filters and paging, details, and forms.

Every page goes through the same registry services as the API with the signed-in Principal, so a page
can show only what its user may read; forms that fail re-render with the error in the user's language
and the transaction rolled back.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response

from tsunagaru.sites import service, tenants
from tsunagaru.sites.errors import RegistryError
from tsunagaru.sites.fields import CATEGORIES, PLATFORMS
from tsunagaru.sites.scope import may_write_site
from tsunagaru.web.api.apconfig import issue_ap_token
from tsunagaru.web.deps import DB, Authenticated, Csrf, Ctx
from tsunagaru.web.errors import Rejected, translator
from tsunagaru.web.pages.common import form_error, optional_float, page_links, see_other
from tsunagaru.web.render import render

router = APIRouter(include_in_schema=False)
PAGE = 50
Code = Annotated[str, Query(max_length=6, pattern=r"^(\d{6})?$")]
Text = Annotated[str, Form(max_length=400)]


def _municipalities(db: DB, principal: Any) -> list[Any]:
    return list(tenants.list_municipalities(db, principal))


@router.get("/sites")
def sites(request: Request, principal: Authenticated, db: DB, municipality: Code = "",
          q: Annotated[str, Query(max_length=100)] = "", offset: Annotated[int, Query(ge=0, le=10**7)] = 0) -> Response:
    page = service.list_sites(db, principal, municipality=municipality or None, q=q or None, limit=PAGE,
                              offset=offset)
    return render(request, "sites.html", page=page, municipality=municipality, q=q,
                  municipalities=_municipalities(db, principal), links=page_links(request, page.total, PAGE, offset))


def _site_form(request: Request, db: DB, principal: Any, status: int = 200, **values: Any) -> Response:
    return render(request, "site_form.html", status=status, categories=CATEGORIES,
                  municipalities=_municipalities(db, principal), **values)


@router.get("/sites/new")
def new_site(request: Request, principal: Authenticated, db: DB) -> Response:
    return _site_form(request, db, principal, form={})


@router.post("/sites/new", dependencies=[Csrf])
def create_site(request: Request, principal: Authenticated, db: DB, ctx: Ctx, name: Text, name_en: Text = "",
                category: Annotated[str, Form(max_length=32)] = "other", lat: Text = "", lon: Text = "",
                address: Text = "", municipality_code: Annotated[str, Form(max_length=6)] = "") -> Response:
    form = {"name": name, "name_en": name_en, "category": category, "lat": lat, "lon": lon, "address": address,
            "municipality_code": municipality_code}
    try:
        data = {"name": name, "name_en": name_en or None, "category": category, "address": address or None,
                "lat": optional_float(lat, "lat"), "lon": optional_float(lon, "lon"),
                "municipality_code": municipality_code or None}
        view = service.create_site(db, principal, data, now=ctx.now())
    except RegistryError as exc:
        error = form_error(translator(request), exc)
        raise Rejected(_site_form(request, db, principal, status=422, form=form, error=error)) from None
    return see_other(f"/sites/{view.id}")


@router.get("/sites/{site_id}")
def site(request: Request, site_id: int, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    view = service.get_site(db, principal, site_id)
    aps = service.list_aps(db, principal, site_id=site_id, limit=100, offset=0, now=ctx.now())
    return render(request, "site.html", site=view, aps=aps,
                  writable=may_write_site(principal, view.municipality_code, view.operator_id))


@router.get("/aps")
def aps(request: Request, principal: Authenticated, db: DB, ctx: Ctx, municipality: Code = "",
        offset: Annotated[int, Query(ge=0, le=10**7)] = 0) -> Response:
    page = service.list_aps(db, principal, municipality=municipality or None, limit=PAGE, offset=offset,
                            now=ctx.now())
    return render(request, "aps.html", page=page, municipality=municipality,
                  municipalities=_municipalities(db, principal), links=page_links(request, page.total, PAGE, offset))


def _ap_form(request: Request, status: int = 200, **values: Any) -> Response:
    return render(request, "ap_form.html", status=status, platforms=PLATFORMS, **values)


@router.get("/aps/new")
def new_ap(request: Request, principal: Authenticated, site_id: Annotated[int, Query(ge=1, le=2**31 - 1)]) -> Response:
    return _ap_form(request, form={"site_id": site_id, "platform": "hostapd", "band": "2g"})


@router.post("/aps/new", dependencies=[Csrf])
def create_ap(request: Request, principal: Authenticated, db: DB, ctx: Ctx,
              site_id: Annotated[int, Form(ge=1, le=2**31 - 1)], name: Text,
              platform: Annotated[str, Form(max_length=16)] = "hostapd",
              band: Annotated[str, Form(max_length=3)] = "2g", nas_identifier: Text = "", nas_network: Text = "",
              secret_ref: Text = "", radsec_name: Text = "") -> Response:
    form = {"site_id": site_id, "name": name, "platform": platform, "band": band, "nas_identifier": nas_identifier,
            "nas_network": nas_network, "secret_ref": secret_ref, "radsec_name": radsec_name}
    data = {"site_id": site_id, "name": name, "platform": platform, "radios": [{"band": band, "channel": None}],
            **{k: v or None for k, v in form.items() if k in ("nas_identifier", "nas_network", "secret_ref",
                                                                  "radsec_name")}}
    try:
        view = service.create_ap(db, principal, data, now=ctx.now())
    except RegistryError as exc:
        raise Rejected(_ap_form(request, status=422, form=form, error=form_error(translator(request), exc))) from None
    return see_other(f"/aps/{view.id}")


@router.get("/aps/{ap_id}")
def ap(request: Request, ap_id: int, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    view = service.get_ap(db, principal, ap_id, now=ctx.now())
    return render(request, "ap.html", ap=view,
                  writable=may_write_site(principal, view.municipality_code, view.operator_id))


@router.post("/aps/{ap_id}/token", dependencies=[Csrf])
def ap_token(request: Request, ap_id: int, principal: Authenticated, db: DB, ctx: Ctx) -> Response:
    view = service.get_ap(db, principal, ap_id, now=ctx.now())
    if not may_write_site(principal, view.municipality_code, view.operator_id):
        from tsunagaru.web.errors import PermissionDenied

        raise PermissionDenied
    service.record(db, principal, "ap.token", "ap", ap_id, None, {"token": "issued"}, now=ctx.now(),
                   municipality_code=view.municipality_code, organisation_id=view.operator_id)
    token = issue_ap_token(db, ap_id, ctx.now())
    return render(request, "ap.html", ap=view, writable=True, token=token)
