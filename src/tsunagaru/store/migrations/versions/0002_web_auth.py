"""The web app's accounts: users, page sessions, API tokens, AP tokens, AP enrolment secrets.

Revision ID: 0002_web_auth
Revises: 0001_initial

Written out column by column so the revision keeps its meaning when :mod:`tsunagaru.store.web_tables`
changes later.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002_web_auth"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def _fk(column: str, target: str, *, nullable: bool = False, cascade: bool = True) -> sa.Column[int]:
    return sa.Column(column, sa.Integer(), sa.ForeignKey(target, ondelete="CASCADE" if cascade else None),
                     nullable=nullable)


def _table(name: str, *columns: sa.Column[Any], unique: str, indexes: tuple[str, ...]) -> None:
    op.create_table(name, sa.Column("id", sa.Integer(), autoincrement=True, nullable=False), *columns,
                    sa.PrimaryKeyConstraint("id"), sa.UniqueConstraint(unique))
    for column in indexes:
        op.create_index(f"ix_{name}_{column}", name, [column])


def upgrade() -> None:
    _table(
        "web_users",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("municipality_code", sa.String(6), nullable=True),
        _fk("organisation_id", "reg_organisations.id", nullable=True, cascade=False),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        unique="username", indexes=("role",),
    )
    _table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        _fk("user_id", "web_users.id"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        unique="id_hash", indexes=("user_id", "expires_at"),
    )
    _table(
        "web_api_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        _fk("user_id", "web_users.id"),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        unique="token_hash", indexes=("user_id", "expires_at"),
    )
    _table(
        "web_ap_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        _fk("ap_id", "reg_aps.id"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        unique="token_hash", indexes=("ap_id",),
    )
    _table(
        "web_ap_enrolment_secrets",
        sa.Column("secret_hash", sa.String(64), nullable=False),
        _fk("organisation_id", "reg_organisations.id"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        unique="secret_hash", indexes=("organisation_id",),
    )


def downgrade() -> None:
    for table in ("web_ap_enrolment_secrets", "web_ap_tokens", "web_api_tokens", "web_sessions", "web_users"):
        op.drop_table(table)
