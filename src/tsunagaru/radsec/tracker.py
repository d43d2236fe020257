"""RADIUS identifiers of one RadSec connection (RFC 6614 2.5, RFC 5997 / radiusdtls-bis).

The identifier space belongs to a connection: at most 255 requests are in flight on it (identifier 0
is kept for Status-Server, so a watchdog probe never waits behind user traffic); more needs another
connection. There is no retransmission over TLS, so a request either gets its reply or times out.
A timed-out identifier stays *quarantined* for a while so that a late reply is recognised and dropped
instead of being matched to a newer request that reused the identifier. Pure: time is passed in.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

from tsunagaru.radsec.errors import IdentifiersExhausted

T = TypeVar("T")

STATUS_IDENTIFIER = 0
USER_IDENTIFIERS = range(1, 256)


class Pending(Generic[T]):
    """One request in flight: what the adapter attached to it, and when it gives up (a plain class, not a
    dataclass, so that mypyc compiles it: a compiled Generic dataclass fails at import)."""

    __slots__ = ("deadline", "identifier", "value")

    def __init__(self, identifier: int, deadline: float, value: T) -> None:
        self.identifier = identifier
        self.deadline = deadline
        self.value = value

    def __repr__(self) -> str:
        return f"Pending(identifier={self.identifier}, deadline={self.deadline}, value={self.value!r})"


class RequestTracker(Generic[T]):
    """Allocates identifiers, matches replies, and expires requests whose deadline has passed."""

    def __init__(self, *, quarantine: float = 30.0) -> None:
        self.quarantine = quarantine
        self._pending: dict[int, Pending[T]] = {}
        self._quarantined: dict[int, float] = {}  # identifier -> time it becomes free again
        self._free: deque[int] = deque(USER_IDENTIFIERS)
        # Lower bounds of the pending deadlines and quarantine ends, kept in O(1) per request: a proxy
        # re-arms its timer after every request, and scanning 255 entries each time showed in profiles.
        # A bound may be earlier than the truth (a completed request's deadline); the timer then fires
        # early, ``expire`` finds nothing, recomputes the bounds exactly, and the timer is re-armed.
        self._pending_floor: float | None = None
        self._quarantine_floor: float | None = None

    # -- state ---------------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """User requests waiting for a reply (the Status-Server probe is not counted)."""
        return len(self._pending) - (STATUS_IDENTIFIER in self._pending)

    @property
    def free(self) -> int:
        return len(self._free)

    def probe_pending(self) -> bool:
        return STATUS_IDENTIFIER in self._pending

    def next_deadline(self) -> float | None:
        """When :meth:`expire` may have something to do: never later than the earliest deadline or
        quarantine end, possibly earlier (see the bounds in ``__init__``); None when nothing waits."""
        floors = [f for f in (self._pending_floor, self._quarantine_floor) if f is not None]
        return min(floors) if floors else None

    # -- transitions ---------------------------------------------------------------------------------

    def allocate(self, value: T, *, now: float, timeout: float) -> int:
        """Take a free user identifier (1..255) for a new request."""
        if not self._free:
            raise IdentifiersExhausted(f"{len(self._pending)} requests in flight on this connection")
        identifier = self._free.popleft()
        self._pending[identifier] = Pending(identifier, now + timeout, value)
        self._lower_pending_floor(now + timeout)
        return identifier

    def allocate_status(self, value: T, *, now: float, timeout: float) -> int:
        """Take identifier 0 for a Status-Server probe (one at a time)."""
        if STATUS_IDENTIFIER in self._pending or STATUS_IDENTIFIER in self._quarantined:
            raise IdentifiersExhausted("a Status-Server probe is already in flight")
        self._pending[STATUS_IDENTIFIER] = Pending(STATUS_IDENTIFIER, now + timeout, value)
        self._lower_pending_floor(now + timeout)
        return STATUS_IDENTIFIER

    def peek(self, identifier: int) -> Pending[T] | None:
        return self._pending.get(identifier)

    def is_quarantined(self, identifier: int) -> bool:
        return identifier in self._quarantined

    def complete(self, identifier: int) -> Pending[T]:
        """The reply for ``identifier`` arrived: forget the request and free the identifier."""
        pending = self._pending.pop(identifier)
        self._release(identifier)
        if not self._pending:
            self._pending_floor = None
        return pending

    def expire(self, now: float) -> list[Pending[T]]:
        """Requests whose deadline passed; their identifiers go to quarantine. Frees old quarantine."""
        for identifier, until in list(self._quarantined.items()):
            if until <= now:
                del self._quarantined[identifier]
                self._release(identifier)
        expired = [p for p in self._pending.values() if p.deadline <= now]
        for p in expired:
            del self._pending[p.identifier]
            # Identifier 0 is not quarantined: one probe at a time, and a stray late probe answer fails
            # verification against the next probe, which closes a connection that was in doubt anyway.
            if self.quarantine > 0 and p.identifier != STATUS_IDENTIFIER:
                self._quarantined[p.identifier] = now + self.quarantine
            else:
                self._release(p.identifier)
        self._pending_floor = min((p.deadline for p in self._pending.values()), default=None)
        self._quarantine_floor = min(self._quarantined.values(), default=None)
        return expired

    def drain(self) -> list[Pending[T]]:
        """The connection is gone: hand back every pending request."""
        out = list(self._pending.values())
        self._pending.clear()
        self._pending_floor = None
        return out

    def _lower_pending_floor(self, deadline: float) -> None:
        if self._pending_floor is None or deadline < self._pending_floor:
            self._pending_floor = deadline

    def _release(self, identifier: int) -> None:
        if identifier != STATUS_IDENTIFIER:
            # A freed identifier goes to the back of the queue, which keeps reuse as late as possible.
            self._free.append(identifier)
