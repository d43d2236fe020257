"""A static route over a pool of equal IdP nodes (``balance = "spread"``) and its configuration."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from tests.anp.test_config import GOOD
from tsunagaru.anp.config import ConfigError, parse
from tsunagaru.anp.routing import PeerAddress, RealmPattern, StaticRoute

A, B, C = PeerAddress("10.0.0.1", 2083, "a"), PeerAddress("10.0.0.2", 2083, "b"), PeerAddress("10.0.0.3", 2083, "c")


def test_failover_routes_keep_their_order() -> None:
    route = StaticRoute(RealmPattern.parse("idp.example"), (A, B, C))
    assert {route.candidates() for _ in range(20)} == {(A, B, C)}


def test_spread_routes_put_each_node_first_about_equally() -> None:
    route = StaticRoute(RealmPattern.parse("idp.example"), (A, B, C), spread=True)
    rng = random.Random(7)
    firsts = Counter(route.candidates(rng=rng)[0] for _ in range(3000))
    assert set(firsts) == {A, B, C} and min(firsts.values()) > 850
    assert sorted(route.candidates(rng=rng), key=lambda p: p.host) == [A, B, C]  # every node, once


def test_spread_accounting_uses_its_own_peers_when_set() -> None:
    route = StaticRoute(RealmPattern.parse("idp.example"), (A, B), accounting_peers=(C,), spread=True)
    assert route.candidates(accounting=True) == (C,)


def test_balance_in_the_configuration() -> None:
    assert parse(GOOD).routes[0].spread is False
    assert parse(GOOD.replace("any_member = true", 'any_member = true\nbalance = "spread"')).routes[0].spread
    with pytest.raises(ConfigError) as info:
        parse(GOOD.replace("any_member = true", 'any_member = true\nbalance = "round-robin"'))
    assert info.value.key == "routes[0].balance"


def test_router_decisions_follow_a_changed_route_list() -> None:
    """The router sorts its routes (exact first) and makes each route's decision once, and again when
    the list it was given changes: a decision never names a route that is no longer there."""
    from tsunagaru.anp.routing import PeerAddress, RealmPattern, Router, StaticRoute, UseDiscovery, UseStatic

    suffix = StaticRoute(RealmPattern.parse("*.example"), (PeerAddress("192.0.2.1"),), name="suffix")
    exact = StaticRoute(RealmPattern.parse("idp.example"), (PeerAddress("192.0.2.2"),), name="exact")
    router = Router([suffix, exact])
    first = router.decide("idp.example")
    assert isinstance(first, UseStatic) and first.route is exact
    assert router.decide("idp.example") is first  # made once
    router.routes.remove(exact)
    again = router.decide("idp.example")
    assert isinstance(again, UseStatic) and again.route is suffix
    router.routes.clear()
    assert isinstance(router.decide("idp.example"), UseDiscovery)
