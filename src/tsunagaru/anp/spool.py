"""The durable accounting spool: every Accounting-Request is on disk before the AP gets its response.

Why stdlib sqlite3 and not the SQLAlchemy store: the spool is local state of one proxy process, sits
on the hot path (one fsync'd insert per record), and must work before any database is configured.
WAL mode with ``synchronous=FULL`` makes a committed insert survive a crash or power loss.

Exactly once: a record's identity is a digest of what makes it one accounting event (client, session
id, status type, counters, timestamps: everything but Acct-Delay-Time, Proxy-State and the
authenticators). A retransmission from the AP, before or after a proxy restart, maps to the same row,
so it is stored and forwarded once. A record leaves the spool only when the IdP has answered it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from tsunagaru.radius import Packet
from tsunagaru.radius.accounting import record_key
from tsunagaru.secretfile import create_private

SCHEMA = """
CREATE TABLE IF NOT EXISTS acct_spool (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_key TEXT NOT NULL UNIQUE,
    client TEXT NOT NULL,
    realm TEXT,
    packet BLOB NOT NULL,
    received_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS acct_spool_due ON acct_spool (sent_at, next_attempt);
"""


@dataclass(frozen=True, slots=True)
class SpooledRecord:
    id: int
    client: str
    realm: str | None
    packet: bytes  # the AP's Accounting-Request as received
    received_at: float
    attempts: int


def spool_key(client: str, packet: Packet) -> str:
    return record_key(packet, client)


class AccountingSpool:
    """A small queue on SQLite. Not thread-safe: one owner (the ANP's event loop) calls it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        create_private(self.path)  # accounting: 0600 from the first byte (SQLite would use the umask)
        self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)  # one spool thread
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def put(self, client: str, realm: str | None, packet: Packet, raw: bytes, now: float) -> bool:
        """Store a record durably; False when the same record is already stored (a retransmission)."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO acct_spool (record_key, client, realm, packet, received_at, next_attempt)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (spool_key(client, packet), client, realm, raw, now, now),
        )
        return cur.rowcount == 1

    def due(self, now: float, limit: int = 256) -> list[SpooledRecord]:
        rows = self.db.execute(
            "SELECT id, client, realm, packet, received_at, attempts FROM acct_spool"
            " WHERE sent_at IS NULL AND next_attempt <= ? ORDER BY id LIMIT ?",
            (now, limit),
        ).fetchall()
        return [SpooledRecord(*row) for row in rows]

    def mark_sent(self, record_id: int, now: float) -> None:
        self.db.execute("UPDATE acct_spool SET sent_at = ? WHERE id = ?", (now, record_id))

    def mark_failed(self, record_id: int, now: float, *, base: float = 1.0, cap: float = 300.0) -> float:
        """Schedule the next attempt with exponential back-off; returns its time."""
        (attempts,) = self.db.execute("SELECT attempts FROM acct_spool WHERE id = ?", (record_id,)).fetchone()
        delay = float(min(cap, base * (2 ** min(int(attempts), 16))))
        self.db.execute("UPDATE acct_spool SET attempts = attempts + 1, next_attempt = ? WHERE id = ?",
                        (now + delay, record_id))
        return now + delay

    def pending(self) -> int:
        (n,) = self.db.execute("SELECT count(*) FROM acct_spool WHERE sent_at IS NULL").fetchone()
        return int(n)

    def purge_sent(self, older_than: float) -> int:
        cur = self.db.execute("DELETE FROM acct_spool WHERE sent_at IS NOT NULL AND sent_at < ?", (older_than,))
        return cur.rowcount
