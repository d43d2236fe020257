"""Alembic environment: the one metadata of :mod:`tsunagaru.store.base`, every table module imported.

Run through :func:`tsunagaru.store.migrate.upgrade` (or ``tsunagaru db upgrade``), which hands over an
open connection in ``config.attributes["connection"]``; a plain URL in ``sqlalchemy.url`` also works.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tsunagaru.store.migrate import target_metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite needs batch mode
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from tsunagaru.store.engine import make_engine

    engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
run()
