"""The ANP's peer table and the IdP rule over the nodes' rows, each with time passed in (no clock, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tsunagaru.ops.health import IdpPeerInputs, IdpState, Thresholds, idp_alert_states, idp_fleet, track_alerts
from tsunagaru.ops.idp_peers import OTHER_REALM, Found, Outcome, PeerTable

WALL = 1_800_000_000.0  # a multiple of 300 and of 10: an interval starts here
REALM = "idp.example"


def states(table: dict[tuple[str, int], str | None]):  # type: ignore[no-untyped-def]
    return lambda host, port, name: table.get((host, port))


def test_counts_sampled_states_and_one_snapshot_per_interval() -> None:
    t = PeerTable("anp-1", 300)
    assert t.take(WALL + 1, 1.0) is None  # the first interval ends at WALL + 300
    t.observe("IdP.Example", "192.0.2.1", 2083, "radsec.idp.example", Found.SRV, Outcome.REPLY, 10.0)
    t.observe(REALM, "192.0.2.1", 2083, "radsec.idp.example", Found.SRV, Outcome.TIMEOUT, 11.0)
    t.observe(REALM, "192.0.2.2", 2083, None, Found.STATIC, Outcome.ERROR, 12.0)
    pool = {("192.0.2.1", 2083): "up", ("192.0.2.2", 2083): "down"}
    t.sample(states(pool), 20.0)
    assert t.take(WALL + 299, 299.0) is None
    batch = t.take(WALL + 300, 300.0)
    assert batch is not None and batch.node == "anp-1" and batch.at == WALL + 300 and batch.interval_s == 300
    by_host = {r.peer.host: r for r in batch.records}
    a, b = by_host["192.0.2.1"], by_host["192.0.2.2"]
    assert (a.realm, a.found, a.state, a.requests, a.timeouts, a.errors) == (REALM, Found.SRV, "up", 2, 1, 0)
    assert a.last_reply == WALL + 300 - 290 and a.state_since == WALL + 300 - 280  # mono -> wall at the snapshot
    assert (b.found, b.state, b.errors, b.last_reply, b.peer.server_name) == (Found.STATIC, "down", 1, None, "")
    # the next interval: counters start again, the state and its time stay until the pool says otherwise
    pool[("192.0.2.1", 2083)] = "suspect"
    t.sample(states(pool), 400.0)
    nxt = t.take(WALL + 600, 600.0)
    assert nxt is not None
    a2 = next(r for r in nxt.records if r.peer.host == "192.0.2.1")
    assert (a2.requests, a2.state, a2.state_since) == (0, "suspect", WALL + 400)


def test_bounded_beyond_the_cap_one_other_row() -> None:
    t = PeerTable("n", 60, max_rows=4)
    for i in range(10):
        t.observe(f"r{i}.example", f"192.0.2.{i}", 2083, None, Found.SRV, Outcome.REPLY, float(i))
    assert len(t) == 4
    batch = t.take(WALL + 60, 100.0, force=True)
    assert batch is not None and len(batch.records) == 4
    other = [r for r in batch.records if r.realm == OTHER_REALM]
    assert len(other) == 1 and other[0].requests == 7 and other[0].state == "unknown"
    assert other[0].peer.host == "*"


def test_forgotten_peers_keep_their_state_then_go() -> None:
    t = PeerTable("n", 60, keep_s=3600)
    t.observe(REALM, "192.0.2.1", 2083, None, Found.SRV, Outcome.REPLY, 0.0)
    t.observe("static.example", "192.0.2.9", 2083, None, Found.STATIC, Outcome.REPLY, 0.0)
    t.sample(states({("192.0.2.1", 2083): "down", ("192.0.2.9", 2083): "up"}), 1.0)
    t.sample(states({("192.0.2.9", 2083): "up"}), 2.0)  # the pool gave up on .1 (no slot): last known state
    batch = t.take(WALL, 100.0, force=True)
    assert batch is not None and {r.peer.host: r.state for r in batch.records} == {"192.0.2.1": "down",
                                                                                   "192.0.2.9": "up"}
    batch = t.take(WALL + 3600, 3601.0, force=True)  # an hour without requests: the forgotten one goes
    assert batch is not None and [r.peer.host for r in batch.records] == ["192.0.2.9"]  # pinned: stays


NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def row(node: str, host: str, state: str, age_min: float = 1, realm: str = REALM) -> IdpPeerInputs:
    return IdpPeerInputs(node, realm, host, 2083, "", "srv", state, NOW - 30 * M, NOW - 2 * M, 5, 1, 0,
                         NOW - age_min * M)


def test_idp_state_over_every_nodes_latest_rows() -> None:
    t = Thresholds(idp_stale_after=timedelta(minutes=15))
    health = idp_fleet([row("a", "h1", "up"), row("b", "h1", "up")], NOW, t)[REALM]
    assert health.state is IdpState.UP and health.peers_up == 2 and health.requests == 10
    assert idp_fleet([row("a", "h1", "up"), row("b", "h1", "down")], NOW, t)[REALM].state is IdpState.DEGRADED
    assert idp_fleet([row("a", "h1", "down"), row("a", "h2", "down")], NOW, t)[REALM].state is IdpState.DOWN
    assert idp_fleet([row("a", "h1", "suspect")], NOW, t)[REALM].state is IdpState.DEGRADED
    # a node that stopped writing: its row counts as unknown, the live node decides
    mixed = idp_fleet([row("gone", "h1", "down", age_min=16), row("a", "h1", "up")], NOW, t)[REALM]
    assert mixed.state is IdpState.UP and mixed.fresh == (True, False) and mixed.requests == 5
    assert idp_fleet([row("gone", "h1", "up", age_min=16)], NOW, t)[REALM].state is IdpState.UNKNOWN
    assert idp_fleet([row("a", "*", "unknown", realm=OTHER_REALM)], NOW, t)[OTHER_REALM].state is IdpState.UNKNOWN
    assert idp_fleet([row("gone", "h1", "up", age_min=16)], NOW, Thresholds(idp_stale_after=20 * M))[REALM].state \
        is IdpState.UP  # configurable like the AP thresholds


def test_idp_alerts_start_and_end() -> None:
    down = idp_fleet([row("a", "h1", "down"), row("a", "h2", "up")], NOW)
    states = idp_alert_states(down)
    assert states == {f"idp:{REALM}": ("degraded", "h1:2083 down")}
    opened = track_alerts({}, states, NOW)
    assert [(a.subject, a.state, a.started_at) for a in opened.started] == [(f"idp:{REALM}", "degraded", NOW)]
    later = NOW + 5 * M
    back = idp_alert_states(idp_fleet([row("a", "h1", "up"), row("a", "h2", "up")], later))
    closed = track_alerts(opened.open, back, later)
    assert closed.open == {} and [(a.started_at, a.ended_at) for a in closed.ended] == [(NOW, later)]
