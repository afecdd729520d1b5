"""account language: the language an account chose for its pages

Revision ID: 0007
Revises: 0006
Create Date: 2027-02-01 10:00:00

New column ``users.language`` (a language code, null on existing rows: the pages follow
the browser's language until the account chooses one). Downgrading drops it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
