"""HTTP for the portal: pages under ``/enrol/`` (server-rendered, no JavaScript) and the JSON API under
``/api/v1/enrol/`` (the demo contract). Both call :class:`~.service.EnrolService`; errors are the
service's typed ones, shown in the person's language (pages re-render the form with the message; the API
answers ``{"error": {"code", "message"}}``).

Slow steps (SMTP, password hashing, key generation, signing) run in the thread pool, never on the event
loop: in the demo that loop also carries the RADIUS stack. The portal is found at
``request.app.state.enrol`` (a :class:`Portal`, put there by :func:`install`), so the routers stay
module-level objects the app factory can include like any other.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import segno
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tsunagaru.passpoint.profiles.model import ProfileError
from tsunagaru.passpoint.profiles.windows import LINK_PREFIX, provisioning_link
from tsunagaru.web.api.common import ErrorBody
from tsunagaru.web.enrol import errors
from tsunagaru.web.enrol.pages import PLATFORM_LABELS, render, request_lang
from tsunagaru.web.enrol.platforms import KINDS, Method, Platform, detect, offers
from tsunagaru.web.enrol.service import AccountView, EnrolService, Issued
from tsunagaru.web.security import CSRF_COOKIE, CSRF_FIELD, cookie_options, csrf_valid

log = logging.getLogger(__name__)

SESSION_COOKIE = "tsg_enrol"
MAX_FIELD = 512  # characters in any form or JSON field (an e-mail address is at most 254)
MAX_JSON = 8192


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Portal:
    service: EnrolService
    secret: bytes  # the web app's secret key (CSRF)
    public_url: str = "http://127.0.0.1:8080"
    now: Callable[[], datetime] = _utcnow
    qr_cache: dict[str, bytes] = field(default_factory=dict)

    @property
    def https(self) -> bool:
        return self.public_url.startswith("https://")


def install(app: FastAPI, portal: Portal) -> None:
    """Attach the portal to an app that includes :data:`pages` and :data:`api`."""
    app.state.enrol = portal


def portal_of(request: Request) -> Portal:
    portal = getattr(request.app.state, "enrol", None)
    if portal is None and hasattr(request.app.state, "ctx"):
        portal = request.app.state.ctx.extras.get("enrol")
    if not isinstance(portal, Portal):
        log.warning("the enrolment portal is not configured here (tsunagaru.web.enrol.router.install)")
        raise HTTPException(404, "the enrolment portal is not configured")  # the feature is absent, not broken
    return portal


pages = APIRouter(prefix="/enrol", include_in_schema=False)
# Every status the portal's API answers with a typed error, named in the OpenAPI document (schemathesis
# checks responses against it); 404 also when the portal is not attached to the app.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": "typed error"}
    for status in (400, 401, 403, 404, 409, 410, 413, 422, 429, 503)}
api = APIRouter(prefix="/api/v1/enrol", tags=["enrolment"], responses=ERROR_RESPONSES)


# --- input ------------------------------------------------------------------------------------------------

async def _form(request: Request, portal: Portal) -> dict[str, str]:
    """The posted form, CSRF-checked, every field a bounded string (else BadInput / CsrfFailed)."""
    raw = await request.body()
    if len(raw) > 16 * MAX_FIELD:
        raise errors.BadInput()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.BadInput() from exc
    form = await request.form(max_files=0, max_fields=16)
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str) or len(value) > MAX_FIELD or "\x00" in value:
            raise errors.BadInput()
        values[key] = value
    if not csrf_valid(portal.secret, request.cookies.get(CSRF_COOKIE), values.get(CSRF_FIELD)):
        raise errors.CsrfFailed()
    return values


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_JSON:
        raise errors.BadInput()
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise errors.BadInput() from exc
    if not isinstance(doc, dict):
        raise errors.BadInput()
    return doc


def _text(doc: dict[str, Any], key: str, required: bool = True) -> str:
    value = doc.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > MAX_FIELD or "\x00" in value:
        raise errors.BadInput(key)
    return value


def _source(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- pages ------------------------------------------------------------------------------------------------

def _page(request: Request, portal: Portal, name: str, lang: str, status: int = 200, **values: Any) -> Response:
    return render(request, portal.service.catalogs, portal.secret, portal.https, name, lang, status, **values)


def _error_page(request: Request, portal: Portal, exc: errors.EnrolError, name: str, lang: str,
                **values: Any) -> Response:
    log.info("%s %s: %s", request.method, request.url.path, exc.key)
    return _page(request, portal, name, lang, exc.status, error=portal.service.catalogs.error(lang, exc.key),
                 **values)


def _signed_in(request: Request, portal: Portal) -> AccountView | None:
    try:
        return portal.service.account_for(request.cookies.get(SESSION_COOKIE), "session", portal.now())
    except errors.EnrolError:
        return None


@pages.get("/")
def start_page(request: Request) -> Response:
    portal, lang = _portal_lang(request)
    return _page(request, portal, "start.html", lang, email="")


@pages.get("/about")
def about_page(request: Request) -> Response:
    portal, lang = _portal_lang(request)
    return _page(request, portal, "about.html", lang)


@pages.post("/start")
async def start_post(request: Request) -> Response:
    portal, lang = _portal_lang(request)
    email = ""
    try:
        form = await _form(request, portal)
        email = form.get("email", "")
        lang = portal.service.catalogs.pick(form.get("lang") or lang)
        await run_in_threadpool(portal.service.start, email, lang, _source(request), portal.now())
    except errors.EnrolError as exc:
        return _error_page(request, portal, exc, "start.html", lang, email=email[:MAX_FIELD])
    return _page(request, portal, "code.html", lang, email=email.strip().lower())


@pages.post("/verify")
async def verify_post(request: Request) -> Response:
    portal, lang = _portal_lang(request)
    email = ""
    try:
        form = await _form(request, portal)
        email = form.get("email", "")
        signed = await run_in_threadpool(portal.service.verify, email, form.get("code", ""), "session", portal.now())
    except errors.EnrolError as exc:
        template = "start.html" if exc.key in ("code_expired", "code_used", "code_attempts", "bad_email",
                                               "account_disabled") else "code.html"
        return _error_page(request, portal, exc, template, lang, email=email[:MAX_FIELD])
    response = RedirectResponse("/enrol/devices/new", status_code=303)
    response.set_cookie(SESSION_COOKIE, signed.token, **cookie_options(
        portal.https, max_age=int(portal.service.limits.session_ttl.total_seconds())))
    return response


def _portal_lang(request: Request) -> tuple[Portal, str]:
    """The portal and the page language for a visitor not signed in."""
    portal = portal_of(request)
    return portal, request_lang(request, portal.service.catalogs)


def _session_page(request: Request) -> tuple[Portal, AccountView, str] | Response:
    """The portal, the signed-in account and its page language; or the response that sends the visitor to
    sign in."""
    portal = portal_of(request)
    account = _need_session(request, portal)
    if isinstance(account, Response):
        return account
    return portal, account, request_lang(request, portal.service.catalogs, account.lang)


def _need_session(request: Request, portal: Portal) -> AccountView | Response:
    account = _signed_in(request, portal)
    if account is None:
        return RedirectResponse("/enrol/", status_code=303)
    return account


def _choice_values(request: Request, portal: Portal) -> dict[str, Any]:
    detected = detect(request.headers.get("user-agent"))
    return {"offers": [(p, KINDS[p], portal.service.methods_for(p)) for p in offers(detected)],
            "detected": detected, "Method": Method, "portal_url": portal.public_url + "/enrol/"}


@pages.get("/devices/new")
def choose_page(request: Request) -> Response:
    signed_in = _session_page(request)
    if isinstance(signed_in, Response):
        return signed_in
    portal, account, lang = signed_in
    return _page(request, portal, "choose.html", lang, account=account, **_choice_values(request, portal))


@pages.post("/devices")
async def add_device_post(request: Request) -> Response:
    signed_in = _session_page(request)
    if isinstance(signed_in, Response):
        return signed_in
    portal, account, lang = signed_in
    try:
        form = await _form(request, portal)
        platform = form.get("platform", "")
        label = portal.service.catalogs.get(lang).gettext(PLATFORM_LABELS.get(platform, platform))
        issued = await run_in_threadpool(portal.service.add_device, account.id, platform, form.get("method", ""),
                                         form.get("name", "").strip() or label, portal.now())
    except errors.EnrolError as exc:
        return _error_page(request, portal, exc, "choose.html", lang, account=account,
                           **_choice_values(request, portal))
    return _page(request, portal, "ready.html", lang, account=account, **_ready_values(portal, issued))


def _ready_values(portal: Portal, issued: Issued) -> dict[str, Any]:
    url = profile_url(portal, issued.profile_token)
    return {"issued": issued, "profile_url": f"/enrol/p/{issued.profile_token}",  # same origin: relative
            "kind": KINDS[Platform(issued.device.platform)],
            "windows_link": windows_link(url) if issued.device.platform == Platform.WINDOWS else None}


def windows_link(url: str) -> str:
    """Windows' Settings app fetches the tokenised URL itself; it wants https (a plain-http demo gets the
    same link shape, which Windows will refuse)."""
    try:
        return provisioning_link(url)
    except ProfileError:
        return LINK_PREFIX + url


def profile_url(portal: Portal, token: str) -> str:
    return f"{portal.public_url}/enrol/p/{token}"


@pages.get("/devices")
def devices_page(request: Request) -> Response:
    signed_in = _session_page(request)
    if isinstance(signed_in, Response):
        return signed_in
    portal, account, lang = signed_in
    notice = request.query_params.get("done")
    return _page(request, portal, "devices.html", lang, account=account,
                 devices=portal.service.devices(account.id), notice=notice if notice in _NOTICES else None)


_NOTICES = ("renamed", "revoked")


@pages.post("/devices/{device_id}/{action}")
async def device_action(request: Request, device_id: int, action: str) -> Response:
    signed_in = _session_page(request)
    if isinstance(signed_in, Response):
        return signed_in
    portal, account, lang = signed_in
    try:
        form = await _form(request, portal)
        now = portal.now()
        if action == "rename":
            portal.service.rename(account.id, device_id, form.get("name", ""))
        elif action == "revoke":
            portal.service.revoke(account.id, device_id, now)
        elif action == "renew":
            issued = await run_in_threadpool(portal.service.renew, account.id, device_id, now)
            return _page(request, portal, "ready.html", lang, account=account, **_ready_values(portal, issued))
        else:
            raise errors.DeviceNotFound()
    except errors.EnrolError as exc:
        return _error_page(request, portal, exc, "devices.html", lang, account=account,
                           devices=_devices_or_none(portal, account), notice=None)
    return RedirectResponse(f"/enrol/devices?done={action}d" if action != "revoke" else "/enrol/devices?done=revoked",
                            status_code=303)


def _devices_or_none(portal: Portal, account: AccountView) -> list[Any]:
    try:
        return list(portal.service.devices(account.id))
    except errors.EnrolError:
        return []


@pages.post("/signout")
async def signout(request: Request) -> Response:
    portal = portal_of(request)
    try:
        await _form(request, portal)
    except errors.EnrolError:
        return RedirectResponse("/enrol/", status_code=303)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        portal.service.sign_out(token)
    response = RedirectResponse("/enrol/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@pages.get("/p/{token}")
def profile_download(request: Request, token: str) -> Response:
    """The profile behind a one-time link (browsers, Windows' Settings app, scripts)."""
    portal, lang = _portal_lang(request)
    try:
        profile = portal.service.fetch_profile(token, portal.now())
    except errors.EnrolError as exc:
        if "text/html" in request.headers.get("accept", ""):
            return _error_page(request, portal, exc, "message.html", lang)
        return _api_error(portal, lang, exc)
    return Response(profile.data, media_type=profile.content_type, headers={
        "Content-Disposition": f'attachment; filename="{profile.filename}"', "Cache-Control": "no-store"})


@pages.get("/qr.svg")
def qr_code(request: Request) -> Response:
    """A QR code that opens the portal on a phone (segno, SVG)."""
    portal = portal_of(request)
    url = portal.public_url + "/enrol/"
    svg = portal.qr_cache.get(url)
    if svg is None:
        import io

        buf = io.BytesIO()
        segno.make(url, error="m").save(buf, kind="svg", scale=6, border=2, xmldecl=False,
                                        title="QR code: " + url)
        svg = portal.qr_cache[url] = buf.getvalue()
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=3600"})


@pages.get("/enrol.css")
def stylesheet() -> Response:
    css = (resources.files("tsunagaru.web.enrol") / "templates" / "enrol.css").read_bytes()
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


# --- JSON API (the demo contract) -------------------------------------------------------------------------

def _api_lang(request: Request, portal: Portal, given: str | None = None) -> str:
    if given:
        return portal.service.catalogs.pick(given)
    return portal.service.catalogs.negotiate(request.headers.get("accept-language")) or "en"


def _api_error(portal: Portal, lang: str, exc: errors.EnrolError) -> JSONResponse:
    log.info("enrol API: %s", exc.key)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse({"error": {"code": exc.key, "message": portal.service.catalogs.error(lang, exc.key)}},
                        status_code=exc.status, headers=headers)


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


_START_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["email"], "properties": {
        "email": {"type": "string", "maxLength": 254}, "lang": {"type": "string", "maxLength": 16}}}}}}}
_VERIFY_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["email", "code"], "properties": {
        "email": {"type": "string", "maxLength": 254}, "code": {"type": "string", "maxLength": 32}}}}}}}
_DEVICE_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["platform", "method"], "properties": {
        "platform": {"type": "string", "enum": [p.value for p in Platform]},
        "method": {"type": "string", "enum": [m.value for m in Method]},
        "name": {"type": "string", "maxLength": 64}}}}}}}


@api.post("/start", status_code=202, openapi_extra=_START_BODY)
async def api_start(request: Request) -> Response:
    """Mail a one-time code to the address (202); the same code signs in on the pages or here."""
    portal = portal_of(request)
    lang = _api_lang(request, portal)
    try:
        doc = await _json(request)
        lang = _api_lang(request, portal, _text(doc, "lang", required=False) or None)
        await run_in_threadpool(portal.service.start, _text(doc, "email"), lang, _source(request), portal.now())
    except errors.EnrolError as exc:
        return _api_error(portal, lang, exc)
    return JSONResponse({"status": "sent"}, status_code=202)


@api.post("/verify", openapi_extra=_VERIFY_BODY)
async def api_verify(request: Request) -> Response:
    """Trade the mailed code for a bearer token (an hour)."""
    portal = portal_of(request)
    lang = _api_lang(request, portal)
    try:
        doc = await _json(request)
        signed = await run_in_threadpool(portal.service.verify, _text(doc, "email"), _text(doc, "code"), "api",
                                         portal.now())
    except errors.EnrolError as exc:
        return _api_error(portal, lang, exc)
    return JSONResponse({"token": signed.token})


def _api_account(request: Request, portal: Portal) -> AccountView:
    return portal.service.account_for(_bearer(request), "api", portal.now())


Action = Callable[[Portal, AccountView, dict[str, Any]], tuple[Any, int]]


async def _signed_in_call(request: Request, action: Action, *, body: bool = False) -> Response:
    """Run ``action`` for the bearer's account (with the JSON body when ``body``); errors in the caller's
    language."""
    portal = portal_of(request)
    lang = _api_lang(request, portal)
    try:
        account = _api_account(request, portal)
        doc = await _json(request) if body else {}
        payload, status = await run_in_threadpool(action, portal, account, doc)
    except errors.EnrolError as exc:
        return _api_error(portal, lang, exc)
    return JSONResponse(payload, status_code=status)


@api.post("/devices", status_code=201, openapi_extra=_DEVICE_BODY)
async def api_add_device(request: Request) -> Response:
    """A credential for one device and a one-time link to its profile."""
    def add(portal: Portal, account: AccountView, doc: dict[str, Any]) -> tuple[Any, int]:
        issued = portal.service.add_device(account.id, _text(doc, "platform"), _text(doc, "method"),
                                           _text(doc, "name", required=False), portal.now())
        return _issued_json(portal, issued), 201

    return await _signed_in_call(request, add, body=True)


def _issued_json(portal: Portal, issued: Issued) -> dict[str, Any]:
    body: dict[str, Any] = {"id": issued.device.id, "username": issued.device.username,
                            "profile_url": profile_url(portal, issued.profile_token),
                            "expires_at": issued.device.expires_at.isoformat(),
                            "platform": issued.device.platform, "method": issued.device.method}
    if issued.password is not None:
        body["password"] = issued.password
    if issued.device.platform == Platform.WINDOWS:
        body["windows_link"] = windows_link(body["profile_url"])
    return body


@api.get("/devices")
async def api_devices(request: Request) -> Response:
    def listing(portal: Portal, account: AccountView, _doc: dict[str, Any]) -> tuple[Any, int]:
        items = [d.to_json() for d in portal.service.devices(account.id)]
        return {"items": items, "total": len(items)}, 200

    return await _signed_in_call(request, listing)


@api.delete("/devices/{device_id}")
async def api_revoke(request: Request, device_id: int) -> Response:
    """Revoke the device: the IdP refuses its credential from then on (within its cache TTL)."""
    def revoke(portal: Portal, account: AccountView, _doc: dict[str, Any]) -> tuple[Any, int]:
        device = portal.service.revoke(account.id, device_id, portal.now())
        return {"id": device.id, "revoked": True,
                "revoked_at": device.revoked_at.isoformat() if device.revoked_at else None}, 200

    return await _signed_in_call(request, revoke)


@api.patch("/devices/{device_id}")
async def api_rename(request: Request, device_id: int) -> Response:
    def rename(portal: Portal, account: AccountView, doc: dict[str, Any]) -> tuple[Any, int]:
        return portal.service.rename(account.id, device_id, _text(doc, "name")).to_json(), 200

    return await _signed_in_call(request, rename, body=True)


@api.post("/devices/{device_id}/renew", status_code=201)
async def api_renew(request: Request, device_id: int) -> Response:
    """A new credential; the old one keeps working for the grace period, then ends."""
    def renew(portal: Portal, account: AccountView, _doc: dict[str, Any]) -> tuple[Any, int]:
        return _issued_json(portal, portal.service.renew(account.id, device_id, portal.now())), 201

    return await _signed_in_call(request, renew)


def _combined() -> APIRouter:
    """Everything the portal serves, as the one ``router`` the app factory includes (ROUTER_MODULES)."""
    from tsunagaru.web.enrol.staff import staff_api, staff_pages

    combined = APIRouter()
    for part in (staff_pages, pages, staff_api, api):
        combined.include_router(part)
    return combined


router = _combined()
