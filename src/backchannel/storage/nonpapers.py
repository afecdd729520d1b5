"""The queries of non-papers, and making their destruction reach the disk at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from backchannel.storage.tables import NonPaperRow


def of_dialogue(session: Session, dialogue_id: str) -> Sequence[NonPaperRow]:
    """A dialogue's non-papers, oldest first."""
    query = (
        select(NonPaperRow)
        .where(NonPaperRow.dialogue_id == dialogue_id)
        .order_by(NonPaperRow.created_at, NonPaperRow.id)
    )
    return session.execute(query).scalars().all()


def due(session: Session, now: datetime, dialogue_id: str | None = None) -> Sequence[NonPaperRow]:
    """The non-papers (of one dialogue, or all) whose time is up at ``now``."""
    query = select(NonPaperRow).where(NonPaperRow.expires_at <= now)
    if dialogue_id is not None:
        query = query.where(NonPaperRow.dialogue_id == dialogue_id)
    return session.execute(query.order_by(NonPaperRow.expires_at)).scalars().all()


def flush_to_disk(engine: Engine) -> None:
    """Move the write-ahead log into the database file and empty it (SQLite).

    A deleted row's old pages stay in the WAL until a checkpoint copies the new pages over
    them; ``secure_delete`` then leaves zeros in the file, and ``TRUNCATE`` empties the WAL.
    PostgreSQL has no such file to clean (its WAL is recycled by the server).
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:  # outside any transaction, as SQLite requires
        raw = connection.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
