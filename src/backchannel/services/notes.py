"""A delegation's private notes of a meeting: the one place where speakers may be named.

* Only the members of a delegation that takes part in the meeting read and write its notes;
  for anyone else, the facilitator included, they do not exist: every call answers
  :class:`~backchannel.errors.NotFound`, exactly like a meeting that does not exist.
* Nothing about them shows in the dialogue's log, which the facilitator reads whole: a save
  is logged in the audit chain for the operator only (no dialogue, no target), so not even
  the number of notes or when they change reaches the facilitator or the other side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backchannel.errors import InputError
from backchannel.messages import t_
from backchannel.services import access, meetings
from backchannel.services.access import Actor
from backchannel.services.platform import Platform
from backchannel.storage import meetings as stored
from backchannel.storage import repo
from backchannel.storage.tables import MeetingNoteRow, utcnow

MAX_NOTE = 20_000


@dataclass(frozen=True)
class NoteView:
    """The own delegation's notes of a meeting (empty, with no time, before the first save)."""

    meeting_id: str
    text: str
    updated_at: datetime | None


def note(platform: Platform, actor: Actor, dialogue_id: str, meeting_id: str) -> NoteView:
    """The own delegation's notes of a meeting it takes part in, or NotFound."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        side = access.own_delegation(place)
        row = meetings.seen(s, place, meeting_id)
        found = stored.note(s, row.id, side)
        if found is None:
            return NoteView(row.id, "", None)
        text: str = platform.keys(s, dialogue_id).open(
            "meeting_notes", "body", found.id, found.body_ct
        )
        return NoteView(row.id, text, found.updated_at)


def save_note(
    platform: Platform, actor: Actor, dialogue_id: str, meeting_id: str, text: str
) -> NoteView:
    """Replace the own delegation's notes of a meeting (an empty text clears them)."""
    body = text.strip()
    with platform.unit() as s:
        place = access.seat(s, actor, dialogue_id)
        side = access.own_delegation(place)
        row = meetings.seen(s, place, meeting_id)
        if len(body) > MAX_NOTE:
            raise InputError(t_("the notes are longer than {n} characters", n=MAX_NOTE))
        found = stored.note(s, row.id, side)
        if found is None:
            found = MeetingNoteRow(
                dialogue_id=dialogue_id, meeting_id=row.id, delegation_id=side, body_ct=b""
            )
            repo.add(s, found)
        found.updated_at = utcnow()
        found.body_ct = platform.keys(s, dialogue_id).seal("meeting_notes", "body", found.id, body)
        platform.log(s, "note.saved", actor_id=actor.user_id, audience="operator")
        return NoteView(row.id, body, found.updated_at)
