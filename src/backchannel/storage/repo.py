"""Queries the services need, so that SQLAlchemy stays inside the storage layer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backchannel.storage.tables import (
    AuditEntry,
    Base,
    Delegation,
    Dialogue,
    DialogueKey,
    Evaluation,
    LoginFailure,
    Member,
    Meta,
    Position,
    Release,
    Round,
    SessionRow,
    User,
)

Row = TypeVar("Row", bound=Base)


def get(session: Session, table: type[Row], key: object) -> Row | None:
    """A row by primary key."""
    return session.get(table, key)


def add(session: Session, row: Base) -> None:
    """Stage a new row (flushed at once so its defaults are set)."""
    session.add(row)
    session.flush()


def remove(session: Session, row: Base) -> None:
    """Delete a row."""
    session.delete(row)
    session.flush()


def user_by_name(session: Session, username: str) -> User | None:
    """The account with this user name."""
    return session.execute(select(User).where(User.username == username)).scalar()


def lock_dialogue(session: Session, dialogue_id: str) -> None:
    """Hold the dialogue's row for the rest of the transaction (PostgreSQL ``FOR UPDATE``).

    Every write that depends on a round's state takes it first, so concurrent writers of
    one dialogue run one after the other (SQLite's ``BEGIN IMMEDIATE`` already does this).
    """
    session.execute(select(Dialogue.id).where(Dialogue.id == dialogue_id).with_for_update())


def members_of_user(session: Session, user_id: str) -> Sequence[Member]:
    """Every seat a user holds, in any dialogue."""
    return session.execute(select(Member).where(Member.user_id == user_id)).scalars().all()


def member(session: Session, dialogue_id: str, user_id: str) -> Member | None:
    """The user's seat in one dialogue."""
    return session.execute(
        select(Member).where(Member.dialogue_id == dialogue_id, Member.user_id == user_id)
    ).scalar()


def members(session: Session, dialogue_id: str) -> Sequence[Member]:
    """Every seat of a dialogue."""
    return session.execute(select(Member).where(Member.dialogue_id == dialogue_id)).scalars().all()


def members_with_users(session: Session, dialogue_id: str) -> Sequence[tuple[Member, User]]:
    """Every seat of a dialogue with its account, in one query."""
    rows = session.execute(
        select(Member, User)
        .join(User, User.id == Member.user_id)
        .where(Member.dialogue_id == dialogue_id)
    ).all()
    return [(m, u) for m, u in rows]


def delegations(session: Session, dialogue_id: str) -> Sequence[Delegation]:
    """The delegations and absent stakeholders of a dialogue, in the order they were added."""
    return (
        session.execute(
            select(Delegation)
            .where(Delegation.dialogue_id == dialogue_id)
            .order_by(Delegation.ordinal)
        )
        .scalars()
        .all()
    )


def data_key(session: Session, dialogue_id: str) -> DialogueKey | None:
    """The newest wrapped data key of a dialogue."""
    return session.execute(
        select(DialogueKey)
        .where(DialogueKey.dialogue_id == dialogue_id)
        .order_by(DialogueKey.version.desc())
    ).scalar()


def rounds(session: Session, dialogue_id: str) -> Sequence[Round]:
    """The rounds of a dialogue, first to last."""
    return (
        session.execute(
            select(Round).where(Round.dialogue_id == dialogue_id).order_by(Round.number)
        )
        .scalars()
        .all()
    )


def position(session: Session, round_id: str, delegation_id: str) -> Position | None:
    """A delegation's position in one round."""
    return session.execute(
        select(Position).where(
            Position.round_id == round_id, Position.delegation_id == delegation_id
        )
    ).scalar()


def positions_in(session: Session, round_id: str) -> Sequence[Position]:
    """Every position recorded in one round."""
    return session.execute(select(Position).where(Position.round_id == round_id)).scalars().all()


def positions_of(session: Session, dialogue_id: str, delegation_id: str) -> Sequence[Position]:
    """A delegation's positions over the rounds."""
    return (
        session.execute(
            select(Position).where(
                Position.dialogue_id == dialogue_id, Position.delegation_id == delegation_id
            )
        )
        .scalars()
        .all()
    )


def evaluations(session: Session, round_id: str) -> Sequence[Evaluation]:
    """The evaluations of a round, oldest first."""
    return (
        session.execute(
            select(Evaluation)
            .where(Evaluation.round_id == round_id)
            .order_by(Evaluation.created_at)
        )
        .scalars()
        .all()
    )


def releases(session: Session, dialogue_id: str, audiences: Sequence[str]) -> Sequence[Release]:
    """The releases of a dialogue addressed to any of ``audiences``, oldest first."""
    return (
        session.execute(
            select(Release)
            .where(Release.dialogue_id == dialogue_id, Release.audience.in_(list(audiences)))
            .order_by(Release.released_at)
        )
        .scalars()
        .all()
    )


def audit_entries(
    session: Session, dialogue_id: str, audiences: Sequence[str] | None
) -> Sequence[AuditEntry]:
    """A dialogue's audit entries (all of them when ``audiences`` is None), newest first."""
    query = select(AuditEntry).where(AuditEntry.dialogue_id == dialogue_id)
    if audiences is not None:
        query = query.where(AuditEntry.audience.in_(list(audiences)))
    return session.execute(query.order_by(AuditEntry.seq.desc())).scalars().all()


def meta(session: Session, key: str) -> Meta | None:
    """A fact about the database."""
    return session.get(Meta, key)


def count_failures(session: Session, key: str, since: datetime) -> int:
    """Failed sign-ins under ``key`` since a time (older ones are deleted)."""
    session.execute(delete(LoginFailure).where(LoginFailure.at < since))
    found = session.execute(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.key == key)
    ).scalar()
    return int(found or 0)


def clear_failures(session: Session, key: str) -> None:
    """Forget the failed sign-ins under ``key`` (after a success)."""
    session.execute(delete(LoginFailure).where(LoginFailure.key == key))


def sessions_of(session: Session, user_id: str) -> Sequence[SessionRow]:
    """Every server-side session of a user."""
    return session.execute(select(SessionRow).where(SessionRow.user_id == user_id)).scalars().all()


def end_sessions(session: Session, user_id: str) -> None:
    """Revoke every session of a user."""
    session.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
