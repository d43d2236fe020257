"""The TTL cache: clamping, negative caching, expiry with time passed in, counters, the async wrapper."""

from __future__ import annotations

import asyncio

import pytest

from tests.discovery.table import simple
from tsunagaru.discovery import (
    CachedSource,
    CachePolicy,
    DiscoveryError,
    DiscoveryResult,
    RealmNotFound,
    Route,
    RouteCache,
    Service,
)

POLICY = CachePolicy(floor=60, ceiling=3600, negative_floor=30, negative_ceiling=600, negative_default=120)


def a_route(ttl: int, realm: str = "idp.example") -> Route:
    return Route(realm, Service.AUTH, (), ttl)


@pytest.mark.parametrize(("result", "lifetime"), [
    (a_route(300), 300),
    (a_route(5), 60),
    (a_route(0), 60),
    (a_route(86400), 3600),
    (RealmNotFound("x.example", Service.AUTH, "no NAPTR", 900), 600),
    (RealmNotFound("x.example", Service.AUTH, "no NAPTR", 1), 30),
    (RealmNotFound("x.example", Service.AUTH, "no NAPTR", 45), 45),
    (RealmNotFound("x.example", Service.AUTH, "no NAPTR", None), 120),
])
def test_lifetime_is_clamped(result: DiscoveryResult, lifetime: int) -> None:
    assert POLICY.lifetime(result) == lifetime


def test_entries_expire_when_now_passes_the_ttl() -> None:
    cache = RouteCache(POLICY)
    assert cache.put(a_route(300), now=1000.0) == 1300.0
    assert cache.get("IDP.example", Service.AUTH, 1299.9) == a_route(300)
    assert cache.get("idp.example", Service.ACCT, 1000.0) is None  # keyed by (realm, service)
    assert cache.get("idp.example", Service.AUTH, 1300.0) is None
    assert len(cache) == 0
    assert cache.stats() == {"hits": 1, "misses": 2, "entries": 0, "evictions": 0}


def test_negative_results_are_cached_with_their_own_ttl() -> None:
    cache = RouteCache(POLICY)
    expiry = cache.put(RealmNotFound("nope.example", Service.AUTH, "no NAPTR", None), now=0.0)
    assert expiry == 120
    assert isinstance(cache.get("nope.example", Service.AUTH, 119.0), RealmNotFound)
    assert cache.get("nope.example", Service.AUTH, 120.0) is None


def test_size_is_bounded_oldest_first() -> None:
    cache = RouteCache(CachePolicy(max_entries=3))
    for i in range(5):
        cache.put(a_route(300, f"r{i}.example"), now=0.0)
    assert len(cache) == 3 and cache.evictions == 2
    assert cache.get("r0.example", Service.AUTH, 1.0) is None
    assert cache.get("r4.example", Service.AUTH, 1.0) is not None
    cache.forget("r4.example", Service.AUTH)
    assert cache.get("r4.example", Service.AUTH, 1.0) is None


class CountingSource:
    """A source over an in-memory table that counts lookups; ``fail`` makes it raise."""

    def __init__(self) -> None:
        self.table = simple(ttls=(300, 100, 300))
        self.lookups = 0
        self.fail = False

    async def resolve(self, realm: str, service: Service = Service.AUTH, now: float = 0.0) -> DiscoveryResult:
        self.lookups += 1
        await asyncio.sleep(0)
        if self.fail:
            raise DiscoveryError("SERVFAIL")
        return self.table.resolve(realm, service)


def test_cached_source_hits_misses_and_refreshes() -> None:
    source = CountingSource()
    cached = CachedSource(source, RouteCache(POLICY))

    async def scenario() -> None:
        first = await cached.resolve("idp.example", Service.AUTH, now=0.0)
        assert first.explain[-1] == "cache: miss, stored for 100 s (TTL 100 s)"
        again = await cached.resolve("idp.example", Service.AUTH, now=99.0)
        assert again.explain[-1] == "cache: hit, 1 s left" and source.lookups == 1
        await cached.resolve("idp.example", Service.AUTH, now=100.0)
        assert source.lookups == 2
        missing = await cached.resolve("nope.example", Service.AUTH, now=100.0)
        assert isinstance(missing, RealmNotFound)
        assert missing.explain[-1] == "cache: miss, stored for 120 s (no SOA in the answer, default 120 s)"
        await cached.resolve("nope.example", Service.AUTH, now=200.0)
        assert source.lookups == 3

    asyncio.run(scenario())
    assert cached.cache.stats()["hits"] == 2 and cached.cache.stats()["misses"] == 3


def test_failures_are_not_cached_and_concurrent_misses_share_one_lookup() -> None:
    source = CountingSource()
    cached = CachedSource(source, RouteCache(POLICY))

    async def scenario() -> None:
        results = await asyncio.gather(*(cached.resolve("idp.example", now=0.0) for _ in range(5)))
        assert source.lookups == 1 and all(isinstance(r, Route) for r in results)
        source.fail = True
        with pytest.raises(DiscoveryError):
            await cached.resolve("other.example", now=0.0)
        outcomes = await asyncio.gather(*(cached.resolve("other.example", now=0.0) for _ in range(3)),
                                        return_exceptions=True)
        assert all(isinstance(o, DiscoveryError) for o in outcomes)
        assert source.lookups == 3  # the first failure was not cached; the next three shared one lookup

    asyncio.run(scenario())


def test_an_expired_route_is_served_stale_only_while_dns_fails() -> None:
    """RFC 8767: a DNS outage must not take down every realm whose TTL ran out (the fault tests found it)."""
    class Flaky:
        def __init__(self) -> None:
            self.fail = False
            self.calls = 0

        async def resolve(self, realm: str, service: Service = Service.AUTH, now: float = 0.0) -> DiscoveryResult:
            self.calls += 1
            if self.fail:
                raise DiscoveryError("no answer within 0.8 s")
            return a_route(300)

    async def main() -> None:
        source = Flaky()
        cached = CachedSource(source, RouteCache(CachePolicy(floor=60, ceiling=3600, stale_for=1000,
                                                             stale_retry=30)))
        assert (await cached.resolve("idp.example", Service.AUTH, 0.0)).targets == a_route(300).targets
        source.fail = True
        stale = await cached.resolve("idp.example", Service.AUTH, 400.0)  # expired at 300, DNS down
        assert isinstance(stale, Route) and "stale route served" in stale.explain[-1]
        await cached.resolve("idp.example", Service.AUTH, 420.0)  # within stale_retry: not asked again
        assert source.calls == 2
        await cached.resolve("idp.example", Service.AUTH, 431.0)  # asked again, still failing: still stale
        assert source.calls == 3
        try:  # past the stale window: the failure shows
            await cached.resolve("idp.example", Service.AUTH, 1301.0)
        except DiscoveryError:
            pass
        else:
            raise AssertionError("a route past stale_for was served")
        source.fail = False
        assert isinstance(await cached.resolve("idp.example", Service.AUTH, 1302.0), Route)
        with pytest.raises(DiscoveryError):  # a realm never found has nothing stale to serve
            source.fail = True
            await cached.resolve("other.example", Service.AUTH, 1303.0)

    asyncio.run(main())
