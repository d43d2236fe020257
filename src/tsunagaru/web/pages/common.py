"""Helpers the page routers share: role names in words, safe redirects, form field access, paging links."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse

from tsunagaru.sites.scope import Role
from tsunagaru.web.errors import _
from tsunagaru.web.i18n import Translator

ROLE_NAMES = {Role.CITY_ADMIN: _("City administrator"), Role.MUNICIPALITY_OPERATOR: _("Municipality operator"),
              Role.SITE_OPERATOR: _("Site operator"), Role.VIEWER: _("Viewer"), Role.AUDITOR: _("Auditor")}


def role_names(t: Translator) -> dict[str, str]:
    return {role.value: t.gettext(text) for role, text in ROLE_NAMES.items()}


def safe_next(target: str | None) -> str:
    """Only local paths: ``//evil.example`` or ``https://...`` would make the login an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target[:500]


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def page_links(request: Request, total: int, limit: int, offset: int) -> dict[str, str | None]:
    def at(new_offset: int) -> str:
        query = dict(request.query_params)
        query["offset"] = str(new_offset)
        return request.url.path + "?" + urlencode(query)

    return {"prev": at(max(0, offset - limit)) if offset > 0 else None,
            "next": at(offset + limit) if offset + limit < total else None}


FIELD_LABELS = {"name": _("Name"), "name_en": _("Name (English)"), "category": _("Category"),
                "lat": _("Latitude"), "lon": _("Longitude"), "address": _("Address"),
                "municipality_code": _("Municipality code"), "operator_id": _("Operator"), "site_id": _("Site"),
                "nas_network": _("NAS network"), "nas_identifier": _("NAS identifier"),
                "secret_ref": _("Secret reference"),
                "radsec_name": _("RadSec certificate name"), "bssids": _("BSSIDs"), "radios": _("Radios"),
                "username": _("Username"), "password": _("Password"), "role": _("Role"),
                "organisation_id": _("Organisation"), "contact_email": _("Contact e-mail"), "state": _("State"),
                "url": _("Web page"), "platform": _("Platform")}


def form_error(t: Translator, exc: Exception) -> str:
    """The message a form shows for ``exc``, in the user's language (raise the page as ``Rejected``)."""
    from tsunagaru.sites.errors import Conflict, Forbidden, NotFound, RegistryError
    from tsunagaru.web.errors import WebError

    if isinstance(exc, RegistryError):
        label = t.gettext(FIELD_LABELS.get(exc.field or "", exc.field or ""))
        if isinstance(exc, NotFound):
            return t.gettext("Not found.")
        if isinstance(exc, Forbidden):
            return t.gettext("Your role may not do this here.")
        if isinstance(exc, Conflict):
            return t.gettext("The value of %(field)s is already used.", field=label) if exc.field else \
                t.gettext("This already exists.")
        return t.gettext("The field %(field)s is not valid.", field=label) if exc.field else \
            t.gettext("Some fields are not valid.")
    if isinstance(exc, WebError):
        return t.gettext(exc.message, **exc.values)
    raise exc


def optional_float(text: str, field: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    from tsunagaru.sites.errors import Invalid

    try:
        return float(text)
    except ValueError:
        raise Invalid("not a number", field=field) from None
