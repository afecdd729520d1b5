"""What the JSON API of meetings, shared records, notes and non-papers takes and answers.

Every limit the services enforce is stated here too (lengths, counts, enums, strict
integers and booleans), as in :mod:`backchannel.web.api_models`. The shared record has
**no speaker field**: neither :class:`RecordBody` nor :class:`RecordOut` names who said
what, and both forbid or lack any other field.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from backchannel.model.dialogue import NOT_TRUTH_VALUE
from backchannel.services import meetings, nonpapers, notes, records
from backchannel.web.api_models import ID_LENGTH, Id, Role, Text, _Body

MeetingId = Annotated[str, Path(min_length=1, max_length=ID_LENGTH)]


class MeetingFormat(str, Enum):
    """Who meets: every side, one side with the facilitator, or two sides."""

    PLENARY = meetings.PLENARY
    CAUCUS = meetings.CAUCUS
    BILATERAL = meetings.BILATERAL


class Verdict(str, Enum):
    """A side's answer to a version of a shared record."""

    CONFIRMED = records.CONFIRMED
    CHANGES = records.CHANGES


class AnswerState(str, Enum):
    """Where a side stands on the current version (``changes`` only for the facilitator
    and that side; to others it is ``pending``)."""

    CONFIRMED = records.CONFIRMED
    CHANGES = records.CHANGES
    PENDING = records.PENDING


class MeetingBody(_Body):
    """A meeting: local date and time (``YYYY-MM-DDTHH:MM``) in an IANA zone, its format,
    the sides (one for a caucus, two for a bilateral, none needed for a plenary), a place
    or ``online``, agenda issue ids and free items, the attending seats, a linked round."""

    starts: Annotated[str, Field(min_length=1, max_length=40)]
    zone: Annotated[str, Field(min_length=1, max_length=64)]
    format: MeetingFormat = MeetingFormat.PLENARY
    place: Annotated[str, Field(max_length=meetings.MAX_PLACE)] = ""
    online: Annotated[bool, Field(strict=True)] = False
    sides: Annotated[list[Id], Field(max_length=2)] = Field(default_factory=list)
    issues: Annotated[list[Id], Field(max_length=100)] = Field(default_factory=list)
    items: Annotated[
        list[Annotated[str, Field(max_length=meetings.MAX_ITEM)]],
        Field(max_length=meetings.MAX_ITEMS),
    ] = Field(default_factory=list)
    attendees: Annotated[list[Id], Field(max_length=500)] = Field(default_factory=list)
    round: Annotated[int, Field(ge=1, le=10_000), NOT_TRUTH_VALUE] | None = None

    def plan(self) -> meetings.MeetingPlan:
        """The body as the service takes it."""
        return meetings.MeetingPlan(
            starts=self.starts,
            zone=self.zone,
            format=self.format.value,
            place=self.place,
            online=self.online,
            sides=self.sides,
            issues=self.issues,
            items=self.items,
            attendees=self.attendees,
            round_number=self.round,
        )


class RecordBody(_Body):
    """A new version of a meeting's shared record: what was said, never who said it."""

    text: Annotated[Text, Field(min_length=1, max_length=records.MAX_RECORD)]


class AnswerBody(_Body):
    """A side's answer to the current version (a comment is needed to ask for changes)."""

    version: Annotated[int, Field(ge=1, le=1_000_000), NOT_TRUTH_VALUE]
    answer: Verdict
    comment: Annotated[str, Field(max_length=records.MAX_COMMENT)] = ""


class NoteBody(_Body):
    """The own delegation's private notes of a meeting (they may name speakers; empty clears)."""

    text: Annotated[str, Field(max_length=notes.MAX_NOTE)]


class NoteOut(BaseModel):
    """The own delegation's private notes of a meeting (``updated_at`` null before the first
    save)."""

    meeting_id: str
    text: str
    updated_at: datetime | None


class NonPaperBody(_Body):
    """A non-paper: its text and how many days it stays readable before it is destroyed."""

    text: Annotated[Text, Field(min_length=1, max_length=nonpapers.MAX_TEXT)]
    days: Annotated[int, Field(ge=1, le=nonpapers.MAX_DAYS), NOT_TRUTH_VALUE]


class NonPaperOut(BaseModel):
    """A non-paper, unattributed: only whether the facilitator issued it and whether it is
    the caller's own."""

    id: str
    text: str
    created_at: datetime
    expires_at: datetime
    from_facilitator: bool
    mine: bool


class AttendeeOut(BaseModel):
    """A seat present at a meeting: its name for the facilitator and its own side, its
    pseudonym for everyone else."""

    member_id: str
    name: str
    role: Role
    delegation_id: str | None


class MeetingOut(BaseModel):
    """A meeting as the caller may see it."""

    id: str
    starts_at: datetime
    zone: str
    local: str
    format: MeetingFormat
    sides: list[str]
    place: str
    online: bool
    issues: list[str]
    items: list[str]
    attendees: list[AttendeeOut]
    round: int | None
    cancelled: bool
    past: bool

    @classmethod
    def of(cls, view: meetings.MeetingView) -> MeetingOut:
        """The answer for a service's view."""
        return cls.model_validate(
            {
                **{k: v for k, v in view.__dict__.items() if k != "issue_names"},
                "attendees": [a.__dict__ for a in view.attendees],
                "round": view.round_number,
            }
        )


class RecordOut(BaseModel):
    """The current version of a shared record, each side's answer, the comments the caller
    may read, and whether it is the agreed record."""

    meeting_id: str
    version: int
    text: str
    created_at: datetime
    answers: dict[str, AnswerState]
    comments: dict[str, str]
    agreed: bool


class VersionOut(BaseModel):
    """The number of the version just saved."""

    version: int


class AnsweredOut(BaseModel):
    """The answer just recorded."""

    version: int
    answer: Verdict
