"""Poll times of the APs, gathered in memory and written in batches.

Every AP polls every minute; writing each poll in its own transaction makes the store's commit (an
fsync on SQLite) the cost of the whole endpoint. The book keeps the newest change per AP and writes
them in one transaction when it is ``interval`` seconds old or holds ``limit`` APs, from whichever
request crosses the line (no background task to own). A crash loses at most that window of poll
times: the next poll writes them again, and a served version not yet written is simply served again.
Reads that need the exact state (a status report) flush the book first.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, bindparam, update

from tsunagaru.store.registry_tables import AccessPoint

_SERVED = (update(AccessPoint).where(AccessPoint.id == bindparam("ap"))
           .values(config_version=bindparam("v"), config_served_at=bindparam("t"), polled_at=bindparam("t")))
_POLLED = update(AccessPoint).where(AccessPoint.id == bindparam("ap")).values(polled_at=bindparam("t"))


class PollBook:
    def __init__(self, engine: Engine, interval: float = 1.0, limit: int = 2000) -> None:
        self.engine = engine
        self.interval = interval
        self.limit = limit
        self._served: dict[int, dict[str, Any]] = {}
        self._polled: dict[int, dict[str, Any]] = {}
        self._since: float | None = None
        self._lock = threading.Lock()

    def served(self, ap_id: int, version: str, now: Any, mono: float) -> None:
        with self._lock:
            self._polled.pop(ap_id, None)
            self._served[ap_id] = {"ap": ap_id, "v": version, "t": now}
        self._maybe_flush(mono)

    def served_version(self, ap_id: int) -> str | None:
        entry = self._served.get(ap_id)
        return None if entry is None else str(entry["v"])

    def polled(self, ap_id: int, now: Any, mono: float) -> None:
        with self._lock:
            if ap_id in self._served:
                return  # the served entry's time stands for this poll too (it is within the window)
            self._polled[ap_id] = {"ap": ap_id, "t": now}
        self._maybe_flush(mono)

    def pending(self, ap_id: int) -> bool:
        return ap_id in self._served or ap_id in self._polled

    def _maybe_flush(self, mono: float) -> None:
        if self._since is None:
            self._since = mono
        if mono - self._since >= self.interval or len(self._served) + len(self._polled) >= self.limit:
            self.flush()

    def flush(self) -> None:
        if not self._served and not self._polled:
            return
        with self._lock:
            served, polled = list(self._served.values()), list(self._polled.values())
            self._served, self._polled, self._since = {}, {}, None
        if not served and not polled:
            return
        with self.engine.begin() as conn:
            if served:
                conn.execute(_SERVED.execution_options(synchronize_session=False), served)
            if polled:
                conn.execute(_POLLED.execution_options(synchronize_session=False), polled)
