"""Fixtures for "the same tests on SQLite and on a real PostgreSQL"; conftests import them by name.

``TSUNAGARU_TEST_DB`` picks the backends: unset, the ``store`` fixture runs each test on both; ``sqlite``
or ``postgresql`` runs only that one, and fixtures that open a store of their own through
:func:`backend_url` (the web app's, the enrolment portal's) use it too, so ``make test`` can run a subset
of the other parts' tests against a private PostgreSQL (``make pytest-pg``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pgserver import PgServer, postgres_server
from tsunagaru.store import Store

ENV = "TSUNAGARU_TEST_DB"
BACKENDS = ("sqlite", "postgresql")


def chosen() -> str | None:
    """The backend ``TSUNAGARU_TEST_DB`` names, or None (both, where a test runs on both)."""
    value = os.environ.get(ENV, "").strip().lower()
    if not value:
        return None
    if value in ("postgres", "pg"):
        value = "postgresql"
    if value not in BACKENDS:
        raise pytest.UsageError(f"{ENV}={value!r}: use sqlite or postgresql")
    return value


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    with postgres_server() as server:
        yield server


@contextlib.contextmanager
def backend_url(request: pytest.FixtureRequest, sqlite_path: Path) -> Iterator[str]:
    """A database URL for a fixture that opens its own store: a fresh PostgreSQL database when
    ``TSUNAGARU_TEST_DB=postgresql`` (dropped afterwards), else SQLite at ``sqlite_path``."""
    if chosen() != "postgresql":
        yield f"sqlite:///{sqlite_path}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    with server.database(migrated=True) as url:
        yield url


@pytest.fixture(params=[chosen()] if chosen() else list(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store on each backend; the PostgreSQL server starts only when asked for."""
    if request.param == "sqlite":
        opened = Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")
        try:
            yield opened
        finally:
            opened.dispose()
        return
    server: PgServer = request.getfixturevalue("pg_server")
    with server.database() as url:
        opened = Store.open(url)
        try:
            yield opened
        finally:
            opened.dispose()
