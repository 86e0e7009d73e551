"""Incidents: a notice leads publish about a problem many customers share, who was told,
and when leads were last alerted to a surge (bot/incidents/).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("intent", sa.String(64), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("opened_by", sa.Integer(), sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closed_by", sa.Integer(), sa.ForeignKey("agents.id")),
        sa.Column("closed_at", sa.DateTime()),
        sa.Column("close_text", sa.Text()),
    )
    op.create_index(
        "uq_incidents_open_intent",
        "incidents",
        ["intent"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "incident_texts",
        sa.Column(
            "incident_id",
            sa.Integer(),
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("language", sa.String(16), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(8), nullable=False),
    )
    op.create_table(
        "incident_customers",
        sa.Column(
            "incident_id",
            sa.Integer(),
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("told_at", sa.DateTime(), nullable=False),
        sa.Column("fixed_told_at", sa.DateTime()),
    )
    op.create_index(
        "ix_incident_customers_conversation_id", "incident_customers", ["conversation_id"]
    )
    op.create_table(
        "surge_alerts",
        sa.Column("intent", sa.String(64), primary_key=True),
        sa.Column("alerted_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_messages_intent_created_at", "messages", ["intent", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_intent_created_at", table_name="messages")
    op.drop_table("surge_alerts")
    op.drop_index("ix_incident_customers_conversation_id", table_name="incident_customers")
    op.drop_table("incident_customers")
    op.drop_table("incident_texts")
    op.drop_index("uq_incidents_open_intent", table_name="incidents")
    op.drop_table("incidents")
