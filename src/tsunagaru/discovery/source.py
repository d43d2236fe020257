"""The one interface every discovery source offers, and the drivers that answer the core's queries."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from tsunagaru.discovery.core import Lookup
from tsunagaru.discovery.model import Answer, DiscoveryResult, Query, Service

__all__ = ["DiscoverySource", "run", "run_sync"]


class DiscoverySource(Protocol):
    """Live DNS, a zone file, or a cache in front of either: ``await source.resolve(realm, service, now)``.

    Returns a :class:`Route` or a :class:`RealmNotFound`; raises :class:`DiscoveryError` when DNS cannot
    answer and :class:`InvalidRealm` for a realm that is not RFC 7542 syntax. ``now`` is seconds on the
    caller's clock (monotonic); only caches use it.
    """

    async def resolve(self, realm: str, service: Service = Service.AUTH, now: float = 0.0) -> DiscoveryResult:
        ...


async def run(lookup: Lookup, answer: Callable[[Query], Awaitable[Answer]]) -> DiscoveryResult:
    """Drive a lookup with an async answerer; the queries of one step run concurrently."""
    try:
        queries = next(lookup)
        while True:
            answers = await asyncio.gather(*(answer(q) for q in queries))
            queries = lookup.send(tuple(answers))
    except StopIteration as stop:
        result: DiscoveryResult = stop.value
        return result


def run_sync(lookup: Lookup, answer: Callable[[Query], Answer]) -> DiscoveryResult:
    """Drive a lookup with a plain function (zone data in memory, tests)."""
    try:
        queries = next(lookup)
        while True:
            queries = lookup.send(tuple(answer(q) for q in queries))
    except StopIteration as stop:
        result: DiscoveryResult = stop.value
        return result
