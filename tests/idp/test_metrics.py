"""The IdP's tallied metrics expose exactly what prometheus_client's own inc/observe would have."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from tsunagaru.idp.metrics import LATENCY_BUCKETS, Children, IdpMetrics
from tsunagaru.net.folded import Folder

VALUES = (0.0, 0.0004, 0.001, 0.0011, 0.0025, 0.07, 0.25, 1.0, 9.9, 10.0, 11.0, 1e9)


def direct_and_tallied() -> tuple[CollectorRegistry, CollectorRegistry, Children, Children, Children, Children]:
    a, b = CollectorRegistry(), CollectorRegistry()
    folder = Folder()
    b.register(folder)  # first, as IdpMetrics does: a scrape folds before it reads
    made = []
    for registry, kept in ((a, None), (b, folder)):
        made.append(Children(Histogram("h", "h", ["p"], buckets=LATENCY_BUCKETS, registry=registry), kept))
        made.append(Children(Counter("c", "c", ["code"], registry=registry), kept))
    return a, b, made[0], made[1], made[2], made[3]


def exposition(registry: CollectorRegistry) -> list[str]:
    return sorted(line for line in generate_latest(registry).decode().splitlines()
                  if line and not line.startswith("#") and "_created" not in line)


def test_tallies_expose_what_direct_calls_would() -> None:
    a, b, ha, ca, hb, cb = direct_and_tallied()
    for n, v in enumerate(VALUES):
        for h, c in ((ha, ca), (hb, cb)):
            h.labels("inline" if n % 3 else "worker").observe(v)
            c.labels("Access-Request").inc()
        if n == 5:  # a scrape half-way: later counts are added, none twice
            assert exposition(a) == exposition(b)
    assert exposition(a) == exposition(b)
    assert exposition(a) == exposition(b)  # flushing again adds nothing


def test_the_server_metrics_flush_at_scrape() -> None:
    m = IdpMetrics()
    m.requests.labels("Access-Request").inc()
    m.latency.labels("inline").observe(0.003)
    r = m.registry
    assert r.get_sample_value("tsunagaru_idp_requests_total", {"code": "Access-Request"}) == 1
    assert r.get_sample_value("tsunagaru_idp_request_seconds_bucket", {"path": "inline", "le": "0.005"}) == 1
    assert r.get_sample_value("tsunagaru_idp_request_seconds_bucket", {"path": "inline", "le": "0.0025"}) == 0
