"""A meeting's shared record under the Chatham House rule: what was said, never who said it.

* The facilitator keeps the record. It is plain text with **no speaker field by
  construction**: no column, no form field, no API field names a speaker.
* Every save makes a new version. Each side taking part in the meeting confirms the
  current version or asks for changes, with a comment to the facilitator. A version
  confirmed by every side is the **agreed record**; a new version starts without answers.
* Who sees what: everyone who sees the meeting sees the current version and which sides
  confirmed it (an observer: only an agreed record). A request for changes and its
  comment are seen by the facilitator and the side that made it; to others that side has
  simply not confirmed yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backchannel.errors import InputError, NotAllowedNow, NotFound
from backchannel.messages import t_
from backchannel.services import access, meetings
from backchannel.services.access import OBSERVER, Actor, Seat
from backchannel.services.platform import DialogueKeys, Platform
from backchannel.storage import meetings as stored
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.tables import MeetingRecordRow, MeetingRow, RecordAnswerRow, utcnow

CONFIRMED, CHANGES, PENDING = "confirmed", "changes", "pending"
ANSWERS = (CONFIRMED, CHANGES)
MAX_RECORD = 50_000
MAX_COMMENT = 4_000


@dataclass(frozen=True)
class RecordView:
    """The current version of a meeting's shared record as a seat may see it.

    ``answers`` maps each side taking part to ``confirmed``, ``changes`` or ``pending``;
    ``comments`` holds the requests for changes the seat may read (by side).
    """

    meeting_id: str
    version: int
    text: str
    created_at: datetime
    answers: dict[str, str]
    comments: dict[str, str]
    agreed: bool


def _check_text(text: str) -> str:
    body = text.strip()
    if not body:
        raise InputError(t_("the record is empty"), hint=t_("write what was said"))
    if len(body) > MAX_RECORD:
        raise InputError(t_("the record is longer than {n} characters", n=MAX_RECORD))
    return body


def write(platform: Platform, actor: Actor, dialogue_id: str, meeting_id: str, text: str) -> int:
    """Save a new version of the meeting's shared record (facilitator); its number.

    The sides' answers belong to the version they answered, so a new version has none:
    an agreed record that is edited has to be confirmed again.
    """
    body = _check_text(text)
    with platform.unit() as s:
        place = access.facilitator(s, actor, dialogue_id)
        row = access.owned(s, place, MeetingRow, meeting_id)
        if row.cancelled:
            raise NotAllowedNow(t_("the meeting was cancelled"), hint=t_("keep no record of it"))
        latest = stored.latest_record(s, row.id)
        version = 1 if latest is None else latest.version + 1
        record = MeetingRecordRow(
            dialogue_id=dialogue_id, meeting_id=row.id, version=version, body_ct=b""
        )
        repo.add(s, record)
        record.body_ct = platform.keys(s, dialogue_id).seal(
            "meeting_records", "body", record.id, body
        )
        for audience in meetings.audiences(row):
            platform.log(
                s,
                "record.written",
                dialogue_id=dialogue_id,
                actor_id=actor.user_id,
                target=row.id,
                audience=audience,
                detail={"version": version},
            )
        return version


def answer(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    meeting_id: str,
    version: int,
    verdict: str,
    comment: str = "",
) -> None:
    """A side confirms version ``version`` of the record, or asks for changes with a comment.

    Only a member of a side taking part answers, and only the current version (an older
    one is a 409: the facilitator changed the record meanwhile).
    """
    note = comment.strip()
    with platform.unit() as s:
        place = access.seat(s, actor, dialogue_id)
        side = access.own_delegation(place)
        row = meetings.seen(s, place, meeting_id)
        if verdict not in ANSWERS:
            raise InputError(t_("answer confirmed or changes"))
        if verdict == CHANGES and not note:
            raise InputError(t_("say what should change"), hint=t_("the facilitator reads it"))
        if len(note) > MAX_COMMENT:
            raise InputError(t_("the comment is longer than {n} characters", n=MAX_COMMENT))
        latest = stored.latest_record(s, row.id)
        if latest is None:
            raise NotAllowedNow(t_("the meeting has no record yet"))
        if latest.version != version:
            raise NotAllowedNow(
                t_("version {old} is no longer current", old=version),
                hint=t_("read version {new} and answer it", new=latest.version),
            )
        found = stored.answer(s, latest.id, side)
        if found is None:
            found = RecordAnswerRow(
                dialogue_id=dialogue_id,
                record_id=latest.id,
                delegation_id=side,
                answer=verdict,
                comment_ct=b"",
            )
            repo.add(s, found)
        found.answer, found.at = verdict, utcnow()
        keys = platform.keys(s, dialogue_id)
        found.comment_ct = keys.seal("record_answers", "comment", found.id, note)
        action = "record.confirmed" if verdict == CONFIRMED else "record.changes_asked"
        for audience in meetings.audiences(row) if verdict == CONFIRMED else [side]:
            platform.log(
                s,
                action,
                dialogue_id=dialogue_id,
                actor_id=actor.user_id,
                target=row.id,
                audience=audience,
                detail={"version": version},
            )


def view_of(s: Session, keys: DialogueKeys, place: Seat, row: MeetingRow) -> RecordView | None:
    latest = stored.latest_record(s, row.id)
    if latest is None:
        return None
    sides = row.sides.split()
    answers = dict.fromkeys(sides, PENDING)
    comments = {}
    for found in stored.answers(s, latest.id):
        if found.delegation_id not in answers:
            continue
        mine = place.is_facilitator or found.delegation_id == place.delegation_id
        if found.answer == CONFIRMED or mine:
            answers[found.delegation_id] = found.answer
        if found.answer == CHANGES and mine:
            comments[found.delegation_id] = keys.open(
                "record_answers", "comment", found.id, found.comment_ct
            )
    agreed = bool(sides) and all(a == CONFIRMED for a in answers.values())
    if place.role == OBSERVER and not agreed:
        return None
    text: str = keys.open("meeting_records", "body", latest.id, latest.body_ct)
    return RecordView(row.id, latest.version, text, latest.created_at, answers, comments, agreed)


def record(platform: Platform, actor: Actor, dialogue_id: str, meeting_id: str) -> RecordView:
    """The current version of the meeting's record as the seat may see it, or NotFound
    (no record yet, a meeting the seat may not see, or an observer before agreement)."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        row = meetings.seen(s, place, meeting_id)
        found = view_of(s, platform.keys(s, dialogue_id), place, row)
        if found is None:
            raise NotFound()
        return found
