"""Discovery against a real DNS server: a private dnsmasq on 127.0.0.1 with a free port.

dnsmasq can express everything needed here -- several SRV priorities, hostile target and replacement
names (it serves braces, quotes and escaped semicolons as given), short TTLs (--local-ttl for NAPTR/SRV,
a per-record TTL for --host-record) and, in authoritative mode, an SOA for negative answers -- so no
hand-written DNS server is used.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.discovery.dnsmasq import Dnsmasq, chain, host, naptr, srv
from tsunagaru.discovery import (
    CachedSource,
    CachePolicy,
    DiscoveryError,
    DiscoveryResult,
    DnsSource,
    RealmNotFound,
    Route,
    RouteCache,
    Service,
)

pytestmark = pytest.mark.interop


@pytest.fixture
def dnsmasq(tmp_path: Path) -> Iterator[Dnsmasq]:
    server = Dnsmasq(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def resolve(source: DnsSource | CachedSource, realm: str, service: Service = Service.AUTH,
            now: float = 0.0) -> DiscoveryResult:
    return asyncio.run(source.resolve(realm, service, now))


def dns_source(server: Dnsmasq, timeout: float = 3.0) -> DnsSource:
    return DnsSource(["127.0.0.1"], port=server.port, timeout=timeout)


def test_srv_priorities_and_weights_are_honoured(dnsmasq: Dnsmasq) -> None:
    name = "_radsec._tcp.prio.test"
    dnsmasq.start([
        naptr("prio.test", name),
        naptr("prio.test", "_radsec._tcp.acct.prio.test", service="aaa+acct:radius.tls.tcp"),
        srv(name, "backup.prio.test", 2083, priority=20, weight=10),
        srv(name, "light.prio.test", 2083, priority=10, weight=10),
        srv(name, "heavy.prio.test", 20830, priority=10, weight=90),
        srv(name, "first.prio.test", 2084, priority=0, weight=0),
        host("backup.prio.test", "127.0.0.4"), host("light.prio.test", "127.0.0.3"),
        host("heavy.prio.test", "127.0.0.2", "::1"), host("first.prio.test", "127.0.0.1"),
    ])
    result = resolve(dns_source(dnsmasq), "prio.test")
    assert isinstance(result, Route)
    assert [(t.host, t.port, t.priority) for t in result.targets] == [
        ("first.prio.test", 2084, 0), ("heavy.prio.test", 20830, 10), ("light.prio.test", 2083, 10),
        ("backup.prio.test", 2083, 20)]
    assert result.targets[1].addresses == ("127.0.0.2", "::1")
    for seed in range(20):
        order = [t.priority for t in result.weighted(random.Random(seed))]
        assert order == [0, 10, 10, 20]
    assert result.explain[0] == ("NAPTR prio.test: 2 records (1 for other services), aaa+auth:radius.tls.tcp"
                                 " -> _radsec._tcp.prio.test (order 50, preference 50), TTL 300 s")


def test_realm_without_naptr_is_not_found(dnsmasq: Dnsmasq) -> None:
    dnsmasq.start([*chain("idp.test"), naptr("acct-only.test", "_radsec._tcp.idp.test",
                                             service="aaa+acct:radius.tls.tcp")])
    source = dns_source(dnsmasq)
    missing = resolve(source, "nothing.test")
    assert isinstance(missing, RealmNotFound)
    assert missing.reason == "no NAPTR record for nothing.test"
    assert "NAPTR nothing.test: no such name (NXDOMAIN)" in missing.explain
    no_auth = resolve(source, "acct-only.test")
    assert isinstance(no_auth, RealmNotFound) and "no usable NAPTR" in no_auth.reason
    assert isinstance(resolve(source, "acct-only.test", Service.ACCT), Route)
    assert isinstance(resolve(source, "idp.test"), Route)


def test_dns_failures_are_errors_not_negatives(dnsmasq: Dnsmasq) -> None:
    dnsmasq.start(chain("idp.test"))
    with pytest.raises(DiscoveryError) as refused:  # dnsmasq REFUSES names outside its local domain
        resolve(dns_source(dnsmasq), "idp.example.org")
    assert "REFUSED" in str(refused.value)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        source = DnsSource(["127.0.0.1"], port=silent.getsockname()[1], timeout=0.3)
        with pytest.raises(DiscoveryError) as timed_out:
            resolve(source, "idp.test")
    assert "no answer within 0.3 s" in str(timed_out.value)


def test_hostile_names_are_refused_with_a_reason(dnsmasq: Dnsmasq) -> None:
    name = "_radsec._tcp.hostile.test"
    dnsmasq.start([
        naptr("hostile.test", name),
        srv(name, "e{v}il.hostile.test", 2083, priority=0),
        srv(name, 'ev"il.hostile.test', 2083, priority=0),
        srv(name, "evil;rm.hostile.test", 2083, priority=0),
        srv(name, "1.2.3.4", 2083, priority=0),
        srv(name, "zero.hostile.test", 0, priority=0),
        srv(name, "good.hostile.test", 2083, priority=5),
        host("good.hostile.test", "127.0.0.1"), host("zero.hostile.test", "127.0.0.1"),
        naptr("badnaptr.test", "_radsec._tcp.b}d.test"),
    ])
    source = dns_source(dnsmasq)
    result = resolve(source, "hostile.test")
    assert isinstance(result, Route)
    assert [(t.host, t.port) for t in result.targets] == [("good.hostile.test", 2083)]
    reasons = sorted(line.rsplit(": ", 1)[1] for line in result.refused)
    assert reasons == [
        "character '\\\\' is not allowed in a host name",  # ev"il and evil;rm arrive escaped: ev\"il
        "character '\\\\' is not allowed in a host name",
        "character '{' is not allowed in a host name",
        "port must be within 1..65535",
        "top-level label is all digits (an address is not a host name)",
    ]
    assert all(line.isprintable() for line in result.explain)
    bad = resolve(source, "badnaptr.test")
    assert isinstance(bad, RealmNotFound)
    assert bad.refused and "character '}' is not allowed in a service name" in bad.refused[0]


def test_ttl_expiry_triggers_a_fresh_lookup(dnsmasq: Dnsmasq) -> None:
    # NAPTR and SRV with TTL 30 (--local-ttl), the A record with TTL 4: the route lives 4 s.
    dnsmasq.start(chain("ttl.test", port=2083, host_ttl=4), ttl=30)
    cached = CachedSource(dns_source(dnsmasq), RouteCache(CachePolicy(floor=1, ceiling=3600)))
    first = resolve(cached, "ttl.test", now=1000.0)
    assert isinstance(first, Route) and first.ttl == 4 and first.targets[0].port == 2083
    dnsmasq.restart(chain("ttl.test", port=2090, host_ttl=4), ttl=30)
    still = resolve(cached, "ttl.test", now=1003.9)
    assert isinstance(still, Route) and still.targets[0].port == 2083  # from the cache
    assert still.explain[-1] == "cache: hit, 0 s left"
    fresh = resolve(cached, "ttl.test", now=1004.0)
    assert isinstance(fresh, Route) and fresh.targets[0].port == 2090
    assert cached.cache.stats()["hits"] == 1 and cached.cache.stats()["misses"] == 2


def test_ttl_floor_and_ceiling_apply_to_real_answers(dnsmasq: Dnsmasq) -> None:
    dnsmasq.start(chain("ttl.test", host_ttl=1), ttl=30)
    cached = CachedSource(dns_source(dnsmasq), RouteCache(CachePolicy(floor=10, ceiling=20)))
    result = resolve(cached, "ttl.test", now=0.0)
    assert isinstance(result, Route) and result.ttl == 1
    assert result.explain[-1] == "cache: miss, stored for 10 s (TTL 1 s clamped)"
    dnsmasq.restart([], ttl=30)
    assert isinstance(resolve(cached, "ttl.test", now=9.0), Route)
    assert isinstance(resolve(cached, "ttl.test", now=10.0), RealmNotFound)


def test_negative_answers_are_cached_for_the_soa_minimum(dnsmasq: Dnsmasq) -> None:
    zone = "auth.test"
    dnsmasq.start(chain(f"idp.{zone}"), ttl=45, auth_zone=zone)
    cached = CachedSource(dns_source(dnsmasq), RouteCache(CachePolicy(negative_floor=1)))
    missing = resolve(cached, f"late.{zone}", now=0.0)
    assert isinstance(missing, RealmNotFound) and missing.ttl == 45
    assert missing.explain[-1] == "cache: miss, stored for 45 s (TTL 45 s)"
    assert isinstance(resolve(cached, f"idp.{zone}", now=0.0), Route)
    dnsmasq.restart([*chain(f"idp.{zone}"), *chain(f"late.{zone}")], ttl=45, auth_zone=zone)
    assert isinstance(resolve(cached, f"late.{zone}", now=44.0), RealmNotFound)
    assert isinstance(resolve(cached, f"late.{zone}", now=45.0), Route)
