"""The queries of meetings, their attendance and their shared records."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backchannel.storage.tables import (
    AttendanceRow,
    MeetingNoteRow,
    MeetingRecordRow,
    MeetingRow,
    RecordAnswerRow,
)


def meetings(session: Session, dialogue_id: str) -> Sequence[MeetingRow]:
    """The meetings of a dialogue, earliest first."""
    query = (
        select(MeetingRow)
        .where(MeetingRow.dialogue_id == dialogue_id)
        .order_by(MeetingRow.starts_at, MeetingRow.id)
    )
    return session.execute(query).scalars().all()


def attendees(session: Session, meeting_id: str) -> list[str]:
    """The member ids present at a meeting."""
    query = select(AttendanceRow.member_id).where(AttendanceRow.meeting_id == meeting_id)
    return list(session.execute(query).scalars())


def set_attendees(session: Session, meeting: MeetingRow, member_ids: Sequence[str]) -> None:
    """Replace a meeting's attendance with ``member_ids``."""
    session.execute(delete(AttendanceRow).where(AttendanceRow.meeting_id == meeting.id))
    for member_id in dict.fromkeys(member_ids):
        session.add(
            AttendanceRow(
                dialogue_id=meeting.dialogue_id, meeting_id=meeting.id, member_id=member_id
            )
        )
    session.flush()


def latest_record(session: Session, meeting_id: str) -> MeetingRecordRow | None:
    """The current version of a meeting's shared record."""
    query = (
        select(MeetingRecordRow)
        .where(MeetingRecordRow.meeting_id == meeting_id)
        .order_by(MeetingRecordRow.version.desc())
        .limit(1)
    )
    return session.execute(query).scalar()


def record_versions(session: Session, meeting_id: str) -> Sequence[MeetingRecordRow]:
    """Every version of a meeting's shared record, first to last."""
    query = (
        select(MeetingRecordRow)
        .where(MeetingRecordRow.meeting_id == meeting_id)
        .order_by(MeetingRecordRow.version)
    )
    return session.execute(query).scalars().all()


def answers(session: Session, record_id: str) -> Sequence[RecordAnswerRow]:
    """The sides' answers to one version of a record."""
    query = select(RecordAnswerRow).where(RecordAnswerRow.record_id == record_id)
    return session.execute(query).scalars().all()


def answer(session: Session, record_id: str, delegation_id: str) -> RecordAnswerRow | None:
    """One side's answer to one version of a record."""
    query = select(RecordAnswerRow).where(
        RecordAnswerRow.record_id == record_id, RecordAnswerRow.delegation_id == delegation_id
    )
    return session.execute(query).scalar()


def note(session: Session, meeting_id: str, delegation_id: str) -> MeetingNoteRow | None:
    """A delegation's private notes of a meeting."""
    query = select(MeetingNoteRow).where(
        MeetingNoteRow.meeting_id == meeting_id, MeetingNoteRow.delegation_id == delegation_id
    )
    return session.execute(query).scalar()
