"""evaluations: the inputs each one read, sealed

Revision ID: 0011
Revises: 0010
Create Date: 2027-02-08 10:00:00

``evaluations.inputs_ct`` keeps, sealed like the result, the agenda and every side's
position an evaluation read (at lock time), so that a later check of the same evaluation
(its robustness) runs on exactly those inputs, whatever changed since. Evaluations made
before this revision have none. Downgrading drops the column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inputs_ct", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_column("inputs_ct")
