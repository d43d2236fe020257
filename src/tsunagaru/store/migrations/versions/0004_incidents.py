"""Disaster incidents (``ops_incidents``, :mod:`tsunagaru.store.incident_tables`).

Revision ID: 0004_incidents
Revises: 0003_enrol

Written out column by column so the revision keeps its meaning when the table module changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_incidents"
down_revision = "0003_enrol"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ops_incidents",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("area", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("affected", sa.JSON(), nullable=False),
        sa.Column("municipality_code", sa.String(6), nullable=True),
        sa.Column("declared_by", sa.String(200), nullable=False),
        sa.Column("declared_at", sa.DateTime(), nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("ended_by", sa.String(200), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ops_incidents_live", "ops_incidents", ["status", "ends_at"])
    op.create_index("ix_ops_incidents_municipality_code", "ops_incidents", ["municipality_code"])


def downgrade() -> None:
    op.drop_index("ix_ops_incidents_municipality_code", "ops_incidents")
    op.drop_index("ix_ops_incidents_live", "ops_incidents")
    op.drop_table("ops_incidents")
