"""Change counters and the triggers that bump them (``store_changes``, :mod:`tsunagaru.store.change_tables`).

Revision ID: 0005_change_feed
Revises: 0004_incidents

The watched tables and columns are written out here (not read from the table modules) so the revision
keeps its meaning. PostgreSQL: one statement-level trigger per table that bumps the topic's serial and
sends ``NOTIFY tsunagaru_changes, '<topic>'`` (delivered at commit, one per transaction and topic).
SQLite has only row-level triggers and no notifications: one trigger per event, bumping the serial.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_change_feed"
down_revision = "0004_incidents"
branch_labels = None
depends_on = None

# table -> (topic, columns whose UPDATE counts; None: every UPDATE, (): no UPDATE, insert: INSERT counts)
WATCHED: dict[str, tuple[str, tuple[str, ...] | None, bool]] = {
    "reg_aps": ("clients", ("site_id", "nas_network", "nas_identifier", "secret_ref", "state"), True),
    "reg_sites": ("clients", ("name", "address", "municipality_code", "state"), False),  # a new site has no APs
    "reg_municipalities": ("clients", ("name_ja",), False),
    "ops_incidents": ("clients", None, True),
    "idp_users": ("credentials", None, True),
    "idp_user_certificates": ("credentials", None, True),
}


def _events(columns: tuple[str, ...] | None, insert: bool) -> list[tuple[str, str]]:
    """(trigger name suffix, SQL event) pairs."""
    events = [("ins", "INSERT")] if insert else []
    events.append(("del", "DELETE"))
    events.append(("upd", "UPDATE" if columns is None else f"UPDATE OF {', '.join(columns)}"))
    return events


def upgrade() -> None:
    op.create_table(
        "store_changes",
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("topic"),
    )
    op.execute("INSERT INTO store_changes (topic, serial) VALUES ('clients', 0), ('credentials', 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION store_changes_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "UPDATE store_changes SET serial = serial + 1 WHERE topic = TG_ARGV[0]; "
            "PERFORM pg_notify('tsunagaru_changes', TG_ARGV[0]); RETURN NULL; END $$")
        for table, (topic, columns, insert) in WATCHED.items():
            events = " OR ".join(sql for _, sql in _events(columns, insert))
            op.execute(f"CREATE TRIGGER {table}_changes AFTER {events} ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION store_changes_bump('{topic}')")
        return
    for table, (topic, columns, insert) in WATCHED.items():
        for suffix, sql in _events(columns, insert):
            op.execute(f"CREATE TRIGGER {table}_changes_{suffix} AFTER {sql} ON {table} "
                       f"BEGIN UPDATE store_changes SET serial = serial + 1 WHERE topic = '{topic}'; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_changes ON {table}")
        op.execute("DROP FUNCTION IF EXISTS store_changes_bump()")
    else:
        for table, (_, columns, insert) in WATCHED.items():
            for suffix, _sql in _events(columns, insert):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_changes_{suffix}")
    op.drop_table("store_changes")
