"""The one web app: REST API under ``/api/v1``, server-rendered pages, static files.

Parts of the product add themselves by naming a module in :data:`ROUTER_MODULES`; each exposes
``router`` (a FastAPI ``APIRouter``). API routers carry their own ``/api/v1/...`` prefix and appear in
the OpenAPI document; page routers set ``include_in_schema=False``. Reading the tuple tells a reader
every surface the app has, as ``cli.COMMAND_MODULES`` does for the command line.
"""

from __future__ import annotations

import importlib
from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tsunagaru import __version__
from tsunagaru.store import Store
from tsunagaru.web import errors
from tsunagaru.web.auth.ratelimit import Limit, RateLimiter
from tsunagaru.web.config import WebSettings, tile_url
from tsunagaru.web.context import WebContext
from tsunagaru.web.security import BodyTooLarge, SecurityMiddleware

API_PREFIX = "/api/v1"

ROUTER_MODULES = (
    "tsunagaru.web.api.apconfig",  # first: AP polls are most of the traffic, and routes match in order
    "tsunagaru.web.api.auth",
    "tsunagaru.web.api.sites",
    "tsunagaru.web.api.aps",
    "tsunagaru.web.api.tenants",
    "tsunagaru.web.api.users",
    "tsunagaru.web.api.audit",
    "tsunagaru.web.pages.account",
    "tsunagaru.web.pages.registry",
    "tsunagaru.web.pages.admin",
    "tsunagaru.web.enrol.router",
    "tsunagaru.web.incidents_api",
    "tsunagaru.web.dashboard.api",
    "tsunagaru.web.dashboard.idps",
    "tsunagaru.web.dashboard.pages",
)


def create_app(settings: WebSettings, store: Store | None = None) -> FastAPI:
    """The app for ``settings``; ``store`` defaults to the database at ``settings.db_url`` (migrated)."""
    app = FastAPI(title="Tsunagaru", version=__version__, openapi_url=f"{API_PREFIX}/openapi.json",
                  docs_url=None, redoc_url=None,  # Swagger UI loads scripts from a CDN; the CSP forbids that
                  description="Registry, access points and operations of a city's OpenRoaming network.")
    app.state.ctx = WebContext(
        settings=settings, store=store or Store.open(settings.db_url),
        limiter=RateLimiter(Limit(attempts=settings.login_attempts, window=settings.login_window)))
    errors.install(app)

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request, exc):  # type: ignore[no-untyped-def]
        return errors.error_response(request, 413, "too_large", errors.STATUS_MESSAGES[413])

    from tsunagaru.web.api.apconfig import install_renderer

    install_renderer(app.state.ctx)
    from tsunagaru.web.incidents import install as install_incidents

    install_incidents(app.state.ctx.extras, app.state.ctx.store)  # active incidents -> the APs' disaster state
    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).router)
    static = resources.files("tsunagaru.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_middleware(SecurityMiddleware, max_body=settings.max_body, https=settings.https,
                       tile_url=tile_url(settings))
    return app
