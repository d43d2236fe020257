"""The ANP nodes' peer rows (``ops_idp_peers``) on SQLite and on a real PostgreSQL: a snapshot replaces the
node's rows (one upsert per row, the ones it no longer names deleted), other nodes' rows stay, the rule reads
them back, and the purge drops the rows of a node that stopped. Written by the ANP's real recorder thread."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tsunagaru.anp.activity import ActivityRecorder
from tsunagaru.anp.routing import PeerAddress
from tsunagaru.ops.activity import IdentityHasher
from tsunagaru.ops.health import IdpState, idp_fleet
from tsunagaru.ops.idp_peers import Found, Outcome, PeerBatch, PeerId, PeerRecord, PeerTable
from tsunagaru.store import Store
from tsunagaru.store.ops_tables import IdpPeerRow
from tsunagaru.store.ops_writer import SqlActivityWriter, purge
from tsunagaru.store.peer_status import latest_peers

T0 = 1_800_000_000.0
REALM = "idp.example"


def record(host: str, state: str = "up", realm: str = REALM, requests: int = 3) -> PeerRecord:
    return PeerRecord(realm, PeerId(host, 2083, "radsec.idp.example"), Found.SRV, state, T0 - 600, T0 - 5,
                      requests, 1, 0)


def test_a_snapshot_replaces_the_nodes_rows(store: Store) -> None:
    writer = SqlActivityWriter(store)
    assert writer.write_peers(PeerBatch("a", T0, 300, (record("h1"), record("h2")))) == 2
    writer.write_peers(PeerBatch("b", T0, 300, (record("h1", "down"),)))
    writer.write_peers(PeerBatch("a", T0 + 300, 300, (record("h1", "suspect", requests=9),)))  # h2 gone from a
    with store.session() as db:
        rows = {(r.node, r.host): r for r in latest_peers(db)}
    assert set(rows) == {("a", "h1"), ("b", "h1")}
    a = rows[("a", "h1")]
    assert (a.state, a.requests, a.timeouts, a.found, a.server_name) == ("suspect", 9, 1, "srv", "radsec.idp.example")
    assert a.updated_at == datetime.fromtimestamp(T0 + 300, UTC) and a.last_reply == datetime.fromtimestamp(T0 - 5, UTC)
    now = datetime.fromtimestamp(T0 + 310, UTC)
    with store.session() as db:
        assert idp_fleet(latest_peers(db), now)[REALM].state is IdpState.DEGRADED
    # node b stopped: a day on, the purge job drops its rows (node a's, just written, stay)
    writer.write_peers(PeerBatch("a", T0 + 86_400, 300, (record("h1"),)))
    purge(store, datetime.fromtimestamp(T0 + 86_400 + 60, UTC))
    with store.session() as db:
        assert {(r.node, r.host) for r in latest_peers(db)} == {("a", "h1")}


def test_the_recorder_writes_peer_snapshots_in_its_thread(store: Store) -> None:
    clock = [T0 + 1]
    rec = ActivityRecorder(SqlActivityWriter(store), IdentityHasher(b"k" * 32), interval_s=60,
                           clock=lambda: clock[0])
    pool = {("192.0.2.1", 2083): "up"}
    rec.watch_peers(PeerTable("anp-1", 60), lambda host, port, name: pool.get((host, port)))
    peer = PeerAddress("192.0.2.1", 2083, "radsec.idp.example", REALM)  # found by discovery: a realm
    for outcome in (Outcome.REPLY, Outcome.REPLY, Outcome.TIMEOUT):
        rec.observe_upstream("IDP.example", peer, outcome, 5.0)
    rec.observe_upstream(None, peer, Outcome.REPLY, 5.0)  # accounting without a realm: not a row
    rec.tick()
    clock[0] = T0 + 61
    asyncio.run(rec.close())
    with store.session() as db:
        [row] = db.scalars(select(IdpPeerRow)).all()
        assert db.scalar(select(func.count()).select_from(IdpPeerRow)) == 1
    assert (row.node, row.realm, row.found, row.state, row.requests, row.timeouts) == \
        ("anp-1", REALM, "srv", "up", 3, 1)
    assert rec.stats.batches_failed == 0 and rec.stats.batches_written >= 1


def test_a_huge_realm_or_host_is_cut_to_the_columns(store: Store) -> None:
    long = PeerRecord("r" * 300, PeerId("h" * 300, 1, "n" * 300), Found.STATIC, "down", None, None, 0, 0, 1)
    SqlActivityWriter(store).write_peers(PeerBatch("x" * 100, T0, 60, (long,)))
    with store.session() as db:
        [row] = latest_peers(db)
    assert (len(row.node), len(row.realm), len(row.host), len(row.server_name)) == (80, 253, 255, 253)
    assert row.state_since is None and row.last_reply is None
    assert timedelta(0) == row.updated_at - datetime.fromtimestamp(T0, UTC)
