"""Agent roles: leads publish incident notices and read the dashboard (bot/handoff/agents.py);
a surge alert names its intent (bot/alerts.py), for the lead to publish from.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Everyone already there stays an agent: a lead is named on purpose
    # (`python -m bot agents role --name N --role lead`), never by an upgrade.
    op.add_column(
        "agents", sa.Column("role", sa.String(10), nullable=False, server_default="agent")
    )
    op.add_column("alerts", sa.Column("intent", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("intent")
    with op.batch_alter_table("agents") as batch:  # SQLite drops columns by copying
        batch.drop_column("role")
