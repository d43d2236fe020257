"""The accounting spool keeps every record once, across reopen (a proxy restart)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsunagaru.anp.spool import AccountingSpool, SpoolFull
from tsunagaru.radius import Code, Packet, default_dictionary, encode

D = default_dictionary()


def record(session: str, delay: int = 0, ident: int = 1) -> Packet:
    return Packet(Code.ACCOUNTING_REQUEST, ident, bytes([ident]) * 16, (
        *encode(D, "Acct-Session-Id", session), *encode(D, "Acct-Status-Type", "Stop"),
        *encode(D, "Acct-Delay-Time", delay)))


def test_records_survive_reopen_and_retransmissions_are_stored_once(tmp_path: Path) -> None:
    spool = AccountingSpool(tmp_path / "spool.sqlite")
    for i in range(5):
        p = record(f"s{i}")
        assert spool.put("ap", "idp.example", p, p.to_bytes(), now=1.0)
    again = record("s0", delay=5, ident=9)  # AP retransmitted with a new id and delay
    assert not spool.put("ap", "idp.example", again, again.to_bytes(), now=2.0)
    spool.close()

    spool = AccountingSpool(tmp_path / "spool.sqlite")
    due = spool.due(now=3.0)
    assert [Packet.from_bytes(r.packet).get(44) for r in due] == [f"s{i}".encode() for i in range(5)]
    spool.mark_sent(due[0].id, 3.0)
    nxt = spool.mark_failed(due[1].id, 3.0)
    assert nxt > 3.0 and spool.pending() == 4
    assert [r.id for r in spool.due(now=3.0)] == [r.id for r in due[2:]]
    assert len(spool.due(now=nxt)) == 4


def test_a_full_spool_refuses_new_records_but_knows_stored_ones(tmp_path: Path) -> None:
    spool = AccountingSpool(tmp_path / "spool.sqlite", max_pending=3)
    for i in range(3):
        p = record(f"s{i}")
        assert spool.put("ap", "idp.example", p, p.to_bytes(), now=1.0)
    with pytest.raises(SpoolFull):
        spool.put("ap", "idp.example", record("s3"), record("s3").to_bytes(), now=1.0)
    again = record("s1", delay=5, ident=9)  # a retransmission of a stored record: acknowledged, not stored
    assert not spool.put("ap", "idp.example", again, again.to_bytes(), now=2.0)
    spool.mark_sent(spool.due(now=3.0)[0].id, 3.0)
    spool.mark_sent(spool.due(now=3.0)[0].id - 1, 3.0)  # an id already sent: no double count
    assert spool.put("ap", "idp.example", record("s3"), record("s3").to_bytes(), now=3.0)  # room again
    spool.close()
    reopened = AccountingSpool(tmp_path / "spool.sqlite", max_pending=3)  # the count survives a restart
    with pytest.raises(SpoolFull):
        reopened.put("ap", "idp.example", record("s4"), record("s4").to_bytes(), now=4.0)


def test_records_not_forwarded_within_max_age_expire(tmp_path: Path) -> None:
    spool = AccountingSpool(tmp_path / "spool.sqlite", max_age=100.0)
    for i, at in enumerate((0.0, 50.0, 120.0)):
        p = record(f"s{i}")
        spool.put("ap", None, p, p.to_bytes(), now=at)
    sent = spool.due(now=130.0)[1]
    spool.mark_sent(sent.id, 130.0)
    assert spool.expire(now=149.0) == 1  # s0 (arrived at 0); s1 was sent, s2 is young
    assert spool.pending() == 1
    assert [Packet.from_bytes(r.packet).get(44) for r in spool.due(now=1000.0)] == [b"s2"]
    assert spool.expire(now=221.0) == 1 and spool.pending() == 0
