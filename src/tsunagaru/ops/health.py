"""Health as pure rules: AP states from activity, config reports and probes; sites; alerts; IdPs.

The checks of an AP are data (:data:`AP_CHECKS`, one screen): each has a name, whether it is critical,
and a predicate over an :class:`ApInputs` and the thresholds. An AP is

- ``unknown`` when it was never seen (no RADIUS request, no agent poll, no config report);
- ``down`` when a critical check fails (neither a RADIUS request nor an agent poll for longer than
  ``down_after``, or a critical probe failed);
- ``degraded`` when another check fails (auth failure ratio over the threshold, config failed, config
  pending or silent too long, a non-critical probe failed);
- ``up`` otherwise.

A site has a ``problem`` if any check of any of its APs fails and is ``critical`` if every critical
check of every AP it has fails (the whole site is unreachable), in the manner of openwisp-monitoring.
Alerts open and close on state transitions, with times (:func:`track_alerts`).

An IdP (a realm) is judged from every ANP node's latest row per (realm, peer) (:func:`idp_fleet`): each
row carries what that node's RadSec watchdogs say of the peer; a row older than ``idp_stale_after`` counts
as unknown; then :func:`idp_health`: up when every peer is up, degraded when some are suspect or down
while one answers, down when none does, unknown with no usable row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from tsunagaru.radsec.watchdog import PeerState


@dataclass(frozen=True, slots=True)
class Thresholds:
    down_after: timedelta = timedelta(minutes=15)  # interims every 10 min + Status-Server: 15 min is silence
    auth_failure_ratio: float = 0.5  # rejects / (accepts + rejects) over the window
    auth_min_attempts: int = 10  # below this many attempts the ratio says nothing
    config_pending_max: timedelta = timedelta(minutes=10)  # agents poll every 2 min: 5 polls missed
    probe_max_age: timedelta = timedelta(minutes=30)  # an older probe result is ignored
    # an ANP node's peer row older than this says nothing (the node stopped, or its store writes fail):
    # three of the default 5-minute activity intervals
    idp_stale_after: timedelta = timedelta(minutes=15)


class ApState(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"


class SiteState(StrEnum):
    OK = "ok"
    PROBLEM = "problem"
    CRITICAL = "critical"
    UNKNOWN = "unknown"


class ConfigState(StrEnum):  # the values of tsunagaru.sites.config_state.STATES
    CURRENT = "current"  # the agent applied the config it should run
    PENDING = "pending"  # a new config exists; the agent has not reported it yet
    FAILED = "failed"  # the agent reported an error applying it
    SILENT = "silent"  # the agent stopped reporting
    NEW = "new"  # no config served yet (the agent never polled): not a failure of its own


@dataclass(frozen=True, slots=True)
class ConfigReport:
    state: ConfigState
    since: datetime  # when it entered this state


@dataclass(frozen=True, slots=True)
class Probe:
    name: str
    ok: bool
    at: datetime
    critical: bool = False


@dataclass(frozen=True, slots=True)
class ApInputs:
    """What is known of one AP: activity over the recent window, its config report, probes."""

    ap_id: str
    last_request: datetime | None = None  # the last RADIUS request from the AP (ANP activity)
    accepts: int = 0
    rejects: int = 0
    config: ConfigReport | None = None
    probes: tuple[Probe, ...] = ()
    # the agent's last config poll or status report: an AP with no users sends no RADIUS at night, so
    # the agent's polls (every 2 min) are the liveness signal that does not depend on people
    last_poll: datetime | None = None

    @property
    def last_seen(self) -> datetime | None:
        seen = [t for t in (self.last_request, self.last_poll) if t is not None]
        return max(seen) if seen else None


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    critical: bool
    failing: Callable[[ApInputs, Thresholds, datetime], bool]


def _silent(ap: ApInputs, t: Thresholds, now: datetime) -> bool:
    seen = ap.last_seen
    return seen is None or now - seen > t.down_after


def _auth_ratio(ap: ApInputs, t: Thresholds, now: datetime) -> bool:
    attempts = ap.accepts + ap.rejects
    return attempts >= t.auth_min_attempts and ap.rejects / attempts > t.auth_failure_ratio


def _config_failed(ap: ApInputs, t: Thresholds, now: datetime) -> bool:
    return ap.config is not None and ap.config.state is ConfigState.FAILED


def _config_stale(ap: ApInputs, t: Thresholds, now: datetime) -> bool:
    c = ap.config
    stale = (ConfigState.PENDING, ConfigState.SILENT)
    return c is not None and c.state in stale and now - c.since > t.config_pending_max


AP_CHECKS: tuple[Check, ...] = (
    Check("reachable", critical=True, failing=_silent),
    Check("auth-failure-ratio", critical=False, failing=_auth_ratio),
    Check("config-failed", critical=False, failing=_config_failed),
    Check("config-pending", critical=False, failing=_config_stale),
)


@dataclass(frozen=True, slots=True)
class ApHealth:
    ap_id: str
    state: ApState
    failing: tuple[str, ...]  # names of the checks that fail
    critical_failing: int
    critical_total: int


def ap_health(ap: ApInputs, now: datetime, t: Thresholds = Thresholds()) -> ApHealth:
    if ap.last_seen is None and ap.config is None:
        return ApHealth(ap.ap_id, ApState.UNKNOWN, (), 0, 0)
    results = [(c.name, c.critical, c.failing(ap, t, now)) for c in AP_CHECKS]
    results += [(f"probe:{p.name}", p.critical, not p.ok) for p in ap.probes if now - p.at <= t.probe_max_age]
    failing = tuple(name for name, _, bad in results if bad)
    critical_total = sum(1 for _, crit, _ in results if crit)
    critical_failing = sum(1 for _, crit, bad in results if crit and bad)
    if critical_failing:
        state = ApState.DOWN
    elif failing:
        state = ApState.DEGRADED
    else:
        state = ApState.UP
    return ApHealth(ap.ap_id, state, failing, critical_failing, critical_total)


@dataclass(frozen=True, slots=True)
class SiteHealth:
    site_id: str
    state: SiteState
    aps: Mapping[ApState, int]


def site_health(site_id: str, aps: Sequence[ApHealth]) -> SiteHealth:
    counts = {s: sum(1 for a in aps if a.state is s) for s in ApState}
    known = [a for a in aps if a.state is not ApState.UNKNOWN]
    if not known:
        state = SiteState.UNKNOWN
    elif all(a.critical_total and a.critical_failing == a.critical_total for a in known):
        state = SiteState.CRITICAL
    elif any(a.failing for a in known):
        state = SiteState.PROBLEM
    else:
        state = SiteState.OK
    return SiteHealth(site_id, state, counts)


@dataclass(frozen=True, slots=True)
class FleetHealth:
    aps: dict[str, ApHealth]
    sites: dict[str, SiteHealth]

    def alert_states(self) -> dict[str, tuple[str, str]]:
        """Subject -> (state, detail) for :func:`track_alerts`."""
        states = {f"ap:{a.ap_id}": (a.state.value, ",".join(a.failing)) for a in self.aps.values()}
        states.update({f"site:{s.site_id}": (s.state.value, "") for s in self.sites.values()})
        return states


def evaluate(aps: Iterable[ApInputs], site_of: Mapping[str, str], now: datetime,
             t: Thresholds = Thresholds()) -> FleetHealth:
    """Every AP's health and every site's aggregate (sites from ``site_of``: AP id -> site id)."""
    healths = {ap.ap_id: ap_health(ap, now, t) for ap in aps}
    per_site: dict[str, list[ApHealth]] = {}
    for ap_id, site_id in site_of.items():
        per_site.setdefault(site_id, []).append(healths.get(ap_id) or ap_health(ApInputs(ap_id), now, t))
    return FleetHealth(healths, {site: site_health(site, hs) for site, hs in per_site.items()})


# -- IdPs, from the ANP's RadSec watchdogs -------------------------------------------------------------


class IdpState(StrEnum):
    UP = "up"
    DEGRADED = "degraded"  # some peers of the realm are suspect or down, at least one answers
    DOWN = "down"
    UNKNOWN = "unknown"  # no peer known (never routed to)


def idp_health(peers: Iterable[PeerState]) -> IdpState:
    states = list(peers)
    if not states:
        return IdpState.UNKNOWN
    if all(s is PeerState.UP for s in states):
        return IdpState.UP
    if any(s is PeerState.UP for s in states) or any(s is PeerState.SUSPECT for s in states):
        return IdpState.DEGRADED
    return IdpState.DOWN


def idp_states(peers_by_realm: Mapping[str, Iterable[PeerState]]) -> dict[str, IdpState]:
    """Realm -> IdP state, from the RadSec pool's peer states of each realm's peers."""
    return {realm: idp_health(states) for realm, states in peers_by_realm.items()}


_PEER_STATES = {s.value: s for s in PeerState}


@dataclass(frozen=True, slots=True)
class IdpPeerInputs:
    """One ANP node's latest row for one (realm, peer): what the node's RadSec pool said of the peer."""

    node: str
    realm: str
    host: str
    port: int
    server_name: str
    found: str  # srv, static
    state: str  # up, suspect, down, unknown
    state_since: datetime | None
    last_reply: datetime | None
    requests: int  # in the node's last interval
    timeouts: int
    errors: int
    updated_at: datetime

    def fresh(self, now: datetime, t: Thresholds) -> bool:
        return now - self.updated_at <= t.idp_stale_after


@dataclass(frozen=True, slots=True)
class IdpHealth:
    realm: str
    state: IdpState
    peers: tuple[IdpPeerInputs, ...]  # every node's row, fresh or not (by host, port, node)
    fresh: tuple[bool, ...]  # per peer row: does it count?
    last_reply: datetime | None  # the newest reply any node saw
    requests: int  # over the fresh rows
    timeouts: int

    @property
    def peers_up(self) -> int:
        return sum(1 for p, f in zip(self.peers, self.fresh, strict=True) if f and p.state == PeerState.UP.value)

    @property
    def detail(self) -> str:
        """For the alert: which peers are not up, as ``host:port state`` (no user data)."""
        bad = sorted({f"{p.host}:{p.port} {p.state}" for p, f in zip(self.peers, self.fresh, strict=True)
                      if f and p.state != PeerState.UP.value})
        return ", ".join(bad)


def idp_fleet(rows: Iterable[IdpPeerInputs], now: datetime, t: Thresholds = Thresholds()) -> dict[str, IdpHealth]:
    """Realm -> its health over every ANP node's latest rows: rows older than ``t.idp_stale_after`` count
    as unknown (left out of the rule), as do rows whose state is unknown; no row left: the IdP is unknown."""
    by_realm: dict[str, list[IdpPeerInputs]] = {}
    for row in rows:
        by_realm.setdefault(row.realm, []).append(row)
    out: dict[str, IdpHealth] = {}
    for realm, peers in sorted(by_realm.items()):
        peers.sort(key=lambda p: (p.host, p.port, p.server_name, p.node))
        fresh = tuple(p.fresh(now, t) for p in peers)
        counted = [p for p, f in zip(peers, fresh, strict=True) if f]
        states = [_PEER_STATES[p.state] for p in counted if p.state in _PEER_STATES]
        replies = [p.last_reply for p in peers if p.last_reply is not None]
        out[realm] = IdpHealth(realm, idp_health(states), tuple(peers), fresh, max(replies) if replies else None,
                               sum(p.requests for p in counted), sum(p.timeouts for p in counted))
    return out


def idp_alert_states(idps: Mapping[str, IdpHealth]) -> dict[str, tuple[str, str]]:
    """Subject ``idp:REALM`` -> (state, detail) for :func:`track_alerts`."""
    return {f"idp:{h.realm}": (h.state.value, h.detail) for h in idps.values()}


# -- alerts -----------------------------------------------------------------------------------------------

BAD: frozenset[str] = frozenset({ApState.DEGRADED, ApState.DOWN, SiteState.PROBLEM, SiteState.CRITICAL,
                                 IdpState.DEGRADED, IdpState.DOWN})


@dataclass(frozen=True, slots=True)
class Alert:
    subject: str  # "ap:ID", "site:ID", "idp:REALM"
    state: str  # the bad state it reports
    started_at: datetime
    ended_at: datetime | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AlertChanges:
    open: dict[str, Alert]  # subject -> the alert open now
    started: tuple[Alert, ...]
    ended: tuple[Alert, ...]


def track_alerts(open_alerts: Mapping[str, Alert], states: Mapping[str, tuple[str, str]],
                 now: datetime) -> AlertChanges:
    """New open alerts from the current states (subject -> (state, detail)).

    A subject entering a bad state opens an alert; leaving it (to a good state, or to another bad state,
    which opens its own alert) ends it at ``now``. Subjects missing from ``states`` keep their alerts.
    """
    still = dict(open_alerts)
    started: list[Alert] = []
    ended: list[Alert] = []
    for subject, (state, detail) in states.items():
        current = still.get(subject)
        if current is not None and current.state == state:
            continue
        if current is not None:
            ended.append(replace(current, ended_at=now))
            del still[subject]
        if state in BAD:
            alert = still[subject] = Alert(subject, state, now, None, detail)
            started.append(alert)
    return AlertChanges(still, tuple(started), tuple(ended))
