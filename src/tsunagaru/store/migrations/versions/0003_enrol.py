"""The enrolment portal: accounts by e-mail, one-time codes, devices, tokens and profile links.

Revision ID: 0003_enrol
Revises: 0003_ops

Written out column by column so the revision keeps its meaning when :mod:`tsunagaru.store.enrol_tables`
changes later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_enrol"
down_revision = "0003_ops"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def _fk(name: str, target: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target, ondelete="CASCADE"), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "enrol_accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _when("created_at"),
        _when("disabled_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "enrol_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("email", "source", "created_at"):
        op.create_index(f"ix_enrol_codes_{column}", "enrol_codes", [column])
    op.create_table(
        "enrol_devices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _fk("account_id", "enrol_accounts.id"),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("idp_username", sa.String(64), nullable=False),
        sa.Column("cert_serial", sa.String(64), nullable=True),
        _when("created_at"),
        _when("expires_at"),
        _when("revoked_at", nullable=True),
        _when("revoke_at", nullable=True),
        sa.Column("replaced_by", sa.Integer(), nullable=True),
        _when("reminder_sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idp_username"),
    )
    op.create_index("ix_enrol_devices_account_id", "enrol_devices", ["account_id"])
    op.create_index("ix_enrol_devices_expires_at", "enrol_devices", ["expires_at"])
    op.create_table(
        "enrol_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _fk("account_id", "enrol_accounts.id"),
        _fk("device_id", "enrol_devices.id", nullable=True),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
        sa.Column("content_type", sa.String(64), nullable=True),
        sa.Column("filename", sa.String(64), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )
    op.create_index("ix_enrol_tokens_account_id", "enrol_tokens", ["account_id"])
    op.create_index("ix_enrol_tokens_expires_at", "enrol_tokens", ["expires_at"])


def downgrade() -> None:
    for table in ("enrol_tokens", "enrol_devices", "enrol_codes", "enrol_accounts"):
        op.drop_table(table)
