"""Disaster incidents (``ops_incidents``); and the ops activity/usage tables when nothing made them yet.

Revision ID: 0004_incidents
Revises: 0002_web_auth

The incidents table is written out column by column so the revision keeps its meaning when
:mod:`tsunagaru.store.incident_tables` changes. The tables of :mod:`tsunagaru.store.ops_tables` had no
revision when this was written (that part predates Alembic here): they are created from the models, only
where missing, so a later revision of their own (or one that landed first) is not disturbed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_incidents"
down_revision = "0002_web_auth"
branch_labels = None
depends_on = None

OPS_TABLES = ("ops_activity", "ops_activity_reject", "ops_activity_realm", "ops_accounting_session",
              "ops_usage_hourly")


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

    from tsunagaru.store import ops_tables  # noqa: F401 - registers the tables on the metadata
    from tsunagaru.store.base import Base

    bind = op.get_bind()
    for name in OPS_TABLES:
        Base.metadata.tables[name].create(bind, checkfirst=True)


def downgrade() -> None:
    op.drop_index("ix_ops_incidents_municipality_code", "ops_incidents")
    op.drop_index("ix_ops_incidents_live", "ops_incidents")
    op.drop_table("ops_incidents")
