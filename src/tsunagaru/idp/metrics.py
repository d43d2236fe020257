"""Prometheus metrics of the IdP, one registry per server (tests and reloads stay apart).

Every label has a fixed set of values, whatever arrives from the network: the RADIUS code (four names),
the EAP method (the registered ones, ``pap``, ``other``), the outcome, the WBA Reject-Reason (the known
codes or ``other``), the drop reason (a fixed list) and the certificate (``eap``, ``radsec``).

With ``idp serve --workers N`` prometheus_client runs in multiprocess mode and the parent serves the sum
of the workers: sessions in progress and queue depths add up over the live workers (``livesum``, written
every second by each worker: :mod:`tsunagaru.net.gauges`), a certificate's expiry is the same in all.

The per-request counters and histograms are tallied in plain numbers on the event loop and added to
prometheus_client's values when scraped (a collector registered first flushes them) and, with workers,
every second into the worker's file. prometheus_client's own ``inc`` costs ~5 us and ``observe`` ~12 us
(multiprocess mode: ~17 and ~65 us, an mmap write under a lock per value), and a round trip made three
of them: 20-100 us of a ~300 us EAP round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from tsunagaru.eap import EapType
from tsunagaru.idp.eap_front import Finished
from tsunagaru.net import gauges
from tsunagaru.net.folded import Folder, folded
from tsunagaru.net.gauges import WatchedGauge
from tsunagaru.radius import Code, Packet
from tsunagaru.radius.packet import REPLY_MESSAGE
from tsunagaru.radius.reasons import RejectReason, parse_reject_reason

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ROUND_BUCKETS = (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 50, 100, 400)
CODES: dict[int, str] = {Code.ACCESS_REQUEST: "Access-Request", Code.ACCOUNTING_REQUEST: "Accounting-Request",
                         Code.STATUS_SERVER: "Status-Server"}
METHODS: dict[int, str] = {EapType.TLS: "tls", EapType.TTLS: "ttls", EapType.PEAP: "peap",
                           EapType.MSCHAPV2: "mschapv2"}
REPLY_CODES: dict[int, str] = {Code.ACCESS_ACCEPT: "Access-Accept", Code.ACCESS_REJECT: "Access-Reject",
                               Code.ACCESS_CHALLENGE: "Access-Challenge",
                               Code.ACCOUNTING_RESPONSE: "Accounting-Response"}
REASONS = frozenset({"0", *(str(int(r)) for r in RejectReason)})  # 0: accepted
DROPS = ("unknown_client", "malformed", "busy", "error", "unverified", "overload")


def code_label(code: int) -> str:
    return CODES.get(code, "other")


def method_label(method: int | None) -> str:
    return METHODS.get(method, "other") if method is not None else "none"


def reason_label(reason: int) -> str:
    text = str(reason)
    return text if text in REASONS else "other"


class Children:
    """The children of one metric, remembered: prometheus_client checks, converts and locks on every
    ``labels(...)`` (microseconds, several per request). Bounded because every label value is. With a
    ``folder``, the children handed out are folded stand-ins (:mod:`tsunagaru.net.folded`) added to it."""

    def __init__(self, metric: Any, folder: Folder | None = None) -> None:
        self.metric = metric
        self._children: dict[tuple[str, ...], Any] = {}
        self._folder = folder

    def labels(self, *values: str) -> Any:
        child = self._children.get(values)
        if child is None:
            child = self.metric.labels(*values)
            if self._folder is not None:
                child = folded(self.metric, child)
                self._folder.add(child)
            self._children[values] = child
        return child


@dataclass
class IdpMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.folder = Folder()
        r.register(self.folder)  # before the metrics: a scrape folds the tallies first, then reads them
        if gauges.multiprocess_on():  # the parent reads the worker's files: write them every second
            gauges.on_refresh(self.flush)
        tallied = self.folder
        self.requests = Children(Counter(
            "tsunagaru_idp_requests", "Requests received, by RADIUS code", ["code"], registry=r), tallied)
        self.replies = Children(Counter(
            "tsunagaru_idp_replies", "Replies sent, by code and WBA Reject-Reason (0: none)", ["code", "reason"],
            registry=r), tallied)
        self.outcomes = Children(Counter(
            "tsunagaru_idp_outcomes", "Authentications ended, by method, outcome and Reject-Reason",
            ["method", "outcome", "reason"], registry=r), tallied)
        self.rounds = Children(Histogram(
            "tsunagaru_idp_eap_round_trips", "RADIUS round trips per EAP conversation", ["method"],
            buckets=ROUND_BUCKETS, registry=r), tallied)
        self.duration = Children(Histogram(
            "tsunagaru_idp_eap_seconds", "EAP conversation time, first request to end", ["method"],
            buckets=(*LATENCY_BUCKETS, 30.0, 60.0), registry=r), tallied)
        self.latency = Children(Histogram(
            "tsunagaru_idp_request_seconds", "Time from request to reply, by where it ran", ["path"],
            buckets=LATENCY_BUCKETS, registry=r), tallied)
        self.dropped = Children(Counter(
            "tsunagaru_idp_dropped", "Requests dropped without a reply", ["why"], registry=r))
        self.overflow = Children(Counter(
            "tsunagaru_idp_check_overflow", "Requests refused because a worker queue was full", ["queue"],
            registry=r))
        self.sessions = WatchedGauge("tsunagaru_idp_eap_sessions", "EAP conversations in progress", registry=r,
                                     multiprocess_mode="livesum")
        self.queue_depth = WatchedGauge("tsunagaru_idp_check_queue_depth", "Jobs waiting for a worker", ["queue"],
                                        registry=r, multiprocess_mode="livesum")
        self.cert_expiry = Gauge("tsunagaru_idp_certificate_expiry_seconds", "Unix time a certificate expires",
                                 ["certificate"], registry=r, multiprocess_mode="max")
        for why in DROPS:
            self.dropped.labels(why)

    def flush(self) -> None:
        """Add the tallies' new counts to prometheus_client's values (at a scrape, every second in a worker,
        and when the server stops)."""
        self.folder.fold()

    def watch(self, sessions: Callable[[], int], queues: dict[str, Callable[[], int]]) -> None:
        """Gauges read when scraped: sessions in progress and each queue's depth."""
        self.sessions.set_function(lambda: float(sessions()))
        for name, depth in queues.items():
            self.queue_depth.labels(name).set_function(lambda d=depth: float(d()))  # type: ignore[misc]

    def reply(self, reply: Packet | None) -> None:
        if reply is None:
            return
        reason = "0"
        if reply.code == Code.ACCESS_REJECT:
            message = reply.get(REPLY_MESSAGE)
            parsed = parse_reject_reason(message) if message is not None else None
            reason = reason_label(parsed) if parsed is not None else "other"
        self.replies.labels(_reply_code(reply.code), reason).inc()

    def finished(self, done: Finished) -> None:
        method = method_label(done.outcome.method)
        outcome = "accept" if done.outcome.success else "reject"
        self.outcomes.labels(method, outcome, reason_label(done.outcome.reject_reason)).inc()
        self.rounds.labels(method).observe(done.rounds)
        self.duration.labels(method).observe(done.seconds)

    def pap(self, accepted: bool, reason: int) -> None:
        self.outcomes.labels("pap", "accept" if accepted else "reject", reason_label(reason)).inc()

    def certificate(self, name: str, not_after: datetime) -> None:
        self.cert_expiry.labels(name).set(not_after.timestamp())


def _reply_code(code: int) -> str:
    return REPLY_CODES.get(code, "other")
