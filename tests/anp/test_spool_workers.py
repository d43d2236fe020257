"""Per-worker spools: a record a sibling stored is not stored again, and orphaned spools are adopted
(rows moved once, the old file removed) whichever way the worker count changes."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from tsunagaru.anp.spool import AccountingSpool, adopt_orphans, open_spool, orphans
from tsunagaru.radius import Code, Packet

ACCT_SESSION_ID, ACCT_STATUS_TYPE = 44, 40


def record(session: str) -> Packet:
    return Packet(Code.ACCOUNTING_REQUEST, 1, bytes(16),
                  ((ACCT_SESSION_ID, session.encode()), (ACCT_STATUS_TYPE, (1).to_bytes(4, "big"))))


def put(spool: AccountingSpool, session: str, now: float = 100.0) -> bool:
    packet = record(session)
    return spool.put("ap", "example.org", packet, packet.to_bytes(), now)


def keys(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as db:
        return [k for (k,) in db.execute("SELECT record_key FROM acct_spool ORDER BY id")]


def test_a_record_a_sibling_holds_is_not_stored_again(tmp_path: Path) -> None:
    base = tmp_path / "spool.sqlite"
    w0 = open_spool(base, 0, 2)  # worker 1 has not started: no file yet, nothing to look in
    assert put(w0, "a")
    w1 = open_spool(base, 1, 2)
    assert w1.path == tmp_path / "spool.sqlite.w1"
    assert not put(w1, "a")  # a retransmission that reached the other worker
    assert put(w1, "b")
    assert not put(w0, "b")  # worker 0 opens worker 1's spool once it exists
    assert not put(w0, "a")
    assert w0.pending() == w1.pending() == 1
    w0.close()
    w1.close()


def test_fewer_workers_adopt_the_orphans(tmp_path: Path) -> None:
    base = tmp_path / "spool.sqlite"
    spools = [open_spool(base, i, 3) for i in range(3)]
    for i, spool in enumerate(spools):
        put(spool, f"s{i}")
    spools[2].mark_sent(1, 200.0)  # forwarded already: kept for duplicate detection, not pending
    for spool in spools:
        spool.close()
    assert orphans(base, 0, 2) == [tmp_path / "spool.sqlite.w2"]
    assert orphans(base, 1, 2) == []  # only the first worker adopts
    w0 = open_spool(base, 0, 2)
    assert adopt_orphans(w0, base, 0, 2) == 0  # the adopted row was sent already
    assert not (tmp_path / "spool.sqlite.w2").exists()
    assert not put(w0, "s2")  # still known: a late retransmission is not forwarded twice
    assert w0.pending() == 1
    w0.close()
    single = open_spool(base)  # back to one process: every worker's spool is adopted
    assert orphans(base, None, 1) == [tmp_path / "spool.sqlite.w0", tmp_path / "spool.sqlite.w1"]
    assert adopt_orphans(single, base, None, 1) == 2
    assert sorted(p.name for p in tmp_path.iterdir() if ".w" in p.name) == []
    assert len(keys(base)) == 3 and single.pending() == 2
    due = single.due(1000.0)
    assert [r.client for r in due] == ["ap", "ap"]
    single.close()


def test_more_workers_adopt_the_single_process_spool_once(tmp_path: Path) -> None:
    base = tmp_path / "spool.sqlite"
    single = open_spool(base)
    put(single, "x")
    single.close()
    w0 = open_spool(base, 0, 2)
    assert orphans(base, 0, 2) == [base]
    assert adopt_orphans(w0, base, 0, 2) == 1
    assert not base.exists()
    assert adopt_orphans(w0, base, 0, 2) == 0  # nothing left: adopting again changes nothing
    assert w0.pending() == 1
    w0.close()


def test_a_file_that_is_no_spool_is_left_alone(tmp_path: Path) -> None:
    base = tmp_path / "spool.sqlite"
    (tmp_path / "spool.sqlite.w5").write_bytes(b"not a database at all, and longer than a header" * 10)
    w0 = open_spool(base, 0, 2)
    assert adopt_orphans(w0, base, 0, 2) == 0
    assert (tmp_path / "spool.sqlite.w5").exists()  # kept for the operator (logged)
    assert put(w0, "y")
    w0.close()
