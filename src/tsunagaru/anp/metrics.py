"""Prometheus metrics of the ANP proxy. One registry per proxy so tests and reloads stay separate.

Every label value comes from a closed set (outcomes, Reject-Reasons, drop kinds, configured client
names) or from a bounded one: realms and peers are labelled by name for the first ``MAX_REALM_LABELS``
/ ``MAX_PEER_LABELS`` seen and as ``other`` afterwards, and each metric holds at most
``MAX_SERIES`` children (further label combinations are counted under ``other``). A peer the RadSec
pool forgets is removed from prometheus_client too (:meth:`AnpMetrics.forget_peer`), so the series
count follows the peers that exist, not every peer ever seen.

With pre-fork workers (``anp run --workers N``) prometheus_client runs in multiprocess mode: each worker
writes its own file, the parent serves the sum. Each worker bounds its labels as above, so a scrape holds
at most N times the bounds; a forgotten peer's series stays until its worker restarts (prometheus_client
cannot remove a label in that mode). Gauges say how they combine: what each worker holds is summed over
the live workers (``livesum``), a peer is up when every worker that talks to it says so (``livemin``),
the certificate's expiry is the same everywhere (``max``).

Cheap per request: the counters and histograms the proxy touches for every request are plain ints
on the event loop (:mod:`tsunagaru.net.folded`) folded into prometheus_client
when the registry is collected (a scrape, ``get_sample_value``) or, in multiprocess mode, once a
second by the worker's gauge refresh. prometheus_client takes a lock, checks and converts on each
``inc``/``observe``: about 4 % of the proxy's CPU per request (py-spy, 2026-12-02).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from tsunagaru.net import gauges
from tsunagaru.net.folded import Folder, folded
from tsunagaru.net.gauges import WatchedGauge, multiprocess_on

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_SERIES = 5000  # children per metric in prometheus_client; later combinations go to "other"
MAX_REALM_LABELS = 1000  # distinct realms labelled by name; later ones are counted as "other"
MAX_PEER_LABELS = 1000  # distinct RadSec peers labelled by address; later ones are "other"
OTHER = "other"
OTHER_REALM = OTHER

#: Why a datagram was dropped without a reply: the closed set of ``tsunagaru_anp_dropped_total{why}``.
DROP_KINDS = ("unknown_client", "malformed", "bad_code", "bad_authenticator", "duplicate", "nas_identifier",
              "rate_limit", "not_access_request", "wrong_port", "not_stored", "spool_full", "overloaded",
              "internal_error")

M = TypeVar("M", Counter, Gauge, Histogram)


class Labelled(Generic[M]):
    """A metric whose ``labels(...)`` children are remembered and bounded.

    Remembered: prometheus_client checks, converts and locks on every call (a few microseconds), and
    the proxy asks for about six children per request. Bounded: at most ``limit`` children exist in
    prometheus_client; a new combination past that is the all-``other`` child. :meth:`remove` removes a
    child from prometheus_client as well, not only from this cache.
    """

    def __init__(self, metric: M, limit: int | None = None, folder: Folder | None = None) -> None:
        self.metric: M = metric
        self.limit = MAX_SERIES if limit is None else limit
        self._children: dict[tuple[str, ...], Any] = {}
        self._folded = folder is not None  # children are FoldedCounter/FoldedHistogram (counters, histograms)
        if folder is not None:
            folder.add(self)

    def labels(self, *values: str) -> Any:
        """The child for ``values``: prometheus_client's, or its folded stand-in (same ``inc``/``observe``)."""
        child: Any = self._children.get(values)
        if child is None:
            if len(self._children) >= self.limit:
                values = (OTHER,) * len(values)
                child = self._children.get(values)
                if child is not None:
                    return child
            child = self.metric.labels(*values)  # Any: a folded stand-in may replace it
            if self._folded:
                child = folded(self.metric, child)
            self._children[values] = child
        return child

    def fold(self) -> None:
        for child in list(self._children.values()):  # a scrape's thread: the loop may add children meanwhile
            child.fold()

    def remove(self, *values: str) -> None:
        child = self._children.pop(values, None)
        if child is not None:
            self.metric.remove(*values)

    def remove_where(self, position: int, value: str) -> None:
        """Remove every child whose label at ``position`` is ``value`` (a peer that is gone)."""
        for key in [k for k in self._children if k[position] == value]:
            self.remove(*key)

    def __len__(self) -> int:
        return len(self._children)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.metric, name)


class BoundedNames:
    """The first ``limit`` names seen keep their name as a label; later ones are ``other``. A name can
    be forgotten (its slot is then free for another)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._names: set[str] = set()

    def __call__(self, name: str) -> str:
        if name in self._names:
            return name
        if len(self._names) >= self.limit:
            return OTHER
        self._names.add(name)
        return name

    def forget(self, name: str) -> bool:
        if name in self._names:
            self._names.discard(name)
            return True
        return False


@dataclass
class AnpMetrics:
    """The proxy's metrics; ``realm()`` and ``peer()`` give the bounded label for a realm or a peer."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def realm(self, realm: str) -> str:
        """The label for ``realm``: its name for the first MAX_REALM_LABELS realms seen, then "other".
        Realms come from users' identities: without a bound, random names would make a new time
        series each (memory in the proxy and in Prometheus)."""
        return self._realms(realm)

    def peer(self, host: str, port: int) -> str:
        """The label for a RadSec peer (from discovery, so bounded like realms)."""
        label = self._peer_labels.get((host, port))
        if label is None:
            if len(self._peer_labels) >= 2 * MAX_PEER_LABELS:  # discovered peers come and go: bounded
                self._peer_labels.clear()
            label = self._peer_labels[(host, port)] = self._peers(f"{host}:{port}")
        return label

    def forget_peer(self, host: str, port: int) -> None:
        """The pool gave up a peer: remove its series from prometheus_client."""
        label = f"{host}:{port}"
        if multiprocess_on():  # labels cannot be removed there: the label keeps its slot (still bounded)
            return
        self._peer_labels.clear()  # a freed slot may now name a peer cached as "other"
        if self._peers.forget(label):
            self.peer_up.remove(label)
            self.latency.remove_where(1, label)

    def drop(self, kind: str) -> None:
        self.dropped.labels(kind if kind in DROP_KINDS else "internal_error").inc()

    def __post_init__(self) -> None:
        self._realms = BoundedNames(MAX_REALM_LABELS)
        self._peers = BoundedNames(MAX_PEER_LABELS)
        self._peer_labels: dict[tuple[str, int], str] = {}
        r = self.registry
        folder = self.folder = Folder()  # per-request metrics: see the module docstring
        r.register(folder)  # before the metrics: a collection folds first, then reads them
        if multiprocess_on():
            gauges.on_refresh(folder.fold)
        self.requests = Labelled(Counter("tsunagaru_anp_requests", "Requests received from RADIUS clients",
                                         ["client", "code"], registry=r), folder=folder)
        self.results = Labelled(Counter("tsunagaru_anp_results", "Replies sent to clients by outcome",
                                        ["realm", "outcome"], registry=r), folder=folder)
        self.rejects = Labelled(Counter("tsunagaru_anp_reject_reasons", "Access-Rejects by WBA Reject-Reason",
                                        ["reason"], registry=r), folder=folder)
        self.dropped = Labelled(Counter("tsunagaru_anp_dropped", "Datagrams dropped without a reply", ["why"],
                                        registry=r))
        self.latency = Labelled(Histogram("tsunagaru_anp_upstream_latency_seconds", "Upstream round trip",
                                          ["realm", "peer"], buckets=LATENCY_BUCKETS, registry=r), folder=folder)
        self.client_latency = Labelled(Histogram("tsunagaru_anp_client_latency_seconds",
                                                 "Time from request to reply", ["client"],
                                                 buckets=LATENCY_BUCKETS, registry=r), folder=folder)
        self.discovery = Labelled(Counter("tsunagaru_anp_discovery_lookups", "Discovery lookups by cache result",
                                          ["result"], registry=r))
        self.peer_up = Labelled(Gauge("tsunagaru_anp_peer_up", "1 when the RadSec peer answers its watchdog",
                                      ["peer"], registry=r, multiprocess_mode="livemin"))
        self.errors = Labelled(Counter("tsunagaru_anp_internal_errors",
                                       "Unexpected exceptions caught, logged and survived, by task", ["task"],
                                       registry=r))
        self.name_fallbacks = Counter("tsunagaru_anp_peer_name_fallbacks",
                                      "Discovered peers whose certificate has no NAIRealm: checked by SRV target",
                                      registry=r)
        self.peers_given_up = Counter("tsunagaru_anp_peers_given_up",
                                      "RadSec peers forgotten after staying down or idle", registry=r)
        self.write_stalls = WatchedGauge("tsunagaru_anp_radsec_write_stalls",
                                         "RadSec AP connections cut off since start because the AP did not read",
                                         registry=r, multiprocess_mode="livesum")
        self.pool_errors = WatchedGauge("tsunagaru_anp_pool_errors",
                                        "Unexpected errors the RadSec pool's revivers survived since start",
                                        registry=r, multiprocess_mode="livesum")
        self.cert_expiry = Gauge("tsunagaru_anp_certificate_expiry_seconds",
                                 "Unix time at which our RadSec certificate expires", registry=r,
                                 multiprocess_mode="max")
        self.spool_pending = Gauge("tsunagaru_anp_accounting_pending", "Accounting records not yet forwarded",
                                   registry=r, multiprocess_mode="livesum")
        self.acct_expired = Counter("tsunagaru_anp_accounting_expired",
                                    "Accounting records deleted unforwarded after anp.spool_max_age", registry=r)
        self.pool_peers = WatchedGauge("tsunagaru_anp_pool_peers", "RadSec peers the pool keeps state for",
                                       registry=r, multiprocess_mode="livesum")


def series_count(registry: CollectorRegistry, name: str) -> int:
    """How many samples prometheus_client exports for ``name`` (what a scrape would see)."""
    return sum(1 for metric in registry.collect() for s in metric.samples
               if s.name == name or s.name == f"{name}_total")
