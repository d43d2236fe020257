"""The ANP nodes' RadSec peer states per realm (``ops_idp_peers``, :class:`tsunagaru.store.ops_tables.IdpPeerRow`).

Revision ID: 0006_idp_peers
Revises: 0005_change_feed

Written out column by column so the revision keeps its meaning when the table module changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_idp_peers"
down_revision = "0005_change_feed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ops_idp_peers",
        sa.Column("node", sa.String(80), nullable=False),
        sa.Column("realm", sa.String(253), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("server_name", sa.String(253), nullable=False),
        sa.Column("found", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_since", sa.DateTime(), nullable=True),
        sa.Column("last_reply", sa.DateTime(), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("timeouts", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("node", "realm", "host", "port", "server_name"),
    )
    op.create_index("ix_ops_idp_peers_updated_at", "ops_idp_peers", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_ops_idp_peers_updated_at", "ops_idp_peers")
    op.drop_table("ops_idp_peers")
