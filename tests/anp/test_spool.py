"""The accounting spool keeps every record once, across reopen (a proxy restart)."""

from __future__ import annotations

from pathlib import Path

from tsunagaru.anp.spool import AccountingSpool
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
