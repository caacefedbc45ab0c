"""Crash safety: the parameters of each journalled action, the engine's checkpoints of
unfinished incidents, and engine-wide state such as the detectors' (restored after a
restart).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("action_runs", sa.Column("params", sa.JSON, nullable=True))
    op.add_column("action_runs", sa.Column("timeout_s", sa.Float, nullable=True))
    op.create_table(
        "engine_checkpoints",
        sa.Column("incident_id", sa.String(64), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "engine_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("engine_state")
    op.drop_table("engine_checkpoints")
    with op.batch_alter_table("action_runs") as batch:
        batch.drop_column("timeout_s")
        batch.drop_column("params")
