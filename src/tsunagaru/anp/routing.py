"""Where a realm goes: deny/allow lists, then static routes (exact, suffix, regex), then RFC 7585.

Pure decisions over configuration; the discovery lookup itself happens in the adapter. A realm that
matches nothing and may not be discovered is rejected with a reason, never dropped in silence.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from enum import Enum

from tsunagaru.radius.reasons import RejectReason

_RNG = random.Random()


class MatchKind(Enum):
    EXACT = "exact"
    SUFFIX = "suffix"
    REGEX = "regex"


@dataclass(frozen=True, slots=True)
class RealmPattern:
    """``idp.example`` (exact), ``*.example`` or ``.example`` (suffix), ``~regex`` (full match)."""

    text: str
    kind: MatchKind
    regex: re.Pattern[str] | None = None

    @classmethod
    def parse(cls, text: str) -> RealmPattern:
        text = text.strip()
        if text.startswith("~"):
            return cls(text, MatchKind.REGEX, re.compile(text[1:], re.IGNORECASE))
        if text.startswith("*.") or text.startswith("."):
            return cls(text, MatchKind.SUFFIX)
        if not text:
            raise ValueError("empty realm pattern")
        return cls(text.lower().rstrip("."), MatchKind.EXACT)

    def matches(self, realm: str) -> bool:
        if self.kind is MatchKind.EXACT:
            return realm == self.text
        if self.kind is MatchKind.SUFFIX:
            suffix = self.text.lstrip("*").lower()
            return realm.endswith(suffix) or realm == suffix.lstrip(".")
        assert self.regex is not None
        return self.regex.fullmatch(realm) is not None


@dataclass(frozen=True, slots=True)
class PeerAddress:
    """One RadSec peer: where to connect and which name its certificate must carry (SAN, never CN)."""

    host: str
    port: int = 2083
    name: str | None = None
    realm: str | None = None  # discovered peers: the realm that led to it (its certificate should name it)

    @property
    def key(self) -> tuple[str, int, str | None]:
        return (self.host, self.port, self.name)


@dataclass(frozen=True, slots=True)
class StaticRoute:
    """Peers in failover order, or (``spread``) a pool of equal IdP nodes: each request tries them in a
    fresh random order, so new conversations spread over the nodes (those known up still go first)."""

    pattern: RealmPattern
    peers: tuple[PeerAddress, ...]
    name: str = ""
    accounting_peers: tuple[PeerAddress, ...] = ()
    spread: bool = False

    def candidates(self, *, accounting: bool = False, rng: random.Random | None = None) -> tuple[PeerAddress, ...]:
        """The peers for one request: configured order, or shuffled when the route spreads."""
        peers = (self.accounting_peers or self.peers) if accounting else self.peers
        if not self.spread or len(peers) < 2:
            return peers
        return tuple((rng or _RNG).sample(peers, len(peers)))


@dataclass(frozen=True, slots=True)
class UseStatic:
    route: StaticRoute


@dataclass(frozen=True, slots=True)
class UseDiscovery:
    realm: str


@dataclass(frozen=True, slots=True)
class Deny:
    reason: RejectReason
    text: str


Decision = UseStatic | UseDiscovery | Deny


@dataclass(slots=True)
class Router:
    routes: list[StaticRoute] = field(default_factory=list)
    allow: list[RealmPattern] = field(default_factory=list)  # empty: every realm allowed
    deny: list[RealmPattern] = field(default_factory=list)
    discovery: bool = True
    _sorted: tuple[tuple[StaticRoute, UseStatic], ...] = field(default=(), init=False, repr=False, compare=False)
    _sorted_for: tuple[int, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def decide(self, realm: str) -> Decision:
        realm = realm.lower().rstrip(".")
        if self.deny and any(p.matches(realm) for p in self.deny):  # no generator for the empty lists
            return Deny(RejectReason.ROAMING_NOT_ALLOWED, f"realm {realm} is not allowed on this network")
        if self.allow and not any(p.matches(realm) for p in self.allow):
            return Deny(RejectReason.ROAMING_NOT_ALLOWED, f"realm {realm} is not on this network's allow list")
        for route, use in self._ordered():
            if route.pattern.matches(realm):
                return use
        if self.discovery:
            return UseDiscovery(realm)
        return Deny(RejectReason.INVALID_IDENTITY, f"realm {realm} not found (no route, discovery off)")

    def default_route(self) -> StaticRoute | None:
        """The route with realm ``*``: where records without a realm (User-Name no NAI) go."""
        return next((r for r in self.routes if r.pattern.text == "*"), None)

    def _ordered(self) -> tuple[tuple[StaticRoute, UseStatic], ...]:
        """Exact routes first, then regex and suffix routes in the order they were configured; each with
        its decision, made once. Sorted again only when ``routes`` changed (it is a list: looked at
        per request, not trusted to stay as it was)."""
        key = tuple(map(id, self.routes))
        if self._sorted_for != key:
            ordered = sorted(self.routes, key=lambda r: 0 if r.pattern.kind is MatchKind.EXACT else 1)
            self._sorted = tuple((r, UseStatic(r)) for r in ordered)
            self._sorted_for = key
        return self._sorted
