"""What every request shares: settings, the store, the login limiter and the clock (a seam for tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import Request

from tsunagaru.store import Store
from tsunagaru.web.auth.ratelimit import RateLimiter
from tsunagaru.web.config import WebSettings


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebContext:
    settings: WebSettings
    store: Store
    limiter: RateLimiter
    now: Callable[[], datetime] = _utcnow
    monotonic: Callable[[], float] = time.monotonic
    extras: dict[str, object] = field(default_factory=dict)  # caches owned by routers (config renders)


def context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx
