"""Fixtures for "the same tests on SQLite and on a real PostgreSQL"; conftests import them by name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pgserver import PgServer, postgres_server
from tsunagaru.store import Store


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
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
