"""ITSM records (incidents, changes, problems) and the hash-chained audit log.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "itsm_incidents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("service", sa.String(100), nullable=False, index=True),
        sa.Column("services", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("engine_state", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(2), nullable=False, index=True),
        sa.Column("impact", sa.Integer, nullable=False),
        sa.Column("urgency", sa.Integer, nullable=False),
        sa.Column("assignment_group", sa.String(100), nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
        sa.Column("symptoms", sa.JSON, nullable=False),
        sa.Column("opened_at", sa.Float, nullable=False, index=True),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("responded_at", sa.Float, nullable=True),
        sa.Column("resolved_at", sa.Float, nullable=True),
        sa.Column("closed_at", sa.Float, nullable=True),
        sa.Column("response_due_at", sa.Float, nullable=False),
        sa.Column("resolution_due_at", sa.Float, nullable=False),
        sa.Column("response_breached_at", sa.Float, nullable=True),
        sa.Column("resolution_breached_at", sa.Float, nullable=True),
        sa.Column("breached", sa.Boolean, nullable=False, index=True),
        sa.Column("escalated", sa.Boolean, nullable=False),
        sa.Column("resolution", sa.Text, nullable=False),
        sa.Column("problem_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "itsm_changes",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("incident_id", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(24), nullable=False, index=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("runbook", sa.String(64), nullable=False),
        sa.Column("risk", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("requested_at", sa.Float, nullable=False, index=True),
        sa.Column("approved_at", sa.Float, nullable=True),
        sa.Column("approved_by", sa.String(100), nullable=False),
        sa.Column("action_key", sa.String(200), nullable=False, index=True),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("started_at", sa.Float, nullable=True),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("closed_at", sa.Float, nullable=True),
        sa.Column("backout_of", sa.String(120), nullable=False),
    )
    op.create_table(
        "itsm_problems",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("signature", sa.String(200), nullable=False, index=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("opened_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("incident_ids", sa.JSON, nullable=False),
        sa.Column("known_error", sa.Text, nullable=False),
        sa.Column("workaround", sa.Text, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.Float, nullable=False, index=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("subject", sa.String(200), nullable=False, index=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    # The one head row exists from the start, so concurrent appends all lock the same row.
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    for name in ("audit_head", "audit_log", "itsm_problems", "itsm_changes", "itsm_incidents"):
        op.drop_table(name)
