"""A cache of discovery results that honours DNS TTLs, and a source that puts it in front of another.

A route lives for its TTL (the minimum along NAPTR -> SRV -> A/AAAA) clamped to ``[floor, ceiling]``:
the floor stops a 0-second TTL from turning every Access-Request into DNS traffic, the ceiling bounds
how long a withdrawn IdP keeps receiving users. "Realm not found" is cached too (RFC 2308), with the
SOA minimum when DNS gave one, clamped to its own bounds: outer identities are user input, and
a stream of made-up realms must not become a stream of DNS queries. DNS failures are never cached.
When DNS fails (the server is down, SERVFAIL), a route that expired less than ``stale_for`` ago is served
stale (RFC 8767) and DNS is asked again ``stale_retry`` seconds later: an outage of the ANP's resolver
must not turn every IdP whose TTL ran out into "unreachable" (only positive routes are kept stale).

:class:`RouteCache` is pure (time passed in as ``now``); :class:`CachedSource` is the async adapter.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, replace

from tsunagaru.discovery.model import DiscoveryError, DiscoveryResult, RealmNotFound, Route, Service
from tsunagaru.discovery.source import DiscoverySource

__all__ = ["CachePolicy", "CachedSource", "RouteCache"]


@dataclass(frozen=True)
class CachePolicy:
    """Bounds, in seconds, on how long results are kept; ``negative_default`` when DNS gave no SOA."""

    floor: int = 60
    ceiling: int = 86400
    negative_floor: int = 30
    negative_ceiling: int = 3600
    negative_default: int = 300
    max_entries: int = 10000
    stale_for: int = 86400  # an expired route is still served this long while DNS fails (RFC 8767)
    stale_retry: int = 30  # ...and DNS is asked again after this long, not by every request meanwhile

    def lifetime(self, result: DiscoveryResult) -> int:
        """Seconds to keep ``result``."""
        if isinstance(result, RealmNotFound):
            ttl = self.negative_default if result.ttl is None else result.ttl
            return max(self.negative_floor, min(self.negative_ceiling, ttl))
        return max(self.floor, min(self.ceiling, result.ttl))


def _key(realm: str, service: Service | str) -> tuple[str, Service]:
    return realm.lower(), Service(service)


class RouteCache:
    """Results keyed by (realm, service); expired entries are dropped when met; oldest evicted first."""

    def __init__(self, policy: CachePolicy | None = None) -> None:
        self.policy = CachePolicy() if policy is None else policy
        self._entries: OrderedDict[tuple[str, Service], tuple[float, DiscoveryResult]] = OrderedDict()
        # expired routes (never negative results) by the time they first expired: served while DNS fails
        self._stale: OrderedDict[tuple[str, Service], tuple[float, Route]] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, realm: str, service: Service | str, now: float) -> DiscoveryResult | None:
        """The cached result if still fresh at ``now`` (counted as a hit), else None (a miss)."""
        entry = self.get_entry(realm, service, now)
        return None if entry is None else entry[1]

    def fresh(self, realm: str, service: Service | str, now: float) -> bool:
        """Whether a fresh result is cached (not counted: for a caller's own per-lookup metric)."""
        entry = self._entries.get(_key(realm, service))
        return entry is not None and now < entry[0]

    def get_entry(self, realm: str, service: Service | str, now: float
                  ) -> tuple[float, DiscoveryResult] | None:
        """(expiry, result) if fresh at ``now``, else None; counts a hit or a miss."""
        key = _key(realm, service)
        entry = self._entries.get(key)
        if entry is not None and now >= entry[0]:
            del self._entries[key]
            if isinstance(entry[1], Route) and key not in self._stale:
                self._stale[key] = (entry[0], entry[1])
                while len(self._stale) > self.policy.max_entries:
                    self._stale.popitem(last=False)
            entry = None
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry

    def put(self, result: DiscoveryResult, now: float, *, stale: bool = False) -> float:
        """Store ``result`` under its (realm, service); returns the expiry time. ``stale``: a stale route
        served again while DNS fails, kept for ``policy.stale_retry`` seconds (its stale window runs on)."""
        key = _key(result.realm, result.service)
        expiry = now + (self.policy.stale_retry if stale else self.policy.lifetime(result))
        if not stale:
            self._stale.pop(key, None)
        self._entries.pop(key, None)
        self._entries[key] = (expiry, result)
        while len(self._entries) > self.policy.max_entries:
            self._entries.popitem(last=False)
            self.evictions += 1
        return expiry

    def stale(self, realm: str, service: Service | str, now: float) -> Route | None:
        """The route that expired for (realm, service) within ``policy.stale_for`` seconds of ``now``."""
        entry = self._stale.get(_key(realm, service))
        if entry is None or now >= entry[0] + self.policy.stale_for:
            return None
        return entry[1]

    def forget(self, realm: str, service: Service | str) -> None:
        self._entries.pop(_key(realm, service), None)
        self._stale.pop(_key(realm, service), None)

    def stats(self) -> dict[str, int]:
        """Counters for metrics."""
        return {"hits": self.hits, "misses": self.misses, "entries": len(self._entries),
                "evictions": self.evictions}


def _why(result: DiscoveryResult, lifetime: int, policy: CachePolicy) -> str:
    ttl = result.ttl
    if ttl is None:
        return f"no SOA in the answer, default {policy.negative_default} s"
    return f"TTL {ttl} s" if ttl == lifetime else f"TTL {ttl} s clamped"


class CachedSource:
    """A :class:`DiscoverySource` that answers from a :class:`RouteCache` and asks ``source`` on a miss.

    Concurrent misses for one (realm, service) share one lookup. Results carry an extra ``explain``
    line saying whether they came from the cache and until when.
    """

    def __init__(self, source: DiscoverySource, cache: RouteCache | None = None) -> None:
        self.source = source
        self.cache = RouteCache() if cache is None else cache  # an empty cache is falsy
        self._inflight: dict[tuple[str, Service], asyncio.Future[DiscoveryResult]] = {}

    async def resolve(self, realm: str, service: Service = Service.AUTH, now: float = 0.0) -> DiscoveryResult:
        entry = self.cache.get_entry(realm, service, now)
        if entry is not None:
            expiry, result = entry
            return replace(result, explain=(*result.explain, f"cache: hit, {expiry - now:.0f} s left"))
        key = _key(realm, service)
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[DiscoveryResult] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            future.set_result(self._store(await self.source.resolve(realm, service, now), now))
        except DiscoveryError as error:  # DNS did not answer: a route known before is better than none
            stale = self.cache.stale(realm, service, now)
            if stale is None:
                future.set_exception(error)
                future.exception()
                raise
            self.cache.put(stale, now, stale=True)
            future.set_result(replace(stale, explain=(*stale.explain, f"cache: stale route served, DNS failed: "
                                                      f"{error}; asked again in {self.cache.policy.stale_retry} s")))
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved here: waiters, if any, get it too
            raise
        finally:
            del self._inflight[key]
            if not future.done():
                future.cancel()
        return future.result()

    def _store(self, result: DiscoveryResult, now: float) -> DiscoveryResult:
        lifetime = round(self.cache.put(result, now) - now)
        line = f"cache: miss, stored for {lifetime} s ({_why(result, lifetime, self.cache.policy)})"
        return replace(result, explain=(*result.explain, line))
