"""Alembic migrations: upgrade on SQLite and real PostgreSQL, models match, legacy adoption, append-only audit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from tsunagaru.cli import main
from tsunagaru.store import Store, make_engine
from tsunagaru.store.base import Base
from tsunagaru.store.migrate import alembic_config, current, downgrade, head, target_metadata, upgrade

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_one_head_and_the_chain_starts_at_0001_initial() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripts.get_bases() == ["0001_initial"]
    assert len(scripts.get_heads()) == 1 and head() == scripts.get_heads()[0]


def test_store_open_is_at_head_and_models_match(store: Store) -> None:
    assert current(store.engine) == head()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), target_metadata())
    assert diff == []


def test_upgrade_twice_is_a_no_op(store: Store) -> None:
    assert upgrade(store.engine) == head()
    assert upgrade(store.engine) == head()


def test_upgrade_takes_a_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'u.sqlite'}"
    assert upgrade(url) == head()
    engine = make_engine(url)
    try:
        assert "reg_sites" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_pre_alembic_database_is_adopted(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    try:
        target_metadata()
        legacy = [Base.metadata.tables[n] for n in ("schema_version", "idp_users", "idp_user_certificates")]
        Base.metadata.create_all(engine, tables=legacy)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO idp_users (username, realm, enabled, mschapv2_enabled, created_at, "
                              "updated_at) VALUES ('old', 'r', 1, 0, '2026-01-01', '2026-01-01')"))
        assert upgrade(engine) == head()
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT username FROM idp_users")) == "old"
            assert {"reg_sites", "reg_audit", "idp_accounting"} <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_the_audit_log_refuses_update_and_delete(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO reg_audit (at, actor, role, action, resource_type, resource_id) "
                          "VALUES (:at, 'cli:test', 'city-admin', 'site.create', 'site', '1')"), {"at": NOW})
    for sql in ("UPDATE reg_audit SET actor = 'someone else'", "DELETE FROM reg_audit"):
        with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(sql))
    with store.engine.connect() as conn:
        assert conn.scalar(text("SELECT actor FROM reg_audit")) == "cli:test"


def test_db_upgrade_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["db", "upgrade", "--db", url]) == 0
    assert head() in capsys.readouterr().out
    assert main(["db", "current", "--db", url]) == 0


def test_db_upgrade_of_an_unreachable_database_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--db", "mysql://x@127.0.0.1/none"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: database upgrade failed") and "Traceback" not in err


def test_the_whole_chain_downgrades_to_empty_and_upgrades_again(store: Store) -> None:
    assert downgrade(store.engine, "base") is None
    with store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    assert upgrade(store.engine) == head()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), target_metadata())
    assert diff == []
