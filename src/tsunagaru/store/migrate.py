"""Schema migrations with Alembic: :func:`upgrade` is what every part calls instead of ``create_all``.

The scripts live inside the package (``tsunagaru/store/migrations``) so an installed wheel can migrate
its own database. Revision ids are fixed strings (``0001_initial``, ``0002_web_auth``, ...) so that
branches written in parallel chain without guessing hashes.

A database made by ``create_all`` before Alembic existed (IdP tables, no ``alembic_version``) is
adopted: ``0001_initial`` creates only the tables it lacks, then later revisions run as usual.
"""

from __future__ import annotations

import importlib
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData

from tsunagaru.store.base import Base


def target_metadata() -> MetaData:
    """The product's one metadata, with every table module imported (so nothing is missed)."""
    from tsunagaru.store.engine import TABLE_MODULES

    for name in TABLE_MODULES:
        importlib.import_module(name)
    return Base.metadata


def script_location() -> Path:
    return Path(str(resources.files("tsunagaru.store") / "migrations"))


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location()))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head() -> str:
    """The newest revision id the code knows."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads ({', '.join(heads)}): chain them")
    return heads[0]


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty (or pre-Alembic) database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(target: Engine | str, revision: str = "head") -> str | None:
    """Bring the database at ``target`` (an engine or a URL) to ``revision``; returns the new revision."""
    from tsunagaru.store.engine import make_engine

    engine = make_engine(target) if isinstance(target, str) else target
    try:
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        return current(engine)
    finally:
        if isinstance(target, str):
            engine.dispose()


def downgrade(target: Engine | str, revision: str) -> str | None:
    """Take the database at ``target`` back to ``revision`` (``base``: empty); returns the new revision.
    For operators undoing an upgrade (the chain is tested both ways on SQLite and PostgreSQL)."""
    from tsunagaru.store.engine import make_engine

    engine = make_engine(target) if isinstance(target, str) else target
    try:
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
        return current(engine)
    finally:
        if isinstance(target, str):
            engine.dispose()
