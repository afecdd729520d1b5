"""CSRF tokens derived from the session token, no longer stored

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 02:40:00.000000

A session's CSRF token is now HMAC-SHA256 of its cookie token (``accounts.csrf_of``),
so the stored copy, kept in the clear, goes. Sessions stay open; a page loaded before
the upgrade carries the old token and asks for a reload once. Downgrading gives every
open session a new random token (the old ones are gone), with the same effect.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("csrf_token")


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("csrf_token", sa.String(length=64), nullable=True))
    sessions = sa.table("sessions", sa.column("token_hash"), sa.column("csrf_token"))
    bind = op.get_bind()
    for (token_hash,) in bind.execute(sa.select(sessions.c.token_hash)).all():
        bind.execute(
            sessions.update()
            .where(sessions.c.token_hash == token_hash)
            .values(csrf_token=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.alter_column("csrf_token", existing_type=sa.String(length=64), nullable=False)
