"""Health rules, each with time passed in."""

from __future__ import annotations

from datetime import timedelta

from tests.ops.fixtures import NOW
from tsunagaru.ops.health import (
    AP_CHECKS,
    Alert,
    ApHealth,
    ApInputs,
    ApState,
    ConfigReport,
    ConfigState,
    IdpState,
    Probe,
    SiteState,
    Thresholds,
    ap_health,
    idp_health,
    site_health,
    track_alerts,
)
from tsunagaru.radsec.watchdog import PeerState

M = timedelta(minutes=1)
T = Thresholds()


def state(ap: ApInputs, now=NOW, t: Thresholds = T) -> ApState:  # type: ignore[no-untyped-def]
    return ap_health(ap, now, t).state


def seen(minutes_ago: float, **kw: object) -> ApInputs:
    return ApInputs("ap", NOW - minutes_ago * M, **kw)  # type: ignore[arg-type]


def test_checks_are_a_table() -> None:
    assert [(c.name, c.critical) for c in AP_CHECKS] == [
        ("reachable", True), ("auth-failure-ratio", False), ("config-failed", False), ("config-pending", False)]


def test_unknown_when_never_seen() -> None:
    assert state(ApInputs("ap")) is ApState.UNKNOWN


def test_up_and_down_by_silence() -> None:
    assert state(seen(1)) is ApState.UP
    assert state(seen(15)) is ApState.UP  # exactly the threshold: not yet
    assert state(seen(15.01)) is ApState.DOWN
    assert state(seen(20), t=Thresholds(down_after=30 * M)) is ApState.UP
    config_only = ApInputs("ap", None, config=ConfigReport(ConfigState.CURRENT, NOW - 60 * M))
    assert state(config_only) is ApState.DOWN  # a config report once, then nothing
    quiet_night = ApInputs("ap", NOW - 300 * M, last_poll=NOW - 2 * M)
    assert state(quiet_night) is ApState.UP  # no users, no RADIUS, but the agent polls
    assert state(ApInputs("ap", None, last_poll=NOW - 16 * M)) is ApState.DOWN


def test_auth_failure_ratio() -> None:
    assert state(seen(1, accepts=4, rejects=6)) is ApState.DEGRADED
    assert state(seen(1, accepts=5, rejects=5)) is ApState.UP  # 0.5 is not over 0.5
    assert state(seen(1, accepts=0, rejects=9)) is ApState.UP  # too few attempts to judge
    assert state(seen(1, accepts=4, rejects=6), t=Thresholds(auth_failure_ratio=0.7)) is ApState.UP
    assert ap_health(seen(1, accepts=4, rejects=6), NOW).failing == ("auth-failure-ratio",)


def test_config_failed_or_pending_too_long() -> None:
    assert state(seen(1, config=ConfigReport(ConfigState.FAILED, NOW))) is ApState.DEGRADED
    assert state(seen(1, config=ConfigReport(ConfigState.PENDING, NOW - 10 * M))) is ApState.UP
    assert state(seen(1, config=ConfigReport(ConfigState.PENDING, NOW - 11 * M))) is ApState.DEGRADED
    assert state(seen(1, config=ConfigReport(ConfigState.SILENT, NOW - 11 * M))) is ApState.DEGRADED
    assert state(seen(1, config=ConfigReport(ConfigState.CURRENT, NOW - 99 * M))) is ApState.UP
    assert state(seen(1, config=ConfigReport(ConfigState.NEW, NOW - 99 * M))) is ApState.UP


def test_config_states_are_the_registrys() -> None:
    from tsunagaru.sites.config_state import STATES

    assert {s.value for s in ConfigState} == set(STATES)


def test_probes() -> None:
    assert state(seen(1, probes=(Probe("ping", False, NOW, critical=True),))) is ApState.DOWN
    assert state(seen(1, probes=(Probe("http", False, NOW),))) is ApState.DEGRADED
    assert state(seen(1, probes=(Probe("ping", False, NOW - 31 * M, critical=True),))) is ApState.UP  # stale
    assert state(seen(1, probes=(Probe("ping", True, NOW, critical=True),))) is ApState.UP


def h(*states: ApState) -> list[ApHealth]:
    by_state = {ApState.UP: seen(1), ApState.DEGRADED: seen(1, accepts=0, rejects=20),
                ApState.DOWN: seen(60), ApState.UNKNOWN: ApInputs("ap")}
    return [ap_health(by_state[s], NOW) for s in states]


def test_site_aggregate() -> None:
    assert site_health("s", h(ApState.UP, ApState.UP)).state is SiteState.OK
    assert site_health("s", h(ApState.UP, ApState.DEGRADED)).state is SiteState.PROBLEM
    assert site_health("s", h(ApState.UP, ApState.DOWN)).state is SiteState.PROBLEM
    assert site_health("s", h(ApState.DOWN, ApState.DOWN, ApState.UNKNOWN)).state is SiteState.CRITICAL
    assert site_health("s", h(ApState.DOWN, ApState.DEGRADED)).state is SiteState.PROBLEM
    assert site_health("s", h(ApState.UNKNOWN)).state is SiteState.UNKNOWN
    assert site_health("s", []).state is SiteState.UNKNOWN
    assert site_health("s", h(ApState.UP, ApState.DOWN)).aps[ApState.DOWN] == 1


def test_idp_health() -> None:
    assert idp_health([]) is IdpState.UNKNOWN
    assert idp_health([PeerState.UP, PeerState.UP]) is IdpState.UP
    assert idp_health([PeerState.UP, PeerState.DOWN]) is IdpState.DEGRADED
    assert idp_health([PeerState.SUSPECT]) is IdpState.DEGRADED
    assert idp_health([PeerState.DOWN, PeerState.DOWN]) is IdpState.DOWN


def test_alerts_start_and_end_with_transitions() -> None:
    t0, t1, t2, t3 = NOW, NOW + M, NOW + 2 * M, NOW + 3 * M
    c = track_alerts({}, {"ap:1": ("up", ""), "ap:2": ("degraded", "auth-failure-ratio")}, t0)
    assert [a.subject for a in c.started] == ["ap:2"] and not c.ended
    assert c.open["ap:2"] == Alert("ap:2", "degraded", t0, None, "auth-failure-ratio")
    c = track_alerts(c.open, {"ap:2": ("degraded", "auth-failure-ratio")}, t1)
    assert not c.started and not c.ended  # no change, no new alert
    c = track_alerts(c.open, {"ap:2": ("down", "reachable")}, t2)
    assert c.ended[0] == Alert("ap:2", "degraded", t0, t2, "auth-failure-ratio")
    assert c.started[0] == Alert("ap:2", "down", t2, None, "reachable")
    c = track_alerts(c.open, {"ap:3": ("up", "")}, t3)  # ap:2 not reported: its alert stays
    assert "ap:2" in c.open
    c = track_alerts(c.open, {"ap:2": ("up", "")}, t3)
    assert c.ended[0].ended_at == t3 and c.open == {}


def test_idp_states_by_realm() -> None:
    from tsunagaru.ops.health import idp_states

    assert idp_states({"a.example": [PeerState.UP], "b.example": [PeerState.DOWN], "c.example": []}) == {
        "a.example": IdpState.UP, "b.example": IdpState.DOWN, "c.example": IdpState.UNKNOWN}


def test_fleet_and_its_alerts() -> None:
    from tsunagaru.ops.health import evaluate

    inputs = [ApInputs("a", NOW - M), ApInputs("b", NOW - 60 * M), ApInputs("c", NOW - M)]
    fleet = evaluate(inputs, {"a": "s1", "b": "s1", "c": "s2", "d": "s3"}, NOW)
    assert {k: v.state for k, v in fleet.sites.items()} == {
        "s1": SiteState.PROBLEM, "s2": SiteState.OK, "s3": SiteState.UNKNOWN}  # d: never seen
    changes = track_alerts({}, fleet.alert_states(), NOW)
    assert sorted(a.subject for a in changes.started) == ["ap:b", "site:s1"]
    assert changes.open["ap:b"].detail == "reachable"
