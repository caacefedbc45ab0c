"""Initial schema: incidents, timeline, action journal, decisions, outcomes.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("service", sa.String(100), nullable=False, index=True),
        sa.Column("state", sa.String(32), nullable=False, index=True),
        sa.Column("signature", sa.String(200), nullable=False),
        sa.Column("opened_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("resolved_at", sa.Float, nullable=True),
        sa.Column("escalated_at", sa.Float, nullable=True),
        sa.Column("services", sa.JSON, nullable=False),
    )
    op.create_table(
        "timeline",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.String(64), nullable=False, index=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_table(
        "action_runs",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("incident_id", sa.String(64), nullable=False, index=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("intent_at", sa.Float, nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("ok", sa.Boolean, nullable=True),
        sa.Column("changed", sa.Boolean, nullable=True),
        sa.Column("retryable", sa.Boolean, nullable=True),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.String(64), nullable=False, index=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.String(64), nullable=False, index=True),
        sa.Column("signature", sa.String(200), nullable=False, index=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for name in ("outcomes", "decisions", "action_runs", "timeline", "incidents"):
        op.drop_table(name)
