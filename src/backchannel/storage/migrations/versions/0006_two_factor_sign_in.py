"""two-factor sign-in: TOTP secrets, recovery codes, sign-ins awaiting a code, requirements

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-20 10:00:00

New tables: ``user_mfa`` (an account's sealed TOTP secret and the last time step
accepted), ``recovery_codes`` (keyed hashes of unused codes) and ``signin_challenges``
(sign-ins whose password was right, awaiting the code). New columns, false on existing
rows: ``users.mfa_required`` (the operator requires it of the account),
``dialogues.mfa_required`` (every seat must use it) and ``login_failures.second_factor``
(a wrong code rather than a wrong password). Downgrading drops them: every account
signs in with its password alone again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FLAGS = (
    ("users", "mfa_required"),
    ("dialogues", "mfa_required"),
    ("login_failures", "second_factor"),
)


def _add_flag(table: str, column: str) -> None:
    """A boolean column, false on every existing row, then not null."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column(column, sa.Boolean(), nullable=True))
    op.execute(sa.table(table, sa.column(column, sa.Boolean)).update().values({column: False}))
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(column, existing_type=sa.Boolean(), nullable=False)


def upgrade() -> None:
    for table, column in FLAGS:
        _add_flag(table, column)
    op.create_table(
        "user_mfa",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("secret_ct", sa.LargeBinary(), nullable=False),
        sa.Column("last_step", sa.Integer(), nullable=False),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("code_hash"),
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"], unique=False)
    op.create_table(
        "signin_challenges",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_signin_challenges_user_id", "signin_challenges", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_signin_challenges_user_id", table_name="signin_challenges")
    op.drop_table("signin_challenges")
    op.drop_index("ix_recovery_codes_user_id", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("user_mfa")
    for table, column in reversed(FLAGS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
