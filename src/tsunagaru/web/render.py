"""Server-rendered pages: one Jinja2 environment for the whole app and :func:`render`.

Templates live under ``web/templates/`` (the dashboard and the portal add subfolders such as
``templates/dashboard/``; nothing to register). Each render gets the request's :class:`Translator`
as ``gettext``/``ngettext`` (Jinja2's i18n extension, newstyle), the Principal, the CSRF field and
the language switch, so templates never reach for globals or thread-locals.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from tsunagaru.web import labels
from tsunagaru.web.errors import translator
from tsunagaru.web.i18n import LOCALES, Translator
from tsunagaru.web.security import CSRF_COOKIE, CSRF_FIELD, cookie_options, csrf_token, new_nonce


@functools.cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("tsunagaru.web", "templates"), autoescape=select_autoescape(),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    return env


def _csrf(request: Request) -> tuple[str, bool]:
    nonce = request.cookies.get(CSRF_COOKIE)
    if nonce and 16 <= len(nonce) <= 64:
        return nonce, False
    nonce = getattr(request.state, "csrf_nonce", None) or new_nonce()
    request.state.csrf_nonce = nonce
    return nonce, True


def render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    """``name`` rendered for this request, in its language, with a CSRF cookie when it lacks one."""
    t: Translator = translator(request)
    ctx = request.app.state.ctx
    nonce, fresh = _csrf(request)
    token = csrf_token(ctx.settings.secret_key, nonce)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    page = environment().get_template(name).render(
        request=request, t=t, lang=t.locale, locales=LOCALES,
        gettext=t.template_gettext, ngettext=t.template_ngettext, _=t.template_gettext,
        principal=getattr(request.state, "principal", None),
        csrf_field=Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token),
        here_quoted=quote(here, safe=""), names=labels.names(t), **values)
    response = HTMLResponse(page, status_code=status)
    response.headers["Content-Language"] = t.locale
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language, Cookie"
    if fresh:
        response.set_cookie(CSRF_COOKIE, nonce, **cookie_options(ctx.settings.https))
    return response


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    if status == 401:
        from fastapi.responses import RedirectResponse

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)  # type: ignore[return-value]
    return render(request, "error.html", status=status, status_code=status, message=message)
