"""The queries of issued readouts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.storage.tables import ReadoutRow


def of_dialogue(
    session: Session, dialogue_id: str, audiences: Sequence[str] | None = None
) -> Sequence[ReadoutRow]:
    """A dialogue's readouts (only those to ``audiences`` when given), newest first."""
    query = select(ReadoutRow).where(ReadoutRow.dialogue_id == dialogue_id)
    if audiences is not None:
        query = query.where(ReadoutRow.audience.in_(list(audiences)))
    order = (ReadoutRow.issued_at.desc(), ReadoutRow.id)
    return session.execute(query.order_by(*order)).scalars().all()
