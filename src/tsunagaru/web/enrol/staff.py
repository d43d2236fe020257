"""City staff in the portal: find a person by e-mail, revoke a device, disable or re-enable the account.

Pages under ``/enrol/staff`` (Japanese first, like the dashboard) and JSON under ``/api/v1/enrol/staff``;
both take the web app's sign-in (session cookie or API token, :mod:`tsunagaru.web.deps`) and admit city
admins only. Every change goes to the registry's audit log (:func:`tsunagaru.sites.audit.record`) in the
same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from tsunagaru.sites.scope import Principal, Role
from tsunagaru.web.deps import Csrf, require
from tsunagaru.web.enrol import errors
from tsunagaru.web.enrol.pages import render
from tsunagaru.web.enrol.router import ERROR_RESPONSES, MAX_FIELD, Portal, _api_error, _api_lang, portal_of
from tsunagaru.web.enrol.service import AccountView

Staff = Annotated[Principal, Depends(require(Role.CITY_ADMIN))]

staff_pages = APIRouter(prefix="/enrol/staff", include_in_schema=False)
staff_api = APIRouter(prefix="/api/v1/enrol/staff", tags=["enrolment"], responses=ERROR_RESPONSES)


def _lang(request: Request) -> str:
    """Staff pages: the switch or cookie, else Accept-Language among ja/en, else Japanese."""
    catalogs = portal_of(request).service.catalogs
    for choice in (request.query_params.get("lang"), request.cookies.get("tsg_lang")):
        if choice in ("ja", "en"):
            return choice
    found = catalogs.negotiate(request.headers.get("accept-language"))
    return found if found in ("ja", "en") else "ja"


@staff_pages.get("")
def staff_page(request: Request, who: Staff) -> Response:
    portal = portal_of(request)
    lang = _lang(request)
    email = request.query_params.get("email", "")[:MAX_FIELD]
    account: AccountView | None = None
    error = None
    if email:
        try:
            account = portal.service.find_account(who, email)
        except errors.EnrolError as exc:
            error = portal.service.catalogs.error(lang, exc.key)
    return render(request, portal.service.catalogs, portal.secret, portal.https, "staff.html", lang,
                  400 if error else 200, email=email, found=account, searched=bool(email), error=error,
                  notice=request.query_params.get("done"))


@staff_pages.post("/devices/{device_id}/revoke", dependencies=[Csrf])
def staff_revoke_page(request: Request, device_id: int, who: Staff) -> Response:
    portal = portal_of(request)
    try:
        portal.service.staff_revoke(who, device_id, portal.now())
    except errors.EnrolError:
        return RedirectResponse("/enrol/staff?done=failed", status_code=303)
    return RedirectResponse("/enrol/staff?done=revoked", status_code=303)


@staff_pages.post("/accounts/{account_id}/{action}", dependencies=[Csrf])
def staff_account_page(request: Request, account_id: int, action: str, who: Staff) -> Response:
    portal = portal_of(request)
    try:
        if action == "disable":
            portal.service.disable_account(who, account_id, portal.now())
        elif action == "enable":
            portal.service.enable_account(who, account_id, portal.now())
        else:
            raise errors.DeviceNotFound()
    except errors.EnrolError:
        return RedirectResponse("/enrol/staff?done=failed", status_code=303)
    return RedirectResponse(f"/enrol/staff?done={action}d", status_code=303)


def _account_json(account: AccountView) -> dict[str, object]:
    return {"id": account.id, "email": account.email, "lang": account.lang, "enabled": account.enabled,
            "devices": [d.to_json() for d in account.devices]}


def _staff_call(request: Request, action: Callable[[Portal], dict[str, object]]) -> Response:
    portal = portal_of(request)
    try:
        return JSONResponse(action(portal))
    except errors.EnrolError as exc:
        return _api_error(portal, _api_lang(request, portal), exc)


@staff_api.get("/accounts")
def staff_find(request: Request, who: Staff, email: str) -> Response:
    def find(portal: Portal) -> dict[str, object]:
        account = portal.service.find_account(who, email[:MAX_FIELD])
        if account is None:
            raise errors.DeviceNotFound()
        return _account_json(account)

    return _staff_call(request, find)


@staff_api.post("/devices/{device_id}/revoke")
def staff_revoke(request: Request, device_id: int, who: Staff) -> Response:
    return _staff_call(request, lambda portal: portal.service.staff_revoke(who, device_id, portal.now()).to_json())


@staff_api.post("/accounts/{account_id}/disable")
def staff_disable(request: Request, account_id: int, who: Staff) -> Response:
    return _staff_call(request, lambda portal: _account_json(
        portal.service.disable_account(who, account_id, portal.now())))
