"""SRV target ordering (RFC 2782): by priority, then by weight.

Two orders are offered. :func:`failover_order` is deterministic (priority, heavier weight first, then
name and port) -- what a cache stores and what an operator sees. :func:`weighted_order` is the RFC 2782
selection within each priority, with the randomness passed in so tests can seed it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from itertools import groupby
from typing import Protocol, TypeVar

__all__ = ["failover_order", "weighted_order"]


class _Weighted(Protocol):
    @property
    def priority(self) -> int: ...
    @property
    def weight(self) -> int: ...
    @property
    def port(self) -> int: ...


T = TypeVar("T", bound=_Weighted)


def _name(item: _Weighted) -> str:
    return str(getattr(item, "host", getattr(item, "target", "")))


def failover_order(items: Iterable[T]) -> tuple[T, ...]:
    """Priority ascending; within a priority the heavier weight first; ties by name, then port."""
    return tuple(sorted(items, key=lambda i: (i.priority, -i.weight, _name(i), i.port)))


def _weighted_group(group: list[T], rng: random.Random) -> list[T]:
    # RFC 2782: records "in any order" but zero weights first, then repeatedly draw 0..sum (inclusive)
    # and take the first record whose running sum reaches the draw. The "any order" is a shuffle (else
    # equal zero weights would always pick the same record) of a stable order, so a seed gives one answer.
    pending = sorted(group, key=lambda i: (_name(i), i.port))
    rng.shuffle(pending)
    pending.sort(key=lambda i: i.weight != 0)
    chosen: list[T] = []
    while pending:
        draw = rng.randint(0, sum(i.weight for i in pending))
        running = 0
        for index, item in enumerate(pending):
            running += item.weight
            if running >= draw:
                chosen.append(pending.pop(index))
                break
    return chosen


def weighted_order(items: Iterable[T], rng: random.Random) -> tuple[T, ...]:
    """Priority ascending; within a priority, RFC 2782 weighted random order drawn from ``rng``."""
    ordered = sorted(items, key=lambda i: i.priority)
    result: list[T] = []
    for _, group in groupby(ordered, key=lambda i: i.priority):
        result.extend(_weighted_group(list(group), rng))
    return tuple(result)
