"""The one web app of Tsunagaru: REST API, dashboard pages, enrolment portal (see :mod:`tsunagaru.web.app`)."""

from tsunagaru.web.app import API_PREFIX, ROUTER_MODULES, create_app
from tsunagaru.web.config import WebSettings

__all__ = ["API_PREFIX", "ROUTER_MODULES", "WebSettings", "create_app"]
