"""Small builders shared by the IdP tests."""

from __future__ import annotations

from datetime import UTC, datetime

from tsunagaru.idp.passwords import ScryptParams

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FAST = ScryptParams(n=2**8, r=8, p=1)  # real scrypt, test-sized cost
REALM = "idp.tsunagaru.test"


class Clock:
    """An injectable wall clock the tests move by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
