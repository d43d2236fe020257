"""Stored alert history (``ops_alerts``, :class:`tsunagaru.store.ops_tables.AlertRow`).

Revision ID: 0005_alerts
Revises: 0004_incidents

Written out column by column so the revision keeps its meaning when the table module changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_alerts"
down_revision = "0004_incidents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ops_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("ap_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(300), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ops_alerts_open", "ops_alerts", ["ended_at", "subject"])
    op.create_index("ix_ops_alerts_ap_id", "ops_alerts", ["ap_id"])
    op.create_index("ix_ops_alerts_site_id", "ops_alerts", ["site_id"])
    op.create_index("ix_ops_alerts_started_at", "ops_alerts", ["started_at"])


def downgrade() -> None:
    for name in ("ix_ops_alerts_started_at", "ix_ops_alerts_site_id", "ix_ops_alerts_ap_id", "ix_ops_alerts_open"):
        op.drop_index(name, "ops_alerts")
    op.drop_table("ops_alerts")
