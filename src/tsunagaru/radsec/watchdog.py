"""Peer liveness, reconnect back-off and idle timeout: pure timers that take ``now``.

The watchdog follows RFC 3539 section 3.4 with Status-Server (RFC 5997) as the probe: when a connection
has been quiet for ``interval`` it sends a probe; a probe unanswered within ``response_timeout`` makes
the peer SUSPECT (callers fail over), ``down_after`` unanswered probes in a row make it DOWN (the
connection is closed and reopened with back-off). Any valid reply proves the peer alive again. A user
request that times out triggers an early probe, so a dead peer is noticed without waiting ``interval``.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass


class PeerState(enum.Enum):
    UP = "up"
    SUSPECT = "suspect"
    DOWN = "down"


class WatchdogAction(enum.Enum):
    NONE = "none"
    PROBE = "probe"  # send a Status-Server now
    CLOSE = "close"  # the peer is DOWN: close this connection


@dataclass(frozen=True, slots=True)
class WatchdogConfig:
    interval: float = 30.0
    response_timeout: float = 5.0
    down_after: int = 3


class Watchdog:
    """Liveness of one connection; the pool derives the peer's state from its connections."""

    def __init__(self, config: WatchdogConfig, *, now: float) -> None:
        self.config = config
        self.state = PeerState.UP  # a completed mutual-TLS handshake is our first proof of life
        self.failures = 0
        self._next_probe: float | None = now + config.interval
        self._probe_deadline: float | None = None

    def next_timer(self) -> float | None:
        if self.state is PeerState.DOWN:
            return None
        return self._probe_deadline if self._probe_deadline is not None else self._next_probe

    def on_reply(self, now: float) -> None:
        """Any valid reply (to a probe or to a request) shows the peer is alive."""
        self.state = PeerState.UP
        self.failures = 0
        self._probe_deadline = None
        self._next_probe = now + self.config.interval

    def on_request_timeout(self, now: float) -> None:
        """A user request went unanswered: probe now rather than at the end of the interval."""
        if self._probe_deadline is None and self.state is not PeerState.DOWN:
            self._next_probe = now

    def on_timer(self, now: float) -> WatchdogAction:
        if self.state is PeerState.DOWN:
            return WatchdogAction.NONE
        if self._probe_deadline is not None:
            if now < self._probe_deadline:
                return WatchdogAction.NONE
            self.failures += 1
            self._probe_deadline = None
            if self.failures >= self.config.down_after:
                self.state = PeerState.DOWN
                return WatchdogAction.CLOSE
            self.state = PeerState.SUSPECT
            return self._probe(now)
        if self._next_probe is not None and now >= self._next_probe:
            return self._probe(now)
        return WatchdogAction.NONE

    def on_closed(self) -> None:
        self.state = PeerState.DOWN
        self._next_probe = self._probe_deadline = None

    def _probe(self, now: float) -> WatchdogAction:
        self._probe_deadline = now + self.config.response_timeout
        self._next_probe = None
        return WatchdogAction.PROBE


DEFAULT_WATCHDOG = WatchdogConfig()


def default_jitter(delay: float) -> float:
    """Spread reconnects of many proxies over [75 %, 100 %] of the nominal delay."""
    return delay * random.uniform(0.75, 1.0)


class Backoff:
    """Exponential reconnect back-off: ``initial`` * ``factor``**n, capped, with injectable jitter."""

    def __init__(
        self,
        initial: float = 0.5,
        factor: float = 2.0,
        cap: float = 60.0,
        jitter: Callable[[float], float] = default_jitter,
    ) -> None:
        self.initial, self.factor, self.cap, self.jitter = initial, factor, cap, jitter
        self.attempts = 0
        self.not_before = 0.0
        # the first exponent whose delay reaches the cap (7 for 0.5 s * 2**n and 60 s): no higher power is taken
        self._cap_at = 0
        delay = initial
        while delay < cap and self._cap_at < 1000 and factor > 1:
            delay *= factor
            self._cap_at += 1

    def failed(self, now: float) -> float:
        """A connect attempt failed at ``now``; returns the earliest time of the next attempt.

        The exponent stops growing once the cap is reached, so a peer dead for weeks (attempt 10,000
        and more) is still retried every ``cap`` seconds; ``factor**attempts`` alone overflows a float
        at attempt 1024."""
        nominal = min(self.cap, self.initial * self.factor ** min(self.attempts, self._cap_at))
        self.attempts += 1
        self.not_before = now + self.jitter(nominal)
        return self.not_before

    def succeeded(self) -> None:
        self.attempts = 0
        self.not_before = 0.0

    def may_attempt(self, now: float) -> bool:
        return now >= self.not_before


class IdleTimer:
    """Closes a connection that carried no traffic for ``timeout`` seconds (None = never)."""

    def __init__(self, timeout: float | None, *, now: float) -> None:
        self.timeout = timeout
        self.last = now

    def touch(self, now: float) -> None:
        self.last = now

    def deadline(self) -> float | None:
        return None if self.timeout is None else self.last + self.timeout

    def expired(self, now: float) -> bool:
        deadline = self.deadline()
        return deadline is not None and now >= deadline
