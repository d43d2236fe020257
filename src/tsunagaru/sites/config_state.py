"""An AP's configuration state from what was served and what it reported (pure, time passed in).

    current  the AP reported ``applied`` for the version it was last served
    pending  a newer version was served and the AP has not reported on it yet (within the grace time)
    failed   the AP reported ``error`` for the version it was last served
    silent   served and no report within the grace time, or no poll for longer than that: an AP that
             lost its report or its network must not look "pending" for ever
    new      never pulled a configuration
"""

from __future__ import annotations

from datetime import datetime, timedelta

# agents poll every 60 s with jitter: three missed polls is silence
SILENT_AFTER = timedelta(seconds=180)
STATES = ("current", "pending", "failed", "silent", "new")


def config_state(served_version: str | None, served_at: datetime | None, polled_at: datetime | None,
                 reported_version: str | None, reported_at: datetime | None, result: str | None, now: datetime,
                 silent_after: timedelta = SILENT_AFTER) -> str:
    """``served_at`` is when ``served_version`` was first served; ``polled_at`` the last poll of any kind."""
    if served_version is None or served_at is None:
        return "new"
    contacts = [t for t in (served_at, polled_at, reported_at) if t is not None]
    if now - max(contacts) > silent_after:
        return "silent"
    if reported_version == served_version:
        return "current" if result == "applied" else "failed"
    if now - served_at > silent_after:
        return "silent"  # polled, but no report on this version: the report was lost or the agent is stuck
    return "pending"
