"""readouts: the signed readouts issued to each audience, sealed

Revision ID: 0012
Revises: 0011
Create Date: 2027-03-01 10:00:00

A new table only (``readouts``); downgrading drops it with what it holds.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "readouts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column(
            "dialogue_id",
            sa.String(length=32),
            sa.ForeignKey("dialogues.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("audience", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("page", sa.String(length=8), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("issued_by", sa.String(length=32), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("readouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_readouts_dialogue_id"), ["dialogue_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("readouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_readouts_dialogue_id"))
    op.drop_table("readouts")
