"""Follow the store's change counters (:mod:`tsunagaru.store.change_tables`) from a long-running node.

A :class:`ChangeFeed` runs one thread that wakes on PostgreSQL's ``NOTIFY tsunagaru_changes`` (a
dedicated autocommit connection doing ``LISTEN``) or every ``poll`` seconds, reads the counters, and
calls ``on_change(topic)`` for each topic whose serial moved. The comparison, not the notification,
decides: a notification lost while the listening connection was down, or a SQLite store (no
notifications at all), is caught by the next poll, so the poll interval bounds how late a change is
seen and NOTIFY only makes it early (about a second end to end). A database that cannot be reached is
retried with a bounded back-off and logged once per outage; the callback's own errors are logged and
never stop the thread.

:class:`SerialTracker` is the pure part: serials in, changed topics out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from tsunagaru.store.change_tables import CHANNEL, TOPICS, read_serials

log = logging.getLogger("tsunagaru.store.changes")

DEFAULT_POLL = 10.0  # seconds; the fallback bound (NOTIFY is the fast path on PostgreSQL)
MAX_BACKOFF = 30.0


@dataclass
class SerialTracker:
    """What moved since the last look. The first look only learns the serials (unless ``fire_first``)."""

    topics: tuple[str, ...] = TOPICS
    seen: dict[str, int] | None = None
    fire_first: bool = False

    def update(self, serials: dict[str, int]) -> list[str]:
        current = {t: serials.get(t, 0) for t in self.topics}
        before, self.seen = self.seen, current
        if before is None:
            return list(self.topics) if self.fire_first else []
        return [t for t in self.topics if current[t] != before[t]]


@dataclass
class ChangeFeed:
    """A thread calling ``on_change(topic)`` when a topic's counter moves; :meth:`start` and :meth:`stop`."""

    engine: Engine
    on_change: Callable[[str], None]
    topics: tuple[str, ...] = TOPICS
    poll: float = DEFAULT_POLL
    name: str = "changes"
    _tracker: SerialTracker = field(init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _down_since: float | None = field(default=None, init=False)
    wakeups: int = field(default=0, init=False)  # notifications received (for tests and logs)

    def __post_init__(self) -> None:
        if not 0.05 <= self.poll <= 60:
            raise ValueError("poll must be 0.05 to 60 seconds (a change must reach every node within a minute)")
        self._tracker = SerialTracker(self.topics)

    @property
    def listens(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def start(self) -> None:
        """Learn the current serials now (so a change made from here on is seen), then follow in a thread.
        If the store cannot be read yet, the first successful read reports every topic as changed."""
        try:
            self._check(first=True)
        except SQLAlchemyError as exc:
            self._tracker.fire_first = True
            self._outage(exc)
        self._thread = threading.Thread(target=self._run, name=f"tsunagaru-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _check(self, first: bool = False) -> None:
        with self.engine.connect() as conn:
            serials = read_serials(conn)
        if self._down_since is not None:
            log.info("%s: store reachable again after %.0f s", self.name, time.monotonic() - self._down_since)
            self._down_since = None
        for topic in self._tracker.update(serials):
            if first and not self._tracker.fire_first:
                continue
            try:
                self.on_change(topic)
            except Exception:
                log.exception("%s: handling a change of %s failed", self.name, topic)

    def _outage(self, exc: Exception) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.warning("%s: cannot read the change counters (%s); retrying", self.name, type(exc).__name__)

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                if self.listens:
                    self._listen()
                else:
                    self._stop.wait(self.poll)
                    if not self._stop.is_set():
                        self._check()
                backoff = 1.0
            except Exception as exc:  # the feed outlives database outages
                self._outage(exc)
                self._stop.wait(backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)

    def _listen(self) -> None:
        """LISTEN on a connection of our own; check at every notification and at least every ``poll``."""
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self._check()  # what changed while we were not listening
            while not self._stop.is_set():
                deadline = time.monotonic() + self.poll
                woke = False
                while not woke and not self._stop.is_set() and (left := deadline - time.monotonic()) > 0:
                    for _note in conn.notifies(timeout=min(1.0, left), stop_after=1):  # 1 s slices: stop() is seen
                        woke = True
                        self.wakeups += 1
                if not self._stop.is_set():
                    self._check()  # one read answers every notification queued so far


def follow(engine: Engine, on_change: Callable[[str], None], topics: Iterable[str], *, poll: float = DEFAULT_POLL,
           name: str = "changes") -> ChangeFeed:
    """A started :class:`ChangeFeed` (stop it at shutdown)."""
    feed = ChangeFeed(engine, on_change, tuple(topics), poll=poll, name=name)
    feed.start()
    return feed
