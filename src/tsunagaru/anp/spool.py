"""The durable accounting spool: every Accounting-Request is on disk before the AP gets its response.

Why stdlib sqlite3 and not the SQLAlchemy store: the spool is local state of one proxy process, sits
on the hot path (one fsync'd insert per record), and must work before any database is configured.
WAL mode with ``synchronous=FULL`` makes a committed insert survive a crash or power loss.

Exactly once: a record's identity is a digest of what makes it one accounting event (client, session
id, status type, counters, timestamps: everything but Acct-Delay-Time, Proxy-State and the
authenticators). A retransmission from the AP, before or after a proxy restart, maps to the same row,
so it is stored and forwarded once. A record leaves the spool only when the IdP has answered it.

Pre-fork workers (``anp run --workers N``) each own a spool, ``spool.wN``. The kernel keeps an AP's
retransmissions on one worker, but not while the set of workers changes (a worker restarting): so a
worker also looks the record up in its siblings' spools before storing it, and a record is spooled by
exactly one worker. At start the first worker (or a single process) adopts the spools nobody owns any
more (indices at or above N, or the single-process file): their rows move into its own spool in one
transaction, keyed as before, and the old file is removed; nothing is orphaned when N shrinks.

Bounded: at most ``max_pending`` records wait to be forwarded (a record past that is refused, so the AP
gets no Accounting-Response and retransmits, as for a full disk: never acknowledged and then lost), and
a record still unforwarded ``max_age`` seconds after it arrived (its IdP gone for a week, or no route
for a record without a realm) is expired: deleted, counted and logged by the caller.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tsunagaru.net.workers import worker_path, worker_paths
from tsunagaru.radius import Packet
from tsunagaru.radius.accounting import record_key
from tsunagaru.secretfile import create_private

log = logging.getLogger("tsunagaru.anp")
DEFAULT_MAX_PENDING = 1_000_000  # ~0.5 GB of spool: a week of a large city's interims to one dead IdP
DEFAULT_MAX_AGE = 7 * 86400.0
COLUMNS = "record_key, client, realm, packet, received_at, attempts, next_attempt, sent_at"

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


class SpoolFull(Exception):
    """The spool holds ``max_pending`` records not yet forwarded: this one is not stored (nor acknowledged)."""


class AccountingSpool:
    """A small queue on SQLite. Not thread-safe: one owner (the ANP's event loop) calls it."""

    def __init__(self, path: Path | str, siblings: Sequence[Path] = (), *,
                 max_pending: int = DEFAULT_MAX_PENDING, max_age: float = DEFAULT_MAX_AGE) -> None:
        self.path = Path(path)
        self.max_pending, self.max_age = max_pending, max_age
        self.siblings = {Path(p): None for p in siblings}  # the other workers' spools (opened when they exist)
        self._sibling_db: dict[Path, sqlite3.Connection] = {}
        create_private(self.path)  # accounting: 0600 from the first byte (SQLite would use the umask)
        self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)  # one spool thread
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self._pending = self.pending()  # kept up to date by put/mark_sent/expire/adopt: no count per insert

    def close(self) -> None:
        self.db.close()
        for db in self._sibling_db.values():
            db.close()
        self._sibling_db.clear()

    def put(self, client: str, realm: str | None, packet: Packet, raw: bytes, now: float) -> bool:
        """Store a record durably; False when the same record is already stored (a retransmission),
        here or in a sibling worker's spool."""
        key = spool_key(client, packet)
        if self.siblings and self._in_sibling(key):
            return False
        if self._pending >= self.max_pending:
            if self.db.execute("SELECT 1 FROM acct_spool WHERE record_key = ?", (key,)).fetchone():
                return False  # a retransmission of a stored record is still acknowledged
            raise SpoolFull(f"{self._pending} accounting records wait to be forwarded (max_pending)")
        cur = self.db.execute(
            "INSERT OR IGNORE INTO acct_spool (record_key, client, realm, packet, received_at, next_attempt)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key, client, realm, raw, now, now),
        )
        self._pending += cur.rowcount
        return cur.rowcount == 1

    def _in_sibling(self, key: str) -> bool:
        for path in self.siblings:
            db = self._sibling_db.get(path)
            if db is None:
                try:  # never created here: a worker not started yet has no spool to look in
                    db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None,
                                         check_same_thread=False, timeout=5.0)
                    db.execute("SELECT 1 FROM acct_spool LIMIT 1")
                except sqlite3.Error:
                    continue
                self._sibling_db[path] = db
            try:
                if db.execute("SELECT 1 FROM acct_spool WHERE record_key = ?", (key,)).fetchone():
                    return True
            except sqlite3.Error as exc:  # the sibling's file went away (adopted): look again next time
                log.debug("sibling spool %s not readable: %s", path.name, exc)
                self._sibling_db.pop(path).close()
        return False

    def adopt(self, other: Path) -> int:
        """Move every row of another spool file into this one (one transaction; a row already here by its
        key stays as it is), then remove that file. Returns how many rows were not yet forwarded."""
        self.db.execute("ATTACH DATABASE ? AS orphan", (str(other),))
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                (pending,) = self.db.execute("SELECT count(*) FROM orphan.acct_spool WHERE sent_at IS NULL"
                                             ).fetchone()
                self.db.execute(f"INSERT OR IGNORE INTO main.acct_spool ({COLUMNS}) "
                                f"SELECT {COLUMNS} FROM orphan.acct_spool")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        finally:
            self.db.execute("DETACH DATABASE orphan")
        for suffix in ("-wal", "-shm", "-journal", ""):  # the main file last: a crash before leaves it to adopt again
            with contextlib.suppress(FileNotFoundError):
                Path(f"{other}{suffix}").unlink()
        self.pending()
        return int(pending)

    def due(self, now: float, limit: int = 256) -> list[SpooledRecord]:
        rows = self.db.execute(
            "SELECT id, client, realm, packet, received_at, attempts FROM acct_spool"
            " WHERE sent_at IS NULL AND next_attempt <= ? ORDER BY id LIMIT ?",
            (now, limit),
        ).fetchall()
        return [SpooledRecord(*row) for row in rows]

    def mark_sent(self, record_id: int, now: float) -> None:
        cur = self.db.execute("UPDATE acct_spool SET sent_at = ? WHERE id = ? AND sent_at IS NULL", (now, record_id))
        self._pending -= cur.rowcount

    def mark_failed(self, record_id: int, now: float, *, base: float = 1.0, cap: float = 300.0) -> float:
        """Schedule the next attempt with exponential back-off; returns its time."""
        (attempts,) = self.db.execute("SELECT attempts FROM acct_spool WHERE id = ?", (record_id,)).fetchone()
        delay = float(min(cap, base * (2 ** min(int(attempts), 16))))
        self.db.execute("UPDATE acct_spool SET attempts = attempts + 1, next_attempt = ? WHERE id = ?",
                        (now + delay, record_id))
        return now + delay

    def pending(self) -> int:
        (n,) = self.db.execute("SELECT count(*) FROM acct_spool WHERE sent_at IS NULL").fetchone()
        self._pending = int(n)
        return self._pending

    def expire(self, now: float) -> int:
        """Delete the records not forwarded within ``max_age`` of their arrival; returns how many."""
        cur = self.db.execute("DELETE FROM acct_spool WHERE sent_at IS NULL AND received_at < ?",
                              (now - self.max_age,))
        self._pending -= cur.rowcount
        return cur.rowcount

    def purge_sent(self, older_than: float) -> int:
        cur = self.db.execute("DELETE FROM acct_spool WHERE sent_at IS NOT NULL AND sent_at < ?", (older_than,))
        return cur.rowcount


def open_spool(base: Path, worker: int | None = None, workers: int = 1, *,
               max_pending: int = DEFAULT_MAX_PENDING, max_age: float = DEFAULT_MAX_AGE) -> AccountingSpool:
    """The spool of a single process (``base``) or of pre-fork worker ``worker`` of ``workers``
    (``max_pending`` is per spool, so per worker)."""
    siblings = [] if worker is None else [worker_path(base, j) for j in range(workers) if j != worker]
    return AccountingSpool(worker_path(base, worker), siblings, max_pending=max_pending, max_age=max_age)


def orphans(base: Path, worker: int | None, workers: int) -> list[Path]:
    """Spool files no configured worker owns: ``base.wN`` for N >= ``workers`` (all of them for a single
    process), and ``base`` itself for workers. Only the first worker (or the single process) adopts them."""
    if worker not in (None, 0):
        return []
    found = [p for i, p in sorted(worker_paths(base).items()) if worker is None or i >= workers]
    if worker is not None and base.exists():
        found.insert(0, base)
    return found


def adopt_orphans(spool: AccountingSpool, base: Path, worker: int | None, workers: int) -> int:
    """Adopt the orphaned spools (at start, before listening); returns the records still to forward."""
    pending = 0
    for path in orphans(base, worker, workers):
        if path == spool.path:
            continue
        try:
            count = spool.adopt(path)
        except sqlite3.Error as exc:  # left where it is, for the next start (and the operator) to see
            log.error("spool %s not adopted: %s", path, exc)
            continue
        pending += count
        log.info("adopted spool %s: %d records to forward", path.name, count)
    return pending
