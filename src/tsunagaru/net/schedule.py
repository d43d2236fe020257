"""Sans-IO pieces of RADIUS over UDP: retransmission, identifier allocation, duplicate detection.

None of these read a clock or touch a socket: time comes in as ``now`` (seconds, any monotonic origin),
so tests drive them without sleeping and the asyncio adapter in :mod:`tsunagaru.net.udp` only moves
bytes and re-arms timers.

RFC 2865 2.5 / RFC 5080 2.2: a client retransmits the *same* packet (same Identifier and Request
Authenticator) when no reply comes; a server that sees the same (source, Identifier, Authenticator)
again answers with the reply it already sent instead of running the request a second time.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum


class RadiusTimeout(Exception):
    """No verified reply arrived after the first transmission and every retransmission."""


class Step(Enum):
    WAIT = "wait"
    RESEND = "resend"
    GIVE_UP = "give-up"


@dataclass(slots=True)
class Retransmit:
    """When to resend one request: ``1 + retries`` transmissions, each waiting ``timeout`` seconds.

    Fixed per-try timeouts, as radclient and most NASes use, keep the worst case easy to state:
    ``timeout * (1 + retries)`` seconds.
    """

    timeout: float
    retries: int
    started: float
    sent: int = 1
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.retries < 0:
            raise ValueError("timeout must be positive and retries not negative")
        self.deadline = self.started + self.timeout

    def step(self, now: float) -> Step:
        """What to do at ``now``: keep waiting, resend (and re-arm), or give up."""
        if now < self.deadline:
            return Step.WAIT
        if self.sent > self.retries:
            return Step.GIVE_UP
        self.sent += 1
        self.deadline = now + self.timeout
        return Step.RESEND


@dataclass(slots=True)
class IdentifierPool:
    """The 256 RADIUS Identifiers of one client socket; an ID stays taken until its exchange ends."""

    next_id: int = 0
    taken: set[int] = field(default_factory=set)

    def take(self) -> int:
        if len(self.taken) >= 256:
            raise RuntimeError("all 256 RADIUS identifiers are in flight on this socket")
        while self.next_id in self.taken:
            self.next_id = (self.next_id + 1) % 256
        ident = self.next_id
        self.taken.add(ident)
        self.next_id = (ident + 1) % 256
        return ident

    def release(self, ident: int) -> None:
        self.taken.discard(ident)


DuplicateKey = tuple[object, int, bytes]


@dataclass(slots=True)
class ReplyCache:
    """Replies already sent, by (source address, Identifier, Request Authenticator), kept ``lifetime``.

    Bounded by ``max_entries`` (oldest dropped first) so a flood cannot grow it without limit.
    """

    lifetime: float = 5.0
    max_entries: int = 4096
    _entries: OrderedDict[DuplicateKey, tuple[float, bytes | None]] = field(default_factory=OrderedDict)

    def lookup(self, key: DuplicateKey, now: float) -> tuple[bool, bytes | None]:
        """(seen, reply): seen with reply None means the first copy is still being answered."""
        self._expire(now)
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        return True, entry[1]

    def start(self, key: DuplicateKey, now: float) -> None:
        self._put(key, now, None)

    def finish(self, key: DuplicateKey, reply: bytes | None, now: float) -> None:
        if reply is None:
            self._entries.pop(key, None)  # nothing sent: let a retransmission try again
        else:
            self._put(key, now, reply)

    def _put(self, key: DuplicateKey, now: float, reply: bytes | None) -> None:
        self._entries[key] = (now + self.lifetime, reply)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def _expire(self, now: float) -> None:
        while self._entries:
            key, (until, _) = next(iter(self._entries.items()))
            if until > now:
                break
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
