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
