"""Worker threads with a bounded queue in front: password hashes, user-store reads, accounting commits.

Why not a bare ``ThreadPoolExecutor``: its queue has no bound, so a flood of password guesses would
queue work (and memory) without limit while every answer came later than the NAS waits. Here at most
``workers + queue`` jobs are admitted; :meth:`CheckPool.submit` returns None beyond that and the caller
answers at once (the IdP sends an Access-Reject with Reject-Reason 21, see :mod:`tsunagaru.idp.server`).
``submit`` and the completion callbacks run on the event loop, so the counters need no lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class CheckPool:
    def __init__(self, name: str, *, workers: int = 4, queue: int = 256) -> None:
        self.name = name
        self.workers = workers
        self.limit = workers + queue
        self.pending = 0  # admitted and not finished (running + queued)
        self.overflows = 0
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"idp-{name}")

    @property
    def queued(self) -> int:
        """Jobs waiting for a worker (the queue depth)."""
        return max(0, self.pending - self.workers)

    def submit(self, fn: Callable[..., T], *args: object) -> asyncio.Future[T] | None:
        """Run ``fn(*args)`` in a worker, or None (counted) when the queue is full."""
        if self.pending >= self.limit:
            self.overflows += 1
            return None
        self.pending += 1
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: asyncio.Future[T]) -> None:
        self.pending -= 1

    def close(self) -> None:
        """Wait for the running jobs; queued ones that never started are cancelled."""
        self._executor.shutdown(wait=True, cancel_futures=True)
