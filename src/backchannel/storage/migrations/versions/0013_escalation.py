"""escalation models: the facilitator's GMCR model of a dialogue, sealed

Revision ID: 0013
Revises: 0012
Create Date: 2027-02-09 10:00:00

A new table only (``escalation_models``: one sealed conflict file per dialogue, with the
count of its saves); downgrading drops it with what it holds. Findings released from a
model are ordinary rows of ``releases``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalation_models",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column(
            "dialogue_id",
            sa.String(length=32),
            sa.ForeignKey("dialogues.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("escalation_models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalation_models_dialogue_id"), ["dialogue_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("escalation_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_models_dialogue_id"))
    op.drop_table("escalation_models")
