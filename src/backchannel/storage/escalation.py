"""The query of the escalation watch: a dialogue's model row."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.storage.tables import EscalationModelRow


def model_of(session: Session, dialogue_id: str) -> EscalationModelRow | None:
    """The dialogue's escalation model row, if one was saved."""
    query = select(EscalationModelRow).where(EscalationModelRow.dialogue_id == dialogue_id)
    return session.execute(query).scalar_one_or_none()
