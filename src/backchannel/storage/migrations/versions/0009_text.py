"""the single negotiating text: texts, their versions, responses and releases

Revision ID: 0009
Revises: 0008
Create Date: 2027-02-08 10:00:00

Four new tables: ``texts`` (a sealed title and the current version's number),
``text_versions`` (each version's clauses, sealed), ``text_responses`` (each
delegation's responses to clause revisions, sealed, every one kept) and
``text_releases`` (one side's responses to one version released to an audience,
sealed). Downgrading drops them, and with them every text.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(length=32), nullable=False)


def _ref(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=32), nullable=False)


def _index(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_dialogue_id"), ["dialogue_id"], unique=False)


def _cascade(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "texts",
        _id(),
        _ref("dialogue_id"),
        sa.Column("title_ct", sa.LargeBinary(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _cascade("dialogue_id", "dialogues"),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("texts")
    op.create_table(
        "text_versions",
        _id(),
        _ref("dialogue_id"),
        _ref("text_id"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _cascade("dialogue_id", "dialogues"),
        _cascade("text_id", "texts"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("text_id", "number"),
    )
    _index("text_versions")
    op.create_table(
        "text_responses",
        _id(),
        _ref("dialogue_id"),
        _ref("text_id"),
        _ref("delegation_id"),
        sa.Column("clause_id", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _cascade("delegation_id", "delegations"),
        _cascade("dialogue_id", "dialogues"),
        _cascade("text_id", "texts"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("text_id", "delegation_id", "sequence"),
    )
    _index("text_responses")
    op.create_table(
        "text_releases",
        _id(),
        _ref("dialogue_id"),
        _ref("text_id"),
        _ref("delegation_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=32), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        _cascade("delegation_id", "delegations"),
        _cascade("dialogue_id", "dialogues"),
        _cascade("text_id", "texts"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("text_id", "delegation_id", "version", "audience"),
    )
    _index("text_releases")


def downgrade() -> None:
    for table in ("text_releases", "text_responses", "text_versions", "texts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_dialogue_id"))
        op.drop_table(table)
