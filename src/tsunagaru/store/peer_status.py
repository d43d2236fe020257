"""Writing and reading ``ops_idp_peers``: the ANP nodes' snapshots of their RadSec peers per realm.

:func:`write_peers` runs in the ANP's activity writer thread (``SqlActivityWriter.write_peers``): one
transaction per snapshot, one upsert per (node, realm, peer), then the node's rows that the snapshot no
longer names are deleted, so the table holds each node's current set and nothing older. :func:`latest_peers`
gives every node's rows to the pure rule (``tsunagaru.ops.health.idp_fleet``); :func:`purge_peers` drops the
rows of nodes that stopped writing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tsunagaru.ops.health import IdpPeerInputs
from tsunagaru.ops.idp_peers import PeerBatch, PeerRecord
from tsunagaru.store.ops_tables import IdpPeerRow

PEER_RETENTION = timedelta(days=1)  # rows no node refreshed for this long are deleted by the purge job
KEY = ("node", "realm", "host", "port", "server_name")
_RULES = {c: "set" for c in ("found", "state", "state_since", "last_reply", "requests", "timeouts", "errors",
                             "interval_s", "updated_at")}
MAX_LIST = 10_000  # rows read at most (nodes x anp.peer_rows)


def _ts(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _row(node: str, at: datetime, interval_s: int, r: PeerRecord) -> dict[str, Any]:
    return {"node": node[:80], "realm": r.realm[:253], "host": r.peer.host[:255], "port": r.peer.port,
            "server_name": r.peer.server_name[:253], "found": r.found.value, "state": r.state,
            "state_since": _ts(r.state_since), "last_reply": _ts(r.last_reply), "requests": r.requests,
            "timeouts": r.timeouts, "errors": r.errors, "interval_s": interval_s, "updated_at": at}


def write_peers(db: Session, batch: PeerBatch) -> int:
    """Store ``batch`` as the node's current rows; returns the rows written."""
    from tsunagaru.store.ops_writer import upsert

    at = _ts(batch.at)
    assert at is not None
    rows = [_row(batch.node, at, batch.interval_s, r) for r in batch.records]
    upsert(db, IdpPeerRow.__table__, rows, KEY, _RULES)  # type: ignore[arg-type]
    db.execute(delete(IdpPeerRow).where(IdpPeerRow.node == batch.node[:80], IdpPeerRow.updated_at < at))
    return len(rows)


def latest_peers(db: Session) -> list[IdpPeerInputs]:
    """Every node's rows, as the health rule takes them."""
    rows = db.scalars(select(IdpPeerRow).order_by(IdpPeerRow.realm, IdpPeerRow.host, IdpPeerRow.port)
                      .limit(MAX_LIST))
    return [IdpPeerInputs(r.node, r.realm, r.host, r.port, r.server_name, r.found, r.state, r.state_since,
                          r.last_reply, r.requests, r.timeouts, r.errors, r.updated_at) for r in rows]


def purge_peers(db: Session, now: datetime, retention: timedelta = PEER_RETENTION) -> int:
    result = db.execute(delete(IdpPeerRow).where(IdpPeerRow.updated_at < now - retention))
    return int(getattr(result, "rowcount", 0) or 0)
