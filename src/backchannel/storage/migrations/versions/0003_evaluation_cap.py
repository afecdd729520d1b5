"""evaluations: a cap per dialogue, and a digest of what each one read

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-12 10:00:00

``dialogues.evaluations_per_dialogue`` caps the evaluations of a dialogue in all its
rounds. A dialogue made before this revision gets the default cap, 20, or, when it has
already had more, its count so far plus its per-round ration (so that its next round
can still be evaluated). ``evaluations.inputs_digest`` is a keyed digest of the case an
evaluation read; evaluations made before this revision have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DEFAULT_CAP = 20


def upgrade() -> None:
    with op.batch_alter_table("dialogues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evaluations_per_dialogue", sa.Integer(), nullable=True))
    dialogues = sa.table(
        "dialogues",
        sa.column("id", sa.String),
        sa.column("evaluations_per_round", sa.Integer),
        sa.column("evaluations_per_dialogue", sa.Integer),
    )
    evaluations = sa.table("evaluations", sa.column("dialogue_id", sa.String))
    so_far = (
        sa.select(sa.func.count())
        .select_from(evaluations)
        .where(evaluations.c.dialogue_id == dialogues.c.id)
        .scalar_subquery()
    )
    wanted = so_far + dialogues.c.evaluations_per_round
    op.execute(
        dialogues.update().values(
            evaluations_per_dialogue=sa.case((wanted > DEFAULT_CAP, wanted), else_=DEFAULT_CAP)
        )
    )
    with op.batch_alter_table("dialogues", schema=None) as batch_op:
        batch_op.alter_column(
            "evaluations_per_dialogue", existing_type=sa.Integer(), nullable=False
        )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inputs_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_column("inputs_digest")
    with op.batch_alter_table("dialogues", schema=None) as batch_op:
        batch_op.drop_column("evaluations_per_dialogue")
