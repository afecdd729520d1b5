"""the dialogue's record: meetings, records, answers, notes and non-papers

Revision ID: 0010
Revises: 0009
Create Date: 2027-02-08 10:00:00

New tables only (``meetings``, ``attendance``, ``meeting_records``, ``record_answers``,
``meeting_notes``, ``non_papers``);
downgrading drops them with what they hold.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _dialogue() -> sa.ForeignKey:
    return sa.ForeignKey("dialogues.id", ondelete="CASCADE")


def _indexed(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_dialogue_id"), ["dialogue_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "meetings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dialogue_id", sa.String(length=32), _dialogue(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("sides", sa.String(length=200), nullable=False),
        sa.Column(
            "round_id",
            sa.String(length=32),
            sa.ForeignKey("rounds.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("details_ct", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexed("meetings")
    op.create_table(
        "attendance",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dialogue_id", sa.String(length=32), _dialogue(), nullable=False),
        sa.Column(
            "meeting_id",
            sa.String(length=32),
            sa.ForeignKey("meetings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "member_id",
            sa.String(length=32),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "member_id"),
    )
    _indexed("attendance")
    op.create_table(
        "meeting_records",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dialogue_id", sa.String(length=32), _dialogue(), nullable=False),
        sa.Column(
            "meeting_id",
            sa.String(length=32),
            sa.ForeignKey("meetings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "version"),
    )
    _indexed("meeting_records")
    op.create_table(
        "record_answers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dialogue_id", sa.String(length=32), _dialogue(), nullable=False),
        sa.Column(
            "record_id",
            sa.String(length=32),
            sa.ForeignKey("meeting_records.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "delegation_id",
            sa.String(length=32),
            sa.ForeignKey("delegations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("comment_ct", sa.LargeBinary(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "delegation_id"),
    )
    _indexed("record_answers")
    op.create_table(
        "meeting_notes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dialogue_id", sa.String(length=32), _dialogue(), nullable=False),
        sa.Column(
            "meeting_id",
            sa.String(length=32),
            sa.ForeignKey("meetings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "delegation_id",
            sa.String(length=32),
            sa.ForeignKey("delegations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "delegation_id"),
    )
    _indexed("meeting_notes")
    op.create_table(
        "non_papers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dialogue_id", sa.String(length=32), _dialogue(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_ct", sa.LargeBinary(), nullable=False),
        sa.Column("body_sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexed("non_papers")
    with op.batch_alter_table("non_papers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_non_papers_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("non_papers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_non_papers_expires_at"))
    tables = ("non_papers", "meeting_notes", "record_answers", "meeting_records", "attendance")
    for table in (*tables, "meetings"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_dialogue_id"))
        op.drop_table(table)
