"""Typed errors and the one place they become responses.

Every failure the API shows is ``{"error": {"code", "message"}}`` with a stable ``code`` for scripts
and a ``message`` in the caller's language; pages show the same message in a page. Handlers here map
FastAPI's validation errors, Starlette's HTTP errors, the registry's NotFound/Forbidden and anything
unexpected (logged, answered 500 without a traceback) so that no endpoint builds an error by hand.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tsunagaru.web.i18n import Translator

log = logging.getLogger("tsunagaru.web")


def _(message: str) -> str:
    """Marks a message for extraction; translated when the response is built."""
    return message


class WebError(Exception):
    """An error with an HTTP status, a stable code and a translatable message (English source)."""

    status = 400
    code = "bad_request"
    message = _("The request is not valid.")

    def __init__(self, message: str | None = None, *, code: str | None = None, status: int | None = None,
                 **values: Any) -> None:
        super().__init__(message or self.message)
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.values = values


class Unauthenticated(WebError):
    status, code, message = 401, "unauthenticated", _("Sign in or send a valid token.")


class PermissionDenied(WebError):
    status, code, message = 403, "forbidden", _("Your role may not do this here.")


class Missing(WebError):
    status, code, message = 404, "not_found", _("Not found.")


class Conflict(WebError):
    status, code, message = 409, "conflict", _("This already exists.")


class Invalid(WebError):
    status, code, message = 422, "invalid", _("Some fields are not valid.")


class TooMany(WebError):
    status, code, message = 429, "rate_limited", _("Too many failed attempts; try again in %(seconds)d seconds.")


class CsrfFailed(WebError):
    status, code, message = 403, "csrf", _("The form expired or did not come from this site; reload it and try again.")


class Rejected(Exception):
    """A page form that failed: ``response`` is the form again with its error. Raised, not returned, so
    the request's transaction rolls back (nothing half-stored) before the page is sent."""

    def __init__(self, response: Response) -> None:
        super().__init__("form rejected")
        self.response = response


STATUS_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "too_large",
                415: "unsupported_media_type", 422: "invalid", 429: "rate_limited", 500: "internal"}
STATUS_MESSAGES = {
    400: _("The request is not valid."), 401: Unauthenticated.message, 403: PermissionDenied.message,
    404: Missing.message, 405: _("This method is not allowed here."), 406: _("This format is not available."),
    409: Conflict.message, 413: _("The request is too large."), 415: _("Send JSON (Content-Type: application/json)."),
    422: Invalid.message, 429: _("Too many requests."), 500: _("Something went wrong on our side; it was logged."),
}


def translator(request: Request) -> Translator:
    from tsunagaru.web.i18n import COOKIE, negotiate

    locale = getattr(request.state, "locale", None) or negotiate(
        request.query_params.get("lang"), request.cookies.get(COOKIE), request.headers.get("accept-language"))
    return Translator(locale)


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def error_response(request: Request, status: int, code: str, message: str, **values: Any) -> Response:
    t = translator(request)
    text = t.gettext(message, **values)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 and request.url.path.startswith("/api/") else None
    if wants_html(request):
        from tsunagaru.web.render import render_error

        return render_error(request, status, text)
    return JSONResponse({"error": {"code": code, "message": text}}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    for err in exc.errors()[:1]:
        if err.get("type") == "json_invalid":
            return "malformed_json", _("The body is not valid JSON.")
    return "invalid", Invalid.message


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the typed shape."""

    @app.exception_handler(WebError)
    async def _web(request: Request, exc: WebError) -> Response:
        return error_response(request, exc.status, exc.code, exc.message, **exc.values)

    @app.exception_handler(Rejected)
    async def _rejected(request: Request, exc: Rejected) -> Response:
        return exc.response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        code, message = _validation_message(exc)
        where = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()[:5]]
        log.info("invalid request %s %s: %s", request.method, request.url.path, ", ".join(where))
        response = error_response(request, 422, code, message)
        if isinstance(response, JSONResponse) and code == "invalid":
            import json

            body = json.loads(bytes(response.body))
            body["error"]["fields"] = where
            return JSONResponse(body, status_code=422)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        message = STATUS_MESSAGES.get(status, STATUS_MESSAGES[400])
        response = error_response(request, status, STATUS_CODES.get(status, "error"), message)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    from tsunagaru.sites import errors as reg

    statuses = ((reg.NotFound, 404, Missing.message), (reg.Forbidden, 403, PermissionDenied.message),
                (reg.Invalid, 422, Invalid.message), (reg.Conflict, 409, Conflict.message))

    @app.exception_handler(reg.RegistryError)
    async def _registry(request: Request, exc: reg.RegistryError) -> Response:
        status, message = next(((s, m) for cls, s, m in statuses if isinstance(exc, cls)), (400, STATUS_MESSAGES[400]))
        log.info("%s %s: %s (%s)", request.method, request.url.path, exc.code, exc.message)
        values: dict[str, Any] = {}
        if exc.field and status == 422:
            message, values = _("The field %(field)s is not valid."), {"field": exc.field}
        elif exc.field and status == 409:
            message, values = _("The value of %(field)s is already used."), {"field": exc.field}
        response = error_response(request, status, exc.code, message, **values)
        if isinstance(response, JSONResponse) and exc.field:
            import json

            body = json.loads(bytes(response.body))
            body["error"]["fields"] = [exc.field]
            return JSONResponse(body, status_code=status)
        return response

