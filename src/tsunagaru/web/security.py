"""HTTP hardening shared by every page and endpoint: headers, a body limit, cookies and CSRF.

Pure ASGI middleware (no BaseHTTPMiddleware), so streaming responses and the config endpoint's hot
path pay one dict update. CSRF is a signed double submit: the cookie holds a random nonce and every
form carries HMAC(secret key, nonce); a forged cross-site form can neither read the cookie nor compute
the MAC, and a cookie planted by a sibling domain is useless without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("tsunagaru.web")

CSRF_COOKIE = "tsg_csrf"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "tsg_session"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def tile_origin(url: str) -> str | None:
    """The origin of a tile URL template for the CSP's img-src (``{s}.`` subdomains become ``*.``), or None.

    Anything that is not a plain http(s) host (quotes, spaces, semicolons: a CSP injection) gives None."""
    from urllib.parse import urlsplit

    if not url:
        return None
    parts = urlsplit(url.replace("{s}.", "wildcard-sub."))
    host = parts.netloc.replace("wildcard-sub.", "*.")
    if parts.scheme not in ("http", "https") or not re.fullmatch(r"(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?", host):
        return None
    return f"{parts.scheme}://{host}"


def csp(tile_url: str = "") -> str:
    """The Content-Security-Policy; a configured tile server's origin is allowed to serve images."""
    origin = tile_origin(tile_url)
    return CSP if origin is None else CSP.replace("img-src 'self' data:;", f"img-src 'self' data: {origin};")


class BodyTooLarge(Exception):
    """The request body passed the configured limit."""


class SecurityMiddleware:
    """Adds the security headers to every response and bounds request bodies."""

    def __init__(self, app: ASGIApp, *, max_body: int, https: bool, tile_url: str = "") -> None:
        self.app = app
        self.max_body = max_body
        self.headers = [
            (b"content-security-policy", csp(tile_url).encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
        ]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_body):
                await _too_large(send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge
            return message

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await with_headers(message)

        try:
            await self.app(scope, limited_receive, tracked)
        except Exception:
            # the last line of defence: one log line with the traceback, a typed 500, nothing for uvicorn
            # to print again
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                from starlette.requests import Request

                from tsunagaru.web.errors import STATUS_MESSAGES, error_response

                response = error_response(Request(scope), 500, "internal", STATUS_MESSAGES[500])
                await response(scope, receive, with_headers)


async def _too_large(send: Send) -> None:
    body = b'{"error":{"code":"too_large","message":"The request is too large."}}'
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def csrf_token(key: bytes, nonce: str) -> str:
    return hmac.new(key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def csrf_valid(key: bytes, nonce: str | None, submitted: str | None) -> bool:
    if not nonce or not submitted:
        return False
    return hmac.compare_digest(csrf_token(key, nonce), submitted)


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def cookie_options(https: bool, *, max_age: int | None = None) -> dict[str, Any]:
    """HttpOnly, SameSite=Lax, Secure when served over https, for every cookie the app sets."""
    return {"httponly": True, "samesite": "lax", "secure": https, "path": "/", "max_age": max_age}
