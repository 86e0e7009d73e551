"""SLA warning times and alerts: when a ticket's warning is due, which alerts were sent.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Tickets opened before this revision get no warning time (their due time stays); the
breach alert still comes (bot/handoff/sla.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("sla_warn_at", sa.DateTime()))
    op.add_column("tickets", sa.Column("sla_warned_at", sa.DateTime()))
    op.add_column("tickets", sa.Column("sla_breach_alerted_at", sa.DateTime()))
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE")),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_alerts_created_at", "alerts", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_alerts_created_at", table_name="alerts")
    op.drop_table("alerts")
    with op.batch_alter_table("tickets") as batch:  # SQLite drops columns by copying
        batch.drop_column("sla_breach_alerted_at")
        batch.drop_column("sla_warned_at")
        batch.drop_column("sla_warn_at")
