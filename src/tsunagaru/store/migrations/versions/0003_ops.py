"""Operations: activity per AP per interval (with rejects by reason and realms), accounting sessions with
hashed ids, hourly usage aggregates (``tsunagaru.store.ops_tables``).

Revision ID: 0003_ops
Revises: 0001_initial

Chained after ``0001_initial`` because that was the newest revision when this was written; once
``0002_web_auth`` lands, ``down_revision`` becomes ``"0002_web_auth"`` (one line) so the chain keeps one head.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_ops"
down_revision = "0002_web_auth"
branch_labels = None
depends_on = None

AP_KEY = 128


def _ints(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(n, sa.Integer(), nullable=False) for n in names]


def _bigints(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(n, sa.BigInteger(), nullable=False) for n in names]


def _per_interval(name: str, key: sa.Column[object]) -> None:
    """A detail table of ops_activity: (AP, interval, key) -> count."""
    op.create_table(
        name,
        sa.Column("ap_key", sa.String(AP_KEY), nullable=False),
        sa.Column("interval_start", sa.DateTime(), nullable=False),
        key,
        *_ints("count"),
        sa.PrimaryKeyConstraint("ap_key", "interval_start", key.name),
    )
    op.create_index(f"ix_{name}_interval_start", name, ["interval_start"])


def upgrade() -> None:
    op.create_table(
        "ops_activity",
        sa.Column("ap_key", sa.String(AP_KEY), nullable=False),
        sa.Column("interval_start", sa.DateTime(), nullable=False),
        *_ints("interval_s"),
        sa.Column("last_request", sa.DateTime(), nullable=False),
        *_ints("accepts", "rejects", "challenges", "status_server", "acct_starts", "acct_interims", "acct_stops"),
        *_bigints("octets_in", "octets_out"),
        sa.PrimaryKeyConstraint("ap_key", "interval_start"),
    )
    op.create_index("ix_ops_activity_interval_start", "ops_activity", ["interval_start"])
    _per_interval("ops_activity_reject", sa.Column("reason", sa.Integer(), nullable=False))
    _per_interval("ops_activity_realm", sa.Column("realm", sa.String(253), nullable=False))
    op.create_table(
        "ops_accounting_session",
        sa.Column("session_key", sa.String(40), nullable=False),
        sa.Column("ap_key", sa.String(AP_KEY), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=True),
        sa.Column("realm", sa.String(253), nullable=True),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("started", sa.Boolean(), nullable=False),
        sa.Column("stopped", sa.Boolean(), nullable=False),
        *_bigints("octets_in", "octets_out"),
        *_ints("session_time_s"),
        sa.PrimaryKeyConstraint("session_key"),
    )
    for column in ("ap_key", "first_at", "last_at"):
        op.create_index(f"ix_ops_accounting_session_{column}", "ops_accounting_session", [column])
    op.create_table(
        "ops_usage_hourly",
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("key", sa.String(253), nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        *_ints("sessions", "users"),
        *_bigints("octets_in", "octets_out", "duration_total_s"),
        *_ints("duration_median_s"),
        sa.PrimaryKeyConstraint("dimension", "key", "hour"),
    )
    op.create_index("ix_ops_usage_hourly_hour", "ops_usage_hourly", ["hour"])


def downgrade() -> None:
    for table in ("ops_usage_hourly", "ops_accounting_session", "ops_activity_realm", "ops_activity_reject",
                  "ops_activity"):
        op.drop_table(table)
