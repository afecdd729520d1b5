"""writes sent once: the one-time tokens of page forms and the API's Idempotency-Key

Revision ID: 0008
Revises: 0007
Create Date: 2027-02-01 10:00:00

New table ``request_keys``: one row per key of a write that was sent (the hash of the
account and the key, the request's fingerprint, when, and the sealed first answer),
kept for a day. Downgrading drops it: a repeated form or key acts again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_keys",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("answer_ct", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("key_hash"),
    )
    op.create_index("ix_request_keys_created_at", "request_keys", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_request_keys_created_at", table_name="request_keys")
    op.drop_table("request_keys")
