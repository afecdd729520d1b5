"""signed audit checkpoints; a second wrapping of each dialogue key during a KEK rotation

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-20 12:00:00

Downgrading drops the checkpoints (delegations keep their downloaded copies) and the
second wrappings (downgrade only when no rotation is in progress).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dialogue_id", sa.String(length=32), nullable=False),
        sa.Column("audience", sa.String(length=32), nullable=False),
        sa.Column("round_number", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["dialogue_id"], ["dialogues.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checkpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checkpoints_dialogue_id"), ["dialogue_id"], unique=False
        )
    with op.batch_alter_table("dialogue_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wrapped_next", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dialogue_keys", schema=None) as batch_op:
        batch_op.drop_column("wrapped_next")
    with op.batch_alter_table("checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkpoints_dialogue_id"))
    op.drop_table("checkpoints")
