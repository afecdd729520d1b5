"""blind dialogues: the dialogue setting, the nodes and the computations

Revision ID: 0014
Revises: 0013
Create Date: 2027-03-01 10:00:00

``dialogues.blind`` (false for every existing dialogue), and two new tables:
``blind_nodes`` (a node's token hash and its sealed certificate and address) and
``blind_computations`` (a finding asked of the nodes, its state and its sealed parties,
links, results and opened finding). Downgrading drops them with what they hold.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dialogues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blind", sa.Boolean(), nullable=True))
    op.execute(sa.table("dialogues", sa.column("blind", sa.Boolean)).update().values(blind=False))
    with op.batch_alter_table("dialogues", schema=None) as batch_op:
        batch_op.alter_column("blind", existing_type=sa.Boolean(), nullable=False)
    op.create_table(
        "blind_nodes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column(
            "dialogue_id",
            sa.String(length=32),
            sa.ForeignKey("dialogues.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "delegation_id",
            sa.String(length=32),
            sa.ForeignKey("delegations.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("blind_nodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blind_nodes_dialogue_id"), ["dialogue_id"])
    op.create_table(
        "blind_computations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column(
            "dialogue_id",
            sa.String(length=32),
            sa.ForeignKey("dialogues.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "round_id",
            sa.String(length=32),
            sa.ForeignKey("rounds.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("finding", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("blind_computations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blind_computations_dialogue_id"), ["dialogue_id"])


def downgrade() -> None:
    with op.batch_alter_table("blind_computations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blind_computations_dialogue_id"))
    op.drop_table("blind_computations")
    with op.batch_alter_table("blind_nodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blind_nodes_dialogue_id"))
    op.drop_table("blind_nodes")
    with op.batch_alter_table("dialogues", schema=None) as batch_op:
        batch_op.drop_column("blind")
