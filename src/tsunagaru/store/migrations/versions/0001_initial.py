"""Initial schema: the IdP's tables (users, certificates, accounting) and the site registry.

Revision ID: 0001_initial
Revises: (none)

Written out column by column (not ``create_all``) so that this revision keeps meaning what it meant when
the models change later. The IdP's tables may already exist in a database made by ``create_all``
before Alembic: those are adopted (created only when missing). The audit log gets triggers that refuse
UPDATE and DELETE, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# tables that existed before Alembic (Store.open used create_all); adopted when found
LEGACY = ("schema_version", "idp_users", "idp_user_certificates", "idp_accounting")


def _table(name: str, *items: Any, indexes: tuple[tuple[str, ...], ...] = ()) -> None:
    """Create a table and its indexes: ``(column,)`` is named ``ix_<table>_<column>`` as SQLAlchemy
    names ``index=True``; a longer tuple is ``(index name, column, column...)``."""
    if name in LEGACY and sa.inspect(op.get_bind()).has_table(name):
        return
    op.create_table(name, *items)
    for columns in indexes:
        op.create_index(f"ix_{name}_{'_'.join(columns)}" if len(columns) == 1 else columns[0], name,
                        list(columns) if len(columns) == 1 else list(columns[1:]))


def _created_updated() -> tuple[sa.Column[Any], sa.Column[Any]]:
    return (sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False))


def upgrade() -> None:
    _table(
        "schema_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _table(
        "idp_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(253), nullable=False),
        sa.Column("realm", sa.String(253), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("nt_hash", sa.LargeBinary(16), nullable=True),
        sa.Column("mschapv2_enabled", sa.Boolean(), nullable=False),
        *_created_updated(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username", "realm", name="uq_idp_users_username_realm"),
        indexes=(("realm",), ("username",)),
    )
    _table(
        "idp_user_certificates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(1024), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=False),
        sa.Column("not_after", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["idp_users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint_sha256"),
        indexes=(("serial",), ("user_id",)),
    )
    _table(
        "idp_accounting",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(253), nullable=False),
        sa.Column("status_type", sa.Integer(), nullable=False),
        sa.Column("user_hash", sa.String(128), nullable=True),
        sa.Column("operator", sa.String(253), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("record_key", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_key"),
        indexes=(("operator",), ("received_at",), ("session_id",)),
    )
    _registry()
    _audit_append_only()


def _registry() -> None:
    _table(
        "reg_municipalities",
        sa.Column("code", sa.String(6), nullable=False),
        sa.Column("pref_code", sa.String(2), nullable=False),
        sa.Column("name_ja", sa.String(64), nullable=False),
        sa.Column("name_kana", sa.String(64), nullable=True),
        sa.Column("name_en", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        indexes=(("pref_code",),),
    )
    _table(
        "reg_organisations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("municipality_code", sa.String(6), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("note", sa.String(2000), nullable=True),
        *_created_updated(),
        sa.ForeignKeyConstraint(["municipality_code"], ["reg_municipalities.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        indexes=(("kind",), ("municipality_code",), ("state",)),
    )
    _table(
        "reg_sites",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(64), nullable=True),
        sa.Column("source_id", sa.String(64), nullable=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("name_kana", sa.String(300), nullable=True),
        sa.Column("name_en", sa.String(300), nullable=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("address", sa.String(400), nullable=True),
        sa.Column("address_extra", sa.String(400), nullable=True),
        sa.Column("municipality_code", sa.String(6), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("installer", sa.String(200), nullable=True),
        sa.Column("ssid", sa.String(64), nullable=True),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("checked_on", sa.String(10), nullable=True),
        *_created_updated(),
        sa.ForeignKeyConstraint(["municipality_code"], ["reg_municipalities.code"]),
        sa.ForeignKeyConstraint(["operator_id"], ["reg_organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "source_id", name="uq_reg_sites_source"),
        indexes=(("category",), ("municipality_code",), ("operator_id",), ("state",)),
    )
    _table(
        "reg_aps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("radios", sa.JSON(), nullable=False),
        sa.Column("bssids", sa.JSON(), nullable=False),
        sa.Column("nas_network", sa.String(64), nullable=True),
        sa.Column("nas_identifier", sa.String(253), nullable=True),
        sa.Column("secret_ref", sa.String(200), nullable=True),
        sa.Column("radsec_name", sa.String(253), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("config_version", sa.String(128), nullable=True),
        sa.Column("config_served_at", sa.DateTime(), nullable=True),
        sa.Column("polled_at", sa.DateTime(), nullable=True),
        sa.Column("reported_version", sa.String(128), nullable=True),
        sa.Column("reported_at", sa.DateTime(), nullable=True),
        sa.Column("report_result", sa.String(16), nullable=True),
        sa.Column("report_log", sa.String(2000), nullable=True),
        *_created_updated(),
        sa.ForeignKeyConstraint(["site_id"], ["reg_sites.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "name", name="uq_reg_aps_site_name"),
        indexes=(("nas_network",), ("site_id",), ("state",)),
    )
    _table(
        "reg_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("municipality_code", sa.String(6), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        indexes=(("actor",), ("at",), ("municipality_code",), ("organisation_id",),
                 ("ix_reg_audit_resource", "resource_type", "resource_id")),
    )


def _audit_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION reg_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'reg_audit is append-only (% refused)', TG_OP; END $$"
        )
        op.execute("CREATE TRIGGER reg_audit_append_only BEFORE UPDATE OR DELETE ON reg_audit "
                   "FOR EACH ROW EXECUTE FUNCTION reg_audit_refuse()")
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER reg_audit_no_{verb.lower()} BEFORE {verb} ON reg_audit "
                   f"BEGIN SELECT RAISE(ABORT, 'reg_audit is append-only ({verb} refused)'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS reg_audit_append_only ON reg_audit")
        op.execute("DROP FUNCTION IF EXISTS reg_audit_refuse()")
    for name in ("reg_audit", "reg_aps", "reg_sites", "reg_organisations", "reg_municipalities",
                 "idp_accounting", "idp_user_certificates", "idp_users", "schema_version"):
        op.drop_table(name)  # indexes and SQLite triggers go with their table
