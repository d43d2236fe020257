"""RFC 2782 ordering: deterministic failover order, and weighted selection with seeded randomness."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from tsunagaru.discovery import Route, Service, Target, failover_order, weighted_order


def t(host: str, priority: int, weight: int, port: int = 2083) -> Target:
    return Target(host, port, priority, weight, ("192.0.2.1",), 300)


TARGETS = [t("c", 1, 0), t("a", 0, 10), t("b", 0, 90), t("d", 2, 5), t("e", 1, 100)]


def test_failover_order() -> None:
    assert [x.host for x in failover_order(TARGETS)] == ["b", "a", "e", "c", "d"]


def test_weighted_order_is_reproducible_with_a_seed() -> None:
    first = weighted_order(TARGETS, random.Random(7))
    assert first == weighted_order(TARGETS, random.Random(7))
    assert [x.priority for x in first] == [0, 0, 1, 1, 2]


def test_weights_share_the_first_choice_in_proportion() -> None:
    rng = random.Random(2782)
    firsts = Counter(weighted_order(TARGETS, rng)[0].host for _ in range(2000))
    assert set(firsts) == {"a", "b"}
    assert 0.8 < firsts["b"] / 2000 < 0.97  # weight 90 of 100 (+1 for the inclusive draw)


def test_zero_weight_is_chosen_rarely_but_not_never() -> None:
    rng = random.Random(1)
    group = [t("zero", 0, 0), t("heavy", 0, 100)]
    firsts = Counter(weighted_order(group, rng)[0].host for _ in range(3000))
    assert 0 < firsts["zero"] < 150  # RFC 2782: weight 0 has a very small chance


def test_all_zero_weights_are_uniform() -> None:
    rng = random.Random(3)
    group = [t("x", 0, 0), t("y", 0, 0)]
    firsts = Counter(weighted_order(group, rng)[0].host for _ in range(2000))
    assert 800 < firsts["x"] < 1200


def test_route_weighted() -> None:
    route = Route("idp.example", Service.AUTH, failover_order(TARGETS), 300)
    assert sorted(x.host for x in route.weighted(random.Random(0))) == ["a", "b", "c", "d", "e"]


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 100)), max_size=12), st.integers())
def test_weighted_order_is_a_permutation_sorted_by_priority(spec: list[tuple[int, int]], seed: int) -> None:
    items = [t(f"h{i}", p, w) for i, (p, w) in enumerate(spec)]
    result = weighted_order(items, random.Random(seed))
    assert sorted(result, key=lambda x: x.host) == sorted(items, key=lambda x: x.host)
    assert [x.priority for x in result] == sorted(x.priority for x in items)
