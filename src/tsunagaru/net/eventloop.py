"""Which event loop the servers run on: uvloop where it is installed, asyncio's own otherwise.

Why uvloop: the ANP's and the IdP's per-request work is mostly small callbacks (a datagram read, a
TLS record, a timer); uvloop runs the loop itself, its handles and its SSL transport in C on libuv,
which costs less per turn than asyncio's pure-Python loop (the figures are in ``bench/README.md``).
It is a well-kept drop-in (MagicStack, used by uvicorn), so every adapter stays plain asyncio code.

``TSUNAGARU_EVENT_LOOP=asyncio`` forces asyncio's loop (an A/B in a benchmark, or a platform where
uvloop misbehaves); ``uvloop`` (the default) falls back to asyncio when uvloop cannot be imported.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
ENV = "TSUNAGARU_EVENT_LOOP"


def loop_factory(choice: str | None = None) -> tuple[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The loop named by ``choice`` (default: ``$TSUNAGARU_EVENT_LOOP``, else uvloop) and its name."""
    wanted = (choice or os.environ.get(ENV) or "uvloop").strip().lower()
    if wanted not in ("uvloop", "asyncio"):
        raise ValueError(f"{ENV} must be 'uvloop' or 'asyncio', not {wanted!r}")
    if wanted == "uvloop":
        try:
            import uvloop
        except ImportError:  # not built for this platform: asyncio's loop does the same work, slower
            return "asyncio", asyncio.new_event_loop
        return "uvloop", uvloop.new_event_loop
    return "asyncio", asyncio.new_event_loop


def run(main: Coroutine[Any, Any, T], choice: str | None = None) -> T:
    """``asyncio.run(main)`` on the chosen loop (the same clean-up: tasks cancelled, async generators
    and the default executor shut down)."""
    name, factory = loop_factory(choice)
    log.debug("event loop: %s", name)
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
