"""Gauges read from a function, also in prometheus_client's multiprocess mode.

``Gauge.set_function`` keeps the function in the process and is read at scrape time, but in multiprocess
mode the parent scrapes the workers' files, never their functions: such a gauge would read 0. A
:class:`WatchedGauge` remembers its function instead when multiprocess mode is on, and :func:`refresh`
(every second, from each worker's loop) writes each function's value into the worker's file. Outside
multiprocess mode it is a plain Gauge.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

from prometheus_client import Gauge

log = logging.getLogger(__name__)

_watched: list[tuple[Gauge, Callable[[], float]]] = []  # this process's, multiprocess mode only
_also: list[Callable[[], None]] = []  # more writers run by refresh (tallied counters flushing to the file)
MAX_WATCHED = 10_000


def multiprocess_on() -> bool:
    return "PROMETHEUS_MULTIPROC_DIR" in os.environ


class WatchedGauge(Gauge):
    def set_function(self, f: Callable[[], float]) -> None:
        if not multiprocess_on():
            super().set_function(f)
            return
        if len(_watched) < MAX_WATCHED:
            _watched.append((self, f))
        self.set(float(f()))


def also_refresh(write: Callable[[], None]) -> None:
    """Run ``write`` on every :func:`refresh` too (multiprocess mode: values kept in the process)."""
    if len(_also) < MAX_WATCHED:
        _also.append(write)


def refresh() -> None:
    """Write every watched gauge's current value (multiprocess mode); a failing function is skipped."""
    for gauge, f in _watched:
        try:
            gauge.set(float(f()))
        except Exception as exc:  # a gauge must never stop the worker's loop
            log.debug("gauge %s not refreshed: %s", gauge, exc)
    for write in _also:
        try:
            write()
        except Exception as exc:
            log.debug("%s not refreshed: %s", write, exc)


async def refresh_every(seconds: float = 1.0) -> None:
    """A worker's task in multiprocess mode: :func:`refresh` every ``seconds`` until cancelled."""
    while True:
        refresh()
        await asyncio.sleep(seconds)
