"""Labelled metrics: the child prometheus_client would return, remembered; bounded in what a scrape sees
(the registry's collect output, not our own cache); removed children really gone from prometheus_client."""

from __future__ import annotations

import pytest

from tsunagaru.anp import metrics as metrics_module
from tsunagaru.anp.metrics import AnpMetrics, series_count


def test_children_are_remembered_and_count_in_the_registry() -> None:
    m = AnpMetrics()
    first = m.requests.labels("ap-1", "Access-Request")
    assert m.requests.labels("ap-1", "Access-Request") is first
    assert first.child is m.requests.metric.labels("ap-1", "Access-Request")  # folded into prometheus_client's
    first.inc()
    m.requests.labels("ap-1", "Access-Request").inc()
    m.latency.labels("idp.example", "192.0.2.1:2083").observe(0.01)
    get = m.registry.get_sample_value
    assert get("tsunagaru_anp_requests_total", {"client": "ap-1", "code": "Access-Request"}) == 2
    assert get("tsunagaru_anp_upstream_latency_seconds_count", {"realm": "idp.example", "peer": "192.0.2.1:2083"}) == 1


def test_series_per_metric_are_bounded_in_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics_module, "MAX_SERIES", 3)
    m = AnpMetrics()
    for i in range(10):  # a flood of label combinations must not grow what prometheus_client exports
        m.results.labels(f"realm-{i}.example", "reject").inc()
    assert series_count(m.registry, "tsunagaru_anp_results") <= 4  # 3 named + the "other" child
    get = m.registry.get_sample_value
    assert get("tsunagaru_anp_results_total", {"realm": "realm-9.example", "outcome": "reject"}) is None
    assert get("tsunagaru_anp_results_total", {"realm": "other", "outcome": "other"}) == 7


def test_realm_and_peer_labels_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics_module, "MAX_REALM_LABELS", 2)
    monkeypatch.setattr(metrics_module, "MAX_PEER_LABELS", 1)
    m = AnpMetrics()
    assert [m.realm(r) for r in ("a.example", "b.example", "c.example", "a.example")] == \
        ["a.example", "b.example", "other", "a.example"]
    assert [m.peer("192.0.2.1", 2083), m.peer("192.0.2.2", 2083)] == ["192.0.2.1:2083", "other"]


def test_a_forgotten_peer_leaves_prometheus_client() -> None:
    m = AnpMetrics()
    label = m.peer("192.0.2.7", 2083)
    m.peer_up.labels(label).set(1)
    m.latency.labels("a.example", label).observe(0.1)
    m.latency.labels("b.example", label).observe(0.1)
    assert series_count(m.registry, "tsunagaru_anp_peer_up") == 1
    m.forget_peer("192.0.2.7", 2083)
    assert series_count(m.registry, "tsunagaru_anp_peer_up") == 0
    assert m.registry.get_sample_value("tsunagaru_anp_upstream_latency_seconds_count",
                                       {"realm": "a.example", "peer": label}) is None
    assert series_count(m.registry, "tsunagaru_anp_upstream_latency_seconds") == 0


def test_drop_reasons_are_a_closed_set() -> None:
    m = AnpMetrics()
    m.drop("unknown_client")
    m.drop("unknown client 192.0.2.1")  # never a label of its own
    assert series_count(m.registry, "tsunagaru_anp_dropped") == 2
    assert m.registry.get_sample_value("tsunagaru_anp_dropped_total", {"why": "internal_error"}) == 1


def test_folded_counters_and_histograms_read_as_prometheus_client_would_count() -> None:
    """Plain numbers on the loop, folded at each collection: the same samples as direct inc/observe, also
    after several collections and for values on a bucket's bound (``le`` is inclusive)."""
    m = AnpMetrics()
    direct = AnpMetrics()
    values = [0.001, 0.005, 0.0051, 0.3, 5.0, 10.0, 11.0]
    for n, v in enumerate(values):
        m.client_latency.labels("ap-1").observe(v)
        direct.client_latency.metric.labels("ap-1").observe(v)
        m.requests.labels("ap-1", "Access-Request").inc()
        if n % 3 == 0:  # a scrape in between: only what came since is added
            m.registry.get_sample_value("tsunagaru_anp_requests_total", {"client": "ap-1", "code": "Access-Request"})
    m.requests.labels("ap-1", "Access-Request").inc(2.5)

    def samples(metrics: AnpMetrics) -> list[tuple[str, dict[str, str], float]]:
        return [(s.name, s.labels, s.value) for metric in metrics.registry.collect()
                if metric.name == "tsunagaru_anp_client_latency_seconds" for s in metric.samples
                if not s.name.endswith("_created")]

    assert samples(m) == samples(direct)
    assert m.registry.get_sample_value("tsunagaru_anp_requests_total",
                                       {"client": "ap-1", "code": "Access-Request"}) == len(values) + 2.5
    with pytest.raises(ValueError):
        m.requests.labels("ap-1", "Access-Request").inc(-1)


def test_in_multiprocess_mode_the_gauge_refresh_folds(monkeypatch: pytest.MonkeyPatch) -> None:
    """There the parent reads the workers' files, never a worker's collectors: the refresh folds."""
    from tsunagaru.net import gauges

    monkeypatch.setattr(metrics_module, "multiprocess_on", lambda: True)
    monkeypatch.setattr(gauges, "_calls", [])
    m = AnpMetrics()
    m.requests.labels("ap-1", "Access-Request").inc()
    assert m.requests.metric.labels("ap-1", "Access-Request")._value.get() == 0
    gauges.refresh()
    assert m.requests.metric.labels("ap-1", "Access-Request")._value.get() == 1
