"""The queries of key rotation: dialogue keys, the KEK's check value, and re-sealing every
sealed field of one dialogue.

A sealed column is one whose name ends in ``_ct``; its associated data names the table,
the column without ``_ct``, the row's ``id``, the dialogue and the key version
(:func:`backchannel.storage.vault.associated_data`). A dialogue's rows are the row of
``dialogues`` itself and every row whose ``dialogue_id`` is the dialogue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from backchannel.storage.tables import Base, DialogueKeyRow, DialogueRow, MetaRow

Reseal = Callable[[str, str, str, bytes], bytes]
"""``(table, column without _ct, row id, sealed value) -> the value sealed anew``."""


def data_keys(session: Session) -> Sequence[DialogueKeyRow]:
    """Every wrapped dialogue key (all versions), in a stable order."""
    query = select(DialogueKeyRow).order_by(DialogueKeyRow.dialogue_id, DialogueKeyRow.version)
    return session.execute(query).scalars().all()


def data_key_version(session: Session, dialogue_id: str, version: int) -> DialogueKeyRow | None:
    """One version of a dialogue's wrapped key."""
    return session.get(DialogueKeyRow, (dialogue_id, version))


def meta_for_update(session: Session, key: str) -> MetaRow | None:
    """A fact about the database, locked until the transaction ends (PostgreSQL)."""
    return session.execute(select(MetaRow).where(MetaRow.key == key).with_for_update()).scalar()


def dialogue_ids(session: Session) -> list[str]:
    """The ids of every dialogue."""
    return list(session.execute(select(DialogueRow.id).order_by(DialogueRow.id)).scalars())


def _sealed_tables() -> list[tuple[Table, list[str]]]:
    """The tables of a dialogue's sealed fields: ``dialogues`` and those with a
    ``dialogue_id`` (an account's secrets, sealed under the account key, are not one)."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c.name for c in table.columns if c.name.endswith("_ct")]
        of_a_dialogue = table.name == DialogueRow.__tablename__ or "dialogue_id" in table.c
        if columns and of_a_dialogue:
            found.append((table, columns))
    return found


def reseal_dialogue(session: Session, dialogue_id: str, reseal: Reseal) -> int:
    """Seal every sealed field of a dialogue anew with ``reseal``; the number of fields."""
    count = 0
    for table, columns in _sealed_tables():
        owner = table.c.id if table.name == DialogueRow.__tablename__ else table.c.dialogue_id
        rows = session.execute(
            select(table.c.id, *(table.c[c] for c in columns)).where(owner == dialogue_id)
        ).all()
        for row in rows:
            values = {
                column: reseal(table.name, column[: -len("_ct")], row[0], row[k + 1])
                for k, column in enumerate(columns)
                if row[k + 1] is not None
            }
            if values:
                session.execute(update(table).where(table.c.id == row[0]).values(**values))
            count += len(values)
    return count


def drop_data_keys_before(session: Session, dialogue_id: str, version: int) -> None:
    """Delete a dialogue's older key versions (nothing is sealed under them any more)."""
    session.execute(
        delete(DialogueKeyRow).where(
            DialogueKeyRow.dialogue_id == dialogue_id, DialogueKeyRow.version < version
        )
    )
