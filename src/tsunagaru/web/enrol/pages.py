"""Rendering the portal's pages: a Jinja2 environment over ``enrol/templates``, the request's language, the
CSRF field (the web app's signed double submit, :mod:`tsunagaru.web.security`), and the language switch.

Kept apart from the dashboard's renderer because the portal speaks five languages (the dashboard two) and
visitors default to English where staff default to Japanese.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from babel import dates
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from tsunagaru.web.enrol.messages import HTML_LANG, LANGUAGES, NAMES, Catalogs
from tsunagaru.web.render import _csrf
from tsunagaru.web.security import CSRF_COOKIE, CSRF_FIELD, cookie_options, csrf_token

LANG_COOKIE = "tsg_lang"  # shared with the dashboard's switch
PLATFORM_LABELS = {"ios": "iPhone or iPad", "macos": "Mac", "android": "Android", "windows": "Windows 11",
                   "wpa_supplicant": "Linux (wpa_supplicant)"}
_BABEL = {"zh_Hans": "zh_Hans_CN", "zh_Hant": "zh_Hant_TW"}


@functools.cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("tsunagaru.web.enrol", "templates"), autoescape=select_autoescape(),
                      trim_blocks=True, lstrip_blocks=True)
    return env


def request_lang(request: Request, catalogs: Catalogs, account_lang: str | None = None) -> str:
    """An explicit ``?lang=`` first, then the cookie, then the account's, then Accept-Language, then English."""
    for choice in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), account_lang):
        if choice and catalogs.pick(choice) == choice.replace("-", "_"):
            return catalogs.pick(choice)
    return catalogs.negotiate(request.headers.get("accept-language")) or "en"


def render(request: Request, catalogs: Catalogs, secret: bytes, https: bool, name: str, lang: str,
           status: int = 200, **values: Any) -> HTMLResponse:
    t = catalogs.get(lang)
    nonce, fresh = _csrf(request)  # the dashboard's nonce handling: one cookie for both
    path = request.url.path

    def gettext(message: str, **kw: Any) -> Markup:
        text = t.gettext(message)
        try:
            return Markup(text) % kw if kw else Markup(text)
        except (KeyError, ValueError, TypeError):
            return Markup(message) % kw if kw else Markup(message)

    def when(value: datetime | None) -> str:
        if value is None:
            return "—"
        return dates.format_date(value, format="long", locale=_BABEL.get(lang, lang))

    def platform_label(value: str) -> str:
        return t.gettext(PLATFORM_LABELS.get(value, value))

    page = environment().get_template(name).render(
        request=request, lang=lang, html_lang=HTML_LANG[lang], languages=[(c, NAMES[c]) for c in LANGUAGES],
        path=path, tr=gettext, when=when, platform_label=platform_label,
        csrf_field=Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, csrf_token(secret, nonce)), **values)
    response = HTMLResponse(page, status_code=status)
    response.headers["Content-Language"] = HTML_LANG[lang]
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language, Cookie"
    if fresh:
        response.set_cookie(CSRF_COOKIE, nonce, **cookie_options(https))
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, **cookie_options(https, max_age=365 * 86400))
    return response
