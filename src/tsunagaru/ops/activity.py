"""Per-AP activity, batched: the ANP adds one event per request, and gets one record per AP per interval.

Pure and single-threaded: the ANP adapter (``tsunagaru.anp.activity``) calls :meth:`Accumulator.add` on
the event loop and hands the closed batches to a writer thread. Time is the event's own ``at`` (epoch
seconds), never read here. Everything that grows with network input is bounded: distinct APs per batch
(further APs are counted in ``overflow_events``), realms and reject reasons per AP, accounting sessions
per batch and the octet baseline kept across batches.

No plain identity or MAC address gets in: a user is the keyed hash of the IdP's Chargeable-User-Identity,
else of the User-Name (see :class:`IdentityHasher`); an accounting session is the keyed hash of its
Acct-Session-Id (which some NAS vendors derive from the station's MAC address).
"""

from __future__ import annotations

import hashlib
import hmac
from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

# Five minutes: fine enough for health (silence is judged on the exact last request, not on intervals)
# while 20,000 APs make at most 5.8M activity rows a day instead of 28.8M at one minute.
DEFAULT_INTERVAL_S = 300
MAX_APS = 50_000  # distinct APs per batch (the city has ~3,000 sites; a flood of spoofed NAS keys stops here)
MAX_REALMS_PER_AP = 8
MAX_REASONS_PER_AP = 16
MAX_SESSIONS = 200_000  # accounting sessions per batch
MAX_BASELINES = 500_000  # sessions whose last octet counters are remembered across batches
MAX_READY = 16  # closed batches waiting for the writer; older ones are dropped and counted
OTHER_REALM = "other"
OTHER_REASON = 0  # a reject without a (known) Reject-Reason


class Kind(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    CHALLENGE = "challenge"
    STATUS = "status"  # Status-Server from the AP
    ACCOUNTING = "accounting"


class AcctStatus(IntEnum):  # Acct-Status-Type (RFC 2866)
    START = 1
    STOP = 2
    INTERIM = 3
    ACCOUNTING_ON = 7
    ACCOUNTING_OFF = 8


@dataclass(frozen=True, slots=True)
class Event:
    """One request (and its outcome) as the ANP saw it."""

    ap_key: str  # the registry's AP id, or the ANP client's name + NAS-Identifier
    at: float  # epoch seconds
    kind: Kind
    reject_reason: int | None = None
    acct_status: int | None = None
    octets_in: int = 0  # cumulative for the session (Acct-Input-Octets with gigawords), accounting only
    octets_out: int = 0
    session_time_s: int = 0  # Acct-Session-Time
    realm: str | None = None
    session_key: str | None = None  # IdentityHasher.session_key(...)
    user_id: str | None = None  # IdentityHasher.user_id(...)


@dataclass(frozen=True, slots=True)
class ApRecord:
    """An AP's activity in one interval; octets are the bytes counted in this interval."""

    ap_key: str
    interval_start: float
    last_request: float
    accepts: int
    rejects: tuple[tuple[int, int], ...]  # (Reject-Reason, count), by reason
    challenges: int
    status_server: int
    acct_starts: int
    acct_interims: int
    acct_stops: int
    octets_in: int
    octets_out: int
    realms: tuple[tuple[str, int], ...]  # (realm, requests), by realm

    @property
    def reject_count(self) -> int:
        return sum(n for _, n in self.rejects)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """An accounting session's state at the end of the interval (counters are the session's totals)."""

    session_key: str
    ap_key: str
    user_id: str | None
    realm: str | None
    first_at: float
    last_at: float
    started: bool
    stopped: bool
    octets_in: int
    octets_out: int
    session_time_s: int


@dataclass(frozen=True, slots=True)
class Batch:
    interval_start: float
    interval_s: int
    records: tuple[ApRecord, ...]
    sessions: tuple[SessionRecord, ...]
    overflow_events: int  # events of APs beyond MAX_APS, not counted in any record
    overflow_sessions: int


@dataclass(slots=True)
class _Counters:
    last: float
    accepts: int = 0
    challenges: int = 0
    status: int = 0
    starts: int = 0
    interims: int = 0
    stops: int = 0
    octets_in: int = 0
    octets_out: int = 0
    rejects: dict[int, int] = field(default_factory=dict)
    realms: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Session:
    ap_key: str
    user_id: str | None
    realm: str | None
    first: float
    last: float
    started: bool = False
    stopped: bool = False
    octets_in: int = 0
    octets_out: int = 0
    session_time: int = 0


_ACCOUNTING, _ACCEPT, _REJECT, _CHALLENGE = Kind.ACCOUNTING, Kind.ACCEPT, Kind.REJECT, Kind.CHALLENGE
_START, _STOP, _INTERIM = int(AcctStatus.START), int(AcctStatus.STOP), int(AcctStatus.INTERIM)
_SESSION_STATUSES = frozenset((_START, _STOP, _INTERIM))


def _bump(counts: dict[str, int] | dict[int, int], key: object, cap: int, other: object) -> None:
    """Count ``key``; past ``cap - 1`` distinct keys new ones count as ``other`` (so at most ``cap`` keys)."""
    table: dict[object, int] = counts  # type: ignore[assignment]
    if key not in table and len(table) >= cap - 1:
        key = other
    table[key] = table.get(key, 0) + 1


class Accumulator:
    """Counters for the interval in progress; :meth:`take` hands over the intervals that have closed."""

    def __init__(self, interval_s: int = DEFAULT_INTERVAL_S, max_aps: int = MAX_APS,
                 max_sessions: int = MAX_SESSIONS, max_baselines: int = MAX_BASELINES) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.interval_s = interval_s
        self.max_aps = max_aps
        self.max_sessions = max_sessions
        self.max_baselines = max_baselines
        self._start: float | None = None
        self._aps: dict[str, _Counters] = {}
        self._sessions: dict[str, _Session] = {}
        self._overflow = 0
        self._overflow_sessions = 0
        # session -> (octets in, octets out) last seen, so an interim's cumulative counters become this
        # interval's bytes; insertion-ordered, so the oldest go first when full. A session without a
        # baseline (first seen since a restart, or evicted) counts its whole total once: the activity
        # bytes are then high for one interval, while usage (from the sessions' totals) stays exact.
        self._baseline: dict[str, tuple[int, int]] = {}
        self._ready: deque[Batch] = deque()
        self.dropped_batches = 0

    def add(self, ev: Event) -> None:
        start = ev.at - ev.at % self.interval_s
        if self._start is None:
            self._start = start
        elif start > self._start:  # a new interval: close the one in progress (late events join the current one)
            self._close()
            self._start = start
        c = self._aps.get(ev.ap_key)
        if c is None:
            if len(self._aps) >= self.max_aps:
                self._overflow += 1
                return
            c = self._aps[ev.ap_key] = _Counters(ev.at)
        elif ev.at > c.last:
            c.last = ev.at
        kind = ev.kind
        if kind is _ACCOUNTING:
            self._accounting(c, ev)
        elif kind is _ACCEPT:
            c.accepts += 1
        elif kind is _REJECT:
            _bump(c.rejects, ev.reject_reason if ev.reject_reason is not None else OTHER_REASON,
                  MAX_REASONS_PER_AP, OTHER_REASON)
        elif kind is _CHALLENGE:
            c.challenges += 1
        else:
            c.status += 1
        if ev.realm is not None and kind is not _CHALLENGE:
            _bump(c.realms, ev.realm, MAX_REALMS_PER_AP, OTHER_REALM)

    def _accounting(self, c: _Counters, ev: Event) -> None:
        status = ev.acct_status
        if status == _INTERIM:
            c.interims += 1
        elif status == _START:
            c.starts += 1
        elif status == _STOP:
            c.stops += 1
        key = ev.session_key
        if key is None or status not in _SESSION_STATUSES:
            return
        before = self._baseline.pop(key, (0, 0))
        # cumulative counters: this interval's bytes are the growth (a counter that went down was reset)
        c.octets_in += ev.octets_in - before[0] if ev.octets_in >= before[0] else ev.octets_in
        c.octets_out += ev.octets_out - before[1] if ev.octets_out >= before[1] else ev.octets_out
        if status != _STOP:
            if len(self._baseline) >= self.max_baselines:
                del self._baseline[next(iter(self._baseline))]
            self._baseline[key] = (ev.octets_in, ev.octets_out)
        self._session(key, ev, status)

    def _session(self, key: str, ev: Event, status: int | None) -> None:
        s = self._sessions.get(key)
        if s is None:
            if len(self._sessions) >= self.max_sessions:
                self._overflow_sessions += 1
                return
            self._sessions[key] = _Session(ev.ap_key, ev.user_id, ev.realm, ev.at, ev.at, status == _START,
                                           status == _STOP, ev.octets_in, ev.octets_out, ev.session_time_s)
            return
        if ev.at > s.last:
            s.last = ev.at
        elif ev.at < s.first:
            s.first = ev.at
        s.started |= status == _START
        s.stopped |= status == _STOP
        if ev.octets_in > s.octets_in:
            s.octets_in = ev.octets_in
        if ev.octets_out > s.octets_out:
            s.octets_out = ev.octets_out
        if ev.session_time_s > s.session_time:
            s.session_time = ev.session_time_s
        if s.user_id is None:
            s.user_id = ev.user_id

    def _close(self) -> None:
        if self._start is None or not (self._aps or self._overflow):
            return
        batch = Batch(self._start, self.interval_s,
                      tuple(_record(k, self._start, c) for k, c in self._aps.items()),
                      tuple(_session_record(k, s) for k, s in self._sessions.items()),
                      self._overflow, self._overflow_sessions)
        self._aps, self._sessions = {}, {}
        self._overflow = self._overflow_sessions = 0
        if len(self._ready) >= MAX_READY:
            self._ready.popleft()
            self.dropped_batches += 1
        self._ready.append(batch)

    def take(self, now: float, force: bool = False) -> list[Batch]:
        """The closed batches; the interval in progress closes too once ``now`` is past its end (or forced)."""
        if self._start is not None and (force or now >= self._start + self.interval_s):
            self._close()
            self._start = None
        ready = list(self._ready)
        self._ready.clear()
        return ready

    @property
    def pending_aps(self) -> int:
        return len(self._aps)


def _record(key: str, start: float, c: _Counters) -> ApRecord:
    return ApRecord(key, start, c.last, c.accepts, tuple(sorted(c.rejects.items())), c.challenges, c.status,
                    c.starts, c.interims, c.stops, c.octets_in, c.octets_out, tuple(sorted(c.realms.items())))


def _session_record(key: str, s: _Session) -> SessionRecord:
    return SessionRecord(key, s.ap_key, s.user_id, s.realm, s.first, s.last, s.started, s.stopped,
                         s.octets_in, s.octets_out, s.session_time)


class IdentityHasher:
    """Keyed hashes for users and sessions: the key (a secret, 0600) keeps them from being reversed by
    hashing a list of known names, and a new key unlinks analytics from before the change."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the identity hash key must have at least 16 bytes")
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def _hash(self, label: bytes, value: bytes) -> str:
        mac = self._mac.copy()
        mac.update(label)
        mac.update(value)
        return mac.hexdigest()[:32]

    def user_id(self, cui: bytes | None, user_name: bytes | None) -> str | None:
        """The IdP's CUI if it gave one (a single NUL is the NAS asking, not a value), else the User-Name;
        None for an anonymous outer identity (``anonymous@realm``, ``@realm``), which names nobody."""
        if cui and cui != b"\x00":
            return "c" + self._hash(b"cui\x00", cui)
        if user_name:
            local, _, _ = user_name.partition(b"@")
            if local and local.lower() != b"anonymous":
                return "u" + self._hash(b"user-name\x00", user_name.lower())
        return None

    def session_key(self, ap_key: str, acct_session_id: bytes) -> str:
        return "s" + self._hash(ap_key.encode() + b"\x00", acct_session_id)
