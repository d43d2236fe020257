"""The one duplicate/replay cache for RADIUS servers (the ANP's admission and the IdP's EAP front), sans-IO.

RFC 5080 2.2.2: a server that sees the same request again (same source, Identifier and Request
Authenticator) answers with the reply it already sent instead of running the request twice, and drops a
copy that arrives while the first is still being answered (the client retransmits). Entries live
``lifetime`` seconds (``now`` is passed in) and at most ``max_entries`` are kept, oldest dropped first, so a
flood of distinct requests cannot grow it without limit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


# Plain classes, not dataclasses: mypyc compiles these (a compiled Generic dataclass fails at import).
class Seen(Generic[V]):
    """A request seen before: ``reply`` is what was sent, or None while the first copy is in progress."""

    __slots__ = ("reply",)

    def __init__(self, reply: V | None) -> None:
        self.reply = reply

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Seen) and other.reply == self.reply

    def __hash__(self) -> int:
        return hash(self.reply)

    def __repr__(self) -> str:
        return f"Seen(reply={self.reply!r})"


class ReplyCache(Generic[K, V]):
    """Replies by request key, at most ``max_entries`` for ``lifetime`` seconds each."""

    __slots__ = ("_entries", "lifetime", "max_entries")

    def __init__(self, lifetime: float = 30.0, max_entries: int = 65536) -> None:
        self.lifetime = lifetime
        self.max_entries = max_entries
        self._entries: OrderedDict[K, tuple[float, V | None]] = OrderedDict()

    def begin(self, key: K, now: float) -> Seen[V] | None:
        """None for a new request (now marked in progress), else what is known of the earlier copy."""
        self._expire(now)
        hit = self._entries.get(key)
        if hit is not None:
            return Seen(hit[1])
        self._entries[key] = (now + self.lifetime, None)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return None

    def answered(self, key: K, reply: V, now: float) -> None:
        """Remember the reply sent for ``key`` (ignored when the entry was evicted meanwhile)."""
        if key in self._entries:
            self._entries[key] = (now + self.lifetime, reply)
            self._entries.move_to_end(key)

    def forget(self, key: K) -> None:
        """Nothing was sent (or the request failed): let a retransmission run again."""
        self._entries.pop(key, None)

    def _expire(self, now: float) -> None:
        entries = self._entries
        while entries:
            key, (until, _) = next(iter(entries.items()))
            if until > now:
                break
            del entries[key]

    def __len__(self) -> int:
        return len(self._entries)
