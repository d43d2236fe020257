"""Prometheus metrics of the ANP proxy. One registry per proxy so tests and reloads stay separate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_CACHED_CHILDREN = 20_000  # per metric; a realm label comes from requests, so the cache is bounded
MAX_REALM_LABELS = 1000  # distinct realms labelled by name; later ones are counted as "other"
OTHER_REALM = "other"

M = TypeVar("M", Counter, Gauge, Histogram)


class Labelled(Generic[M]):
    """A metric whose ``labels(...)`` children are remembered: prometheus_client checks, converts and
    locks on every call (a few microseconds), and the proxy asks for about six children per request.
    Returns the very child prometheus_client would; everything else is the metric's own."""

    def __init__(self, metric: M) -> None:
        self.metric: M = metric
        self._children: dict[tuple[str, ...], M] = {}

    def labels(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            if len(self._children) >= MAX_CACHED_CHILDREN:
                self._children.clear()
            child = self._children[values] = self.metric.labels(*values)
        return child

    def __getattr__(self, name: str) -> Any:
        return getattr(self.metric, name)


@dataclass
class AnpMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def realm(self, realm: str) -> str:
        """The label for ``realm``: its name for the first MAX_REALM_LABELS realms seen, then "other".
        Realms come from users' identities: without a bound, random names would make a new time
        series each (memory in the proxy and in Prometheus)."""
        if realm in self._realms:
            return realm
        if len(self._realms) >= MAX_REALM_LABELS:
            return OTHER_REALM
        self._realms.add(realm)
        return realm

    def __post_init__(self) -> None:
        self._realms: set[str] = set()
        r = self.registry
        self.requests = Labelled(Counter("tsunagaru_anp_requests", "Requests received from RADIUS clients",
                                         ["client", "code"], registry=r))
        self.results = Labelled(Counter("tsunagaru_anp_results", "Replies sent to clients by outcome",
                                        ["realm", "outcome"], registry=r))
        self.rejects = Labelled(Counter("tsunagaru_anp_reject_reasons", "Access-Rejects by WBA Reject-Reason",
                                        ["reason"], registry=r))
        self.dropped = Labelled(Counter("tsunagaru_anp_dropped", "Datagrams dropped without a reply", ["why"],
                                        registry=r))
        self.latency = Labelled(Histogram("tsunagaru_anp_upstream_latency_seconds", "Upstream round trip",
                                          ["realm", "peer"], buckets=LATENCY_BUCKETS, registry=r))
        self.client_latency = Labelled(Histogram("tsunagaru_anp_client_latency_seconds",
                                                 "Time from request to reply", ["client"],
                                                 buckets=LATENCY_BUCKETS, registry=r))
        self.discovery = Labelled(Counter("tsunagaru_anp_discovery_lookups", "Discovery lookups by cache result",
                                          ["result"], registry=r))
        self.peer_up = Labelled(Gauge("tsunagaru_anp_peer_up", "1 when the RadSec peer answers its watchdog",
                                      ["peer"], registry=r))
        self.cert_expiry = Gauge("tsunagaru_anp_certificate_expiry_seconds",
                                 "Unix time at which our RadSec certificate expires", registry=r)
        self.spool_pending = Gauge("tsunagaru_anp_accounting_pending", "Accounting records not yet forwarded",
                                   registry=r)
