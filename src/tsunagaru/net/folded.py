"""Counters and histograms counted in plain numbers on the event loop, folded into prometheus_client later.

Why: prometheus_client takes a lock, checks and converts on every ``inc``/``observe`` (about 5 us and 12 us
each, 17 and 65 us in multiprocess mode, where every value is an mmap write under a lock), and the ANP and
the IdP touch several per request. Here a request costs an addition; a :class:`Folder`, registered first in
the registry, adds what is new to prometheus_client's own values when the registry is collected (a
scrape, ``get_sample_value``) and, in multiprocess mode, when the worker's gauge refresh runs it
(:func:`tsunagaru.net.gauges.on_refresh`), so that the parent reads current files.

Threads: only the event loop writes the running totals; only :meth:`Folder.fold` (under its lock: a
scrape's thread and the loop's refresh or stop may both fold) writes what was folded. An increment made
while folding is folded the next time, never lost or counted twice.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any, Protocol

from prometheus_client import Counter, Histogram
from prometheus_client.metrics_core import Metric


class Foldable(Protocol):
    def fold(self) -> None: ...


class FoldedCounter:
    """A counter child counted in a plain number and added to prometheus_client's child by :meth:`fold`."""

    __slots__ = ("_folded", "_total", "child")

    def __init__(self, child: Counter) -> None:
        self.child = child
        self._total = 0.0
        self._folded = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("counters can only be incremented by non-negative amounts")
        self._total += amount

    def fold(self) -> None:
        total = self._total  # one read: increments after it are the next fold's
        if total != self._folded:
            self.child.inc(total - self._folded)
            self._folded = total


class FoldedHistogram:
    """A histogram child bucketed by hand and added to prometheus_client's own values by :meth:`fold`:
    the same bucket a direct ``observe`` picks (``le`` inclusive); its ``_upper_bounds``, ``_buckets`` and
    ``_sum`` are read (tests/idp/test_metrics.py checks the exposition is the same as direct calls')."""

    __slots__ = ("_bounds", "_counts", "_folded", "_folded_sum", "_sum", "child")

    def __init__(self, child: Histogram) -> None:
        self.child = child
        self._bounds: tuple[float, ...] = tuple(child._upper_bounds)  # ends with +Inf
        self._counts = [0] * len(self._bounds)
        self._folded = [0] * len(self._bounds)
        self._sum = self._folded_sum = 0.0

    def observe(self, amount: float) -> None:
        self._counts[bisect_left(self._bounds, amount)] += 1  # the first bound >= amount, as ``le`` says
        self._sum += amount

    def fold(self) -> None:
        total = self._sum
        for i, count in enumerate(self._counts):
            if count != self._folded[i]:
                self.child._buckets[i].inc(count - self._folded[i])
                self._folded[i] = count
        if total != self._folded_sum:
            self.child._sum.inc(total - self._folded_sum)
            self._folded_sum = total


def folded(metric: object, child: Any) -> FoldedCounter | FoldedHistogram:
    """The folded stand-in for ``child``, a child of ``metric`` (a Histogram; otherwise a Counter)."""
    return FoldedHistogram(child) if isinstance(metric, Histogram) else FoldedCounter(child)


class Folder:
    """A collector that folds everything added to it and exports nothing itself; register it before the
    metrics it folds, so that a collection folds first and then reads them."""

    def __init__(self) -> None:
        self._items: list[Foldable] = []
        self._lock = threading.Lock()

    def add(self, item: Foldable) -> None:
        self._items.append(item)

    def fold(self) -> None:
        with self._lock:
            for item in list(self._items):  # a copy: the loop may add one meanwhile
                item.fold()

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterable[Metric]:
        self.fold()
        return ()
