"""Login rate limits: a sliding window per key (username and client address), pure over ``now``.

Kept in memory, because one process serves the app and a restart that forgets a few failures is
harmless; the table of keys is bounded so a flood of made-up usernames cannot grow it without end.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    attempts: int = 5  # failures allowed per window
    window: float = 300.0  # seconds
    max_keys: int = 10_000


class RateLimiter:
    def __init__(self, limit: Limit | None = None) -> None:
        self.limit = limit or Limit()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.limit.window:
            times.popleft()
        return times

    def blocked(self, keys: tuple[str, ...], now: float) -> float:
        """Seconds until a blocked key may try again, or 0 when none of ``keys`` is blocked."""
        wait = 0.0
        for key in keys:
            times = self._recent(key, now)
            if len(times) >= self.limit.attempts:
                wait = max(wait, times[0] + self.limit.window - now)
        return wait

    def failed(self, keys: tuple[str, ...], now: float) -> None:
        for key in keys:
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times
            self._failures.move_to_end(key)
            while len(times) > self.limit.attempts:
                times.popleft()
        while len(self._failures) > self.limit.max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, keys: tuple[str, ...]) -> None:
        for key in keys:
            self._failures.pop(key, None)
