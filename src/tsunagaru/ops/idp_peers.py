"""The ANP's upstream RadSec peers per realm: counted per request, sampled, handed over once per interval.

Pure and single-threaded, like :mod:`tsunagaru.ops.activity`: the ANP adapter calls :meth:`PeerTable.observe`
for every attempt to reach an IdP (the peer, the realm of the request, what came back), :meth:`sample`
every tick with the RadSec pool's view of each peer (the watchdogs' up/suspect/down, or None for a peer the
pool has forgotten), and :meth:`take` hands over one :class:`PeerBatch` per interval: the node's complete
current set of (realm, peer) rows, which the store writes as one upsert per row and which replaces the
node's earlier rows. Time is passed in: ``mono`` (the loop's monotonic clock, for what happens between
snapshots) and ``wall`` (epoch seconds, for what is stored).

Bounded, because realms come from users and peers from DNS: at most ``max_rows`` rows per node; a new
(realm, peer) beyond ``max_rows - 1`` is counted in one row of realm ``other`` (no peer, state unknown). An
entry whose peer the pool has forgotten keeps its last known state and goes ``keep_s`` after its last
request, so a realm the ANP stopped using leaves the list (a static route's pinned peer, always known to the
pool, stays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

MAX_ROWS = 256  # (realm, peer) rows per ANP node: the city's ANP reaches a few dozen IdPs
KEEP_S = 3600.0  # an entry the pool forgot (idle or given up) is kept this long after its last request
OTHER_REALM = "other"
UNKNOWN = "unknown"
MAX_REALM = 253


class Found(StrEnum):
    SRV = "srv"  # RFC 7585 discovery (NAPTR -> SRV)
    STATIC = "static"  # a [[routes]] entry of anp.toml


class Outcome(StrEnum):
    REPLY = "reply"  # a verified reply came back
    TIMEOUT = "timeout"  # no reply within the request's share of the budget
    ERROR = "error"  # no connection, refused, or the connection died under the request


@dataclass(frozen=True, slots=True)
class PeerId:
    host: str
    port: int
    server_name: str = ""  # the SNI and certificate name; "" when none is configured


OTHER_PEER = PeerId("*", 0, "")

PeerKey = tuple[str, str, int, str | None]  # (realm, host, port, server name) as the proxy has them
StateOf = Callable[[str, int, str | None], str | None]  # (host, port, name) -> "up"/"suspect"/"down" or None


@dataclass(frozen=True, slots=True)
class PeerRecord:
    """One (realm, peer) as this node sees it at the end of an interval; times are epoch seconds."""

    realm: str
    peer: PeerId
    found: Found
    state: str  # up, suspect, down (the RadSec watchdogs), unknown (never sampled, or the 'other' row)
    state_since: float | None  # when this node first saw the peer in this state
    last_reply: float | None  # the last verified reply through this node
    requests: int  # attempts in the interval
    timeouts: int
    errors: int


@dataclass(frozen=True, slots=True)
class PeerBatch:
    node: str
    at: float  # epoch seconds of the snapshot: every row of the batch carries it
    interval_s: int
    records: tuple[PeerRecord, ...]


@dataclass(slots=True)
class _Entry:
    found: Found
    last_used: float  # mono
    requests: int = 0
    timeouts: int = 0
    errors: int = 0
    last_reply: float | None = None  # mono
    state: str | None = None
    since: float | None = None  # mono
    known: bool = True  # the pool had a slot for the peer at the last sample


class PeerTable:
    """The node's (realm, peer) entries; see the module docstring."""

    def __init__(self, node: str, interval_s: int, max_rows: int = MAX_ROWS, keep_s: float = KEEP_S) -> None:
        if interval_s <= 0 or max_rows < 2:
            raise ValueError("interval_s must be positive and max_rows at least 2")
        self.node = node
        self.interval_s = interval_s
        self.max_rows = max_rows
        self.keep_s = keep_s
        self._entries: dict[PeerKey, _Entry] = {}
        self._other: _Entry | None = None
        self._next: float | None = None  # wall time of the next snapshot

    def __len__(self) -> int:
        return len(self._entries) + (self._other is not None)

    def observe(self, realm: str, host: str, port: int, name: str | None, found: Found, outcome: Outcome,
                mono: float) -> None:
        """One attempt to reach ``host:port`` for ``realm`` and what came of it."""
        key = (realm.lower()[:MAX_REALM], host, port, name)
        entry = self._entries.get(key)
        if entry is None:
            if len(self._entries) >= self.max_rows - 1:
                entry = self._other
                if entry is None:
                    entry = self._other = _Entry(found, mono)
            else:
                entry = self._entries[key] = _Entry(found, mono)
        entry.last_used = mono
        entry.requests += 1
        if outcome is Outcome.REPLY:
            entry.last_reply = mono
        elif outcome is Outcome.TIMEOUT:
            entry.timeouts += 1
        else:
            entry.errors += 1

    def sample(self, state_of: StateOf, mono: float) -> None:
        """Ask the pool for each peer's state; a change is timed to this sample (one tick's precision)."""
        for (_realm, host, port, name), entry in self._entries.items():
            state = state_of(host, port, name)
            entry.known = state is not None
            if state is not None and state != entry.state:
                entry.state, entry.since = state, mono

    def take(self, wall: float, mono: float, force: bool = False) -> PeerBatch | None:
        """The snapshot when an interval has ended (aligned to ``interval_s`` of wall time), else None."""
        if self._next is None:
            self._next = wall - wall % self.interval_s + self.interval_s
        if not force and wall < self._next:
            return None
        self._next = wall - wall % self.interval_s + self.interval_s
        self._expire(mono)
        records = [self._record(k, e, wall, mono) for k, e in self._entries.items()]
        if self._other is not None:
            records.append(self._record((OTHER_REALM, OTHER_PEER.host, OTHER_PEER.port, None), self._other, wall,
                                        mono))
        return PeerBatch(self.node, wall, self.interval_s, tuple(records))

    @staticmethod
    def _record(key: PeerKey, e: _Entry, wall: float, mono: float) -> PeerRecord:
        realm, host, port, name = key
        record = PeerRecord(realm, PeerId(host, port, name or ""), e.found, e.state or UNKNOWN,
                            None if e.since is None else wall - (mono - e.since),
                            None if e.last_reply is None else wall - (mono - e.last_reply),
                            e.requests, e.timeouts, e.errors)
        e.requests = e.timeouts = e.errors = 0
        return record

    def _expire(self, mono: float) -> None:
        """Drop entries the pool no longer knows and no request used for ``keep_s`` (a pinned static peer stays)."""
        for key in [k for k, e in self._entries.items() if not e.known and mono - e.last_used >= self.keep_s]:
            del self._entries[key]
        if self._other is not None and mono - self._other.last_used >= self.keep_s:
            self._other = None
