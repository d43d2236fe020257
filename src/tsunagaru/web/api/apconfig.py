"""The loop through which APs pull their config and report back, and how an AP gets its token.

    GET  /api/v1/aps/{id}/config?format=hostapd|openwrt|json   (the AP's Bearer token) -> config + ETag
    POST /api/v1/aps/{id}/status  {"version", "result": "applied"|"error", "log"}
    POST /api/v1/aps/register     {"secret", "site_id", "name", ...}  (a per-tenant enrolment secret)
    POST /api/v1/aps/{id}/token   (a web user who may change the AP) -> a new AP token, shown once
    POST /api/v1/tenants/{id}/enrolment-secrets  -> a new enrolment secret, shown once

A poll writes to the AP row only when the served version changes or ``polled_at`` is older than the
setting ``ap_poll_write_every`` (90 s: half the registry's 180 s silence bound), so 20,000 APs polling
every minute make about half as many writes as polls, not one per poll.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from tsunagaru.sites import service
from tsunagaru.sites.scope import Principal, Role, may_write_site
from tsunagaru.store.registry_tables import AccessPoint, Organisation, Site
from tsunagaru.store.web_tables import ApToken, EnrolmentSecret
from tsunagaru.web.apconfig import DISASTER_HEADER, FORMATS, ConfigRenderer, Unrenderable, disaster_lookup
from tsunagaru.web.api.common import ERRORS, matches
from tsunagaru.web.api.models import ApIn, dump
from tsunagaru.web.auth.secrets import new_token, token_hash
from tsunagaru.web.context import WebContext
from tsunagaru.web.deps import DB, Authenticated, Ctx, bearer
from tsunagaru.web.errors import Invalid, Missing, PermissionDenied, Unauthenticated, WebError, _
from tsunagaru.web.pollbook import PollBook

router = APIRouter(prefix="/api/v1", tags=["ap-config"])
ApId = Annotated[int, Path(ge=1, le=2**31 - 1)]
AP_TOKEN_PREFIX = "tsa_"
ENROL_PREFIX = "tse_"


class NoOperator(WebError):
    status, code, message = 503, "no_operator", _("AP configs are not set up on this server (no operator file).")


class StatusReport(BaseModel):
    version: str = Field(min_length=1, max_length=128, description="the ETag of the config the AP applied")
    result: Literal["applied", "error"]
    log: str = Field(default="", max_length=4000)


class StatusOut(BaseModel):
    id: int
    config_state: str


class Registration(BaseModel):
    secret: str = Field(min_length=10, max_length=100)
    ap: ApIn


class IssuedToken(BaseModel):
    id: int
    token: str


class IssuedSecret(BaseModel):
    organisation_id: int
    secret: str


def pollbook(ctx: WebContext) -> PollBook:
    book = ctx.extras.get("pollbook")
    if not isinstance(book, PollBook):
        book = ctx.extras["pollbook"] = PollBook(ctx.store.engine)
    return book


def renderer(ctx: WebContext) -> ConfigRenderer:
    found = ctx.extras.get("renderer")
    if not isinstance(found, ConfigRenderer):
        raise NoOperator
    return found


def ap_by_token(db: Session, request: Request, ap_id: int) -> AccessPoint:
    """The AP this request's token belongs to; 401 without a valid token, 403 for another AP's token."""
    token = bearer(request)
    if token is None or not token.startswith(AP_TOKEN_PREFIX):
        raise Unauthenticated(_("Send the AP's token as a Bearer token."), code="bad_token")
    owner = db.scalar(select(ApToken.ap_id).where(ApToken.token_hash == token_hash(token),
                                                  ApToken.revoked_at.is_(None)))
    if owner is None:
        raise Unauthenticated(_("This AP token is not valid (revoked or unknown)."), code="bad_token")
    if owner != ap_id:
        raise PermissionDenied(_("This token belongs to another AP."), code="foreign_token")
    ap, _site = service.ap_record(db, ap_id)
    if ap.state != "active":
        raise Missing
    return ap


@dataclass(frozen=True, slots=True)
class ApFields:
    id: int
    site_id: int
    platform: str
    nas_identifier: str | None
    radios: Any
    bssids: Any
    secret_ref: str | None


@dataclass(frozen=True, slots=True)
class SiteFields:
    id: int
    name: str
    name_en: str | None
    category: str
    municipality_code: str | None
    lat: float | None
    lon: float | None
    address: str | None
    url: str | None


_AP = (AccessPoint.id, AccessPoint.site_id, AccessPoint.platform, AccessPoint.nas_identifier, AccessPoint.radios,
       AccessPoint.bssids, AccessPoint.secret_ref)
_SITE = (Site.id, Site.name, Site.name_en, Site.category, Site.municipality_code, Site.lat, Site.lon, Site.address,
         Site.url)
# one query per poll: the token's AP, its site, and where its config loop stands
_POLL = (select(*_AP, *[c.label(f"site_{c.key}") for c in _SITE], AccessPoint.state, AccessPoint.config_version,
                AccessPoint.polled_at)
         .select_from(ApToken).join(AccessPoint, AccessPoint.id == ApToken.ap_id)
         .join(Site, Site.id == AccessPoint.site_id)
         .where(ApToken.token_hash == bindparam("h"), ApToken.revoked_at.is_(None)))


CONFIG_PARAMETERS = [
    {"name": "format", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["hostapd", "openwrt", "json"], "default": "hostapd"}},
    {"name": "radio", "in": "query", "required": False,
     "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}, "description": "hostapd: which radio's file"},
]
_RADIO = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def _config_query(request: Request) -> tuple[int, str, str | None]:
    """The path and query of a config request, checked by hand (FastAPI's parameter machinery costs more than
    the rest of a 304); the same rules as :data:`CONFIG_PARAMETERS` say in the OpenAPI document."""
    raw = request.path_params.get("ap_id", "")
    fmt = request.query_params.get("format", "hostapd")
    radio = request.query_params.get("radio")
    if not (raw.isdigit() and 0 < len(raw) <= 10 and 1 <= int(raw) <= 2**31 - 1) or fmt not in FORMATS or (
            radio is not None and not _RADIO.match(radio)):
        raise Invalid
    return int(raw), fmt, radio


@router.get("/aps/{ap_id}/config", responses={**ERRORS, 304: {"description": "not modified"},
                                              503: {"description": "no operator configured"},
                                              200: {"content": {"text/plain": {}, "application/json": {}},
                                                    "description": "the rendered config"}},
            openapi_extra={"parameters": [{"name": "ap_id", "in": "path", "required": True,
                                           "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}},
                                          *CONFIG_PARAMETERS]})
async def get_config(request: Request) -> Response:
    """The hot path (every AP, every minute): one read, a cached render, a write only when needed.

    ``async`` and without the per-request ORM session on purpose: a poll is a token lookup and a digest,
    and a thread hop per request would cost more than both (bench/web_config.py). It records the poll
    as :func:`tsunagaru.sites.service.record_config_served` does (the version and when it was first
    served, the time of the poll), with the poll time written at most every ``ap_poll_write_every``.
    """
    ctx: WebContext = request.app.state.ctx
    ap_id, format, radio = _config_query(request)
    token = bearer(request)
    if token is None or not token.startswith(AP_TOKEN_PREFIX):
        raise Unauthenticated(_("Send the AP's token as a Bearer token."), code="bad_token")
    engine = ctx.store.engine
    with engine.connect() as conn:
        row = conn.execute(_POLL, {"h": token_hash(token)}).first()
    if row is None:
        raise Unauthenticated(_("This AP token is not valid (revoked or unknown)."), code="bad_token")
    if row.id != ap_id:
        raise PermissionDenied(_("This token belongs to another AP."), code="foreign_token")
    if row.state != "active":
        raise Missing
    ap = ApFields(*row[:7])
    site = SiteFields(*row[7:16])
    now = ctx.now()
    try:
        done = renderer(ctx).render(ap, site, disaster_lookup(ctx.extras)(ap, site, now), format, radio, now)
    except Unrenderable as exc:
        raise Invalid(_("This AP's registry entry cannot make a config: %(field)s."), code="unrenderable",
                      status=409, field=exc.field) from None
    book = pollbook(ctx)
    if row.config_version != done.etag:
        if not book.pending(ap_id) or book.served_version(ap_id) != done.etag:
            book.served(ap_id, done.etag, now, ctx.monotonic())
    elif row.polled_at is None or now - row.polled_at >= timedelta(seconds=ctx.settings.ap_poll_write_every):
        book.polled(ap_id, now, ctx.monotonic())
    headers = {"ETag": done.etag, "Cache-Control": "no-cache"}
    if done.disaster_until is not None:
        headers[DISASTER_HEADER] = done.disaster_until.isoformat().replace("+00:00", "Z")
    if matches(request, done.etag):
        return Response(status_code=304, headers=headers)
    return Response(done.body, media_type=done.media_type, headers=headers)


@router.post("/aps/{ap_id}/status", response_model=StatusOut, responses=ERRORS)
def report_status(request: Request, ap_id: ApId, body: StatusReport, db: DB, ctx: Ctx) -> StatusOut:
    ap_by_token(db, request, ap_id)
    pollbook(ctx).flush()  # the served version must be in the row the report is compared with
    view = service.record_status(db, ap_id, body.version, body.result, body.log, now=ctx.now())
    return StatusOut(id=view.id, config_state=view.config_state)


def issue_ap_token(db: Session, ap_id: int, now: datetime) -> str:
    """A new token for ``ap_id``; earlier ones are revoked (one live token per AP)."""
    db.execute(update(ApToken).where(ApToken.ap_id == ap_id, ApToken.revoked_at.is_(None)).values(revoked_at=now))
    value = new_token(AP_TOKEN_PREFIX)
    db.add(ApToken(token_hash=token_hash(value), ap_id=ap_id, created_at=now))
    return value


@router.post("/aps/{ap_id}/token", response_model=IssuedToken, status_code=201, responses=ERRORS)
def new_ap_token(ap_id: ApId, principal: Authenticated, db: DB, ctx: Ctx) -> IssuedToken:
    view = service.get_ap(db, principal, ap_id, now=ctx.now())  # NotFound when out of read scope
    if not may_write_site(principal, view.municipality_code, view.operator_id):
        raise PermissionDenied
    from tsunagaru.sites import audit

    audit.record(db, principal, "ap.token", "ap", ap_id, None, {"token": "issued"}, now=ctx.now(),
                 municipality_code=view.municipality_code, organisation_id=view.operator_id)
    return IssuedToken(id=ap_id, token=issue_ap_token(db, ap_id, ctx.now()))


@router.post("/tenants/{org_id}/enrolment-secrets", response_model=IssuedSecret, status_code=201,
             responses=ERRORS)
def new_enrolment_secret(org_id: Annotated[int, Path(ge=1, le=2**31 - 1)], principal: Authenticated, db: DB,
                         ctx: Ctx) -> IssuedSecret:
    """A secret with which this site operator's new APs register themselves (city admin, or the operator)."""
    from tsunagaru.sites import audit, tenants

    org = tenants.get_organisation(db, principal, org_id)
    if not (principal.role is Role.CITY_ADMIN or
            (principal.role is Role.SITE_OPERATOR and principal.organisation_id == org_id)):
        raise PermissionDenied
    if org.kind != "site-operator" or org.state != "approved":
        raise Invalid(_("Only approved site-operator organisations enrol APs."), code="not_approved", status=409)
    value = new_token(ENROL_PREFIX)
    db.add(EnrolmentSecret(secret_hash=token_hash(value), organisation_id=org_id, created_at=ctx.now()))
    audit.record(db, principal, "organisation.enrolment_secret", "organisation", org_id, None, {"secret": "issued"},
                 now=ctx.now(), organisation_id=org_id)
    return IssuedSecret(organisation_id=org_id, secret=value)


@router.post("/aps/register", response_model=IssuedToken, status_code=201, responses=ERRORS)
def register_ap(body: Registration, db: DB, ctx: Ctx) -> IssuedToken:
    """A new AP registers with its tenant's enrolment secret and gets its id and token (shown once)."""
    org_id = db.scalar(select(EnrolmentSecret.organisation_id).where(
        EnrolmentSecret.secret_hash == token_hash(body.secret), EnrolmentSecret.revoked_at.is_(None)))
    org = db.get(Organisation, org_id) if org_id is not None else None
    if org is None or org.state != "approved":
        raise Unauthenticated(_("This enrolment secret is not valid."), code="bad_secret")
    who = Principal(f"enrol:{org.id}", Role.SITE_OPERATOR, organisation_id=org.id)
    view = service.create_ap(db, who, dump(body.ap) | {"site_id": body.ap.site_id}, now=ctx.now())
    return IssuedToken(id=view.id, token=issue_ap_token(db, view.id, ctx.now()))


def install_renderer(ctx: WebContext) -> None:
    """Load the operator file named in the settings, so config requests can be answered."""
    from tsunagaru.web.apconfig import load_operator

    path = ctx.settings.passpoint
    if path is not None and path.exists():
        ctx.extras["renderer"] = ConfigRenderer(load_operator(path), ctx.settings.secrets_dir)

