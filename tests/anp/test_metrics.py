"""Labelled metrics: the child prometheus_client would return, remembered, bounded; samples unchanged."""

from __future__ import annotations

import pytest

from tsunagaru.anp import metrics as metrics_module
from tsunagaru.anp.metrics import AnpMetrics


def test_children_are_remembered_and_count_in_the_registry() -> None:
    m = AnpMetrics()
    first = m.requests.labels("ap-1", "Access-Request")
    assert m.requests.labels("ap-1", "Access-Request") is first
    assert first is m.requests.metric.labels("ap-1", "Access-Request")  # prometheus_client's own child
    first.inc()
    m.requests.labels("ap-1", "Access-Request").inc()
    m.latency.labels("idp.example", "192.0.2.1:2083").observe(0.01)
    get = m.registry.get_sample_value
    assert get("tsunagaru_anp_requests_total", {"client": "ap-1", "code": "Access-Request"}) == 2
    assert get("tsunagaru_anp_upstream_latency_seconds_count", {"realm": "idp.example", "peer": "192.0.2.1:2083"}) == 1


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics_module, "MAX_CACHED_CHILDREN", 3)
    m = AnpMetrics()
    for i in range(10):  # realms come from requests: a flood of names must not grow the cache
        m.results.labels(f"realm-{i}.example", "reject").inc()
    assert len(m.results._children) <= 3
    assert m.registry.get_sample_value("tsunagaru_anp_results_total",
                                       {"realm": "realm-9.example", "outcome": "reject"}) == 1


def test_realm_labels_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics_module, "MAX_REALM_LABELS", 2)
    m = AnpMetrics()
    assert [m.realm(r) for r in ("a.example", "b.example", "c.example", "a.example")] == \
        ["a.example", "b.example", "other", "a.example"]
