"""Meetings of a dialogue: when and where, in what format, on what agenda, who attended.

* The facilitator schedules, edits and cancels meetings. A meeting's time is given as a
  local date and time in an IANA time zone; it is kept in UTC with the zone's name.
* A plenary takes every delegation; a caucus one; a bilateral two. A seat sees a meeting
  when it facilitates, when its delegation takes part, or (an observer) when it is a
  plenary; to anyone else the meeting is :class:`~backchannel.errors.NotFound`, exactly
  like one that does not exist.
* Attendance is kept per seat. The facilitator and a seat's own side see attendees by
  name; everyone else sees the other side's attendees by pseudonym only.
* Place and agenda are sealed under the dialogue's key; the time, the format and the
  sides are the metadata the rules need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backchannel.errors import FieldError, NotFound
from backchannel.messages import t_
from backchannel.services import access
from backchannel.services.access import MEMBER, OBSERVER, Actor, Seat
from backchannel.services.dialogues import read_agenda
from backchannel.services.platform import DialogueKeys, Platform
from backchannel.storage import meetings as stored
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.tables import (
    DialogueRow,
    MeetingRow,
    MemberRow,
    RoundRow,
    UserRow,
    as_utc,
    utcnow,
)

PLENARY, CAUCUS, BILATERAL = "plenary", "caucus", "bilateral"
FORMATS = (PLENARY, CAUCUS, BILATERAL)
SIDES_OF = {CAUCUS: 1, BILATERAL: 2}
"""How many delegations a caucus and a bilateral take (a plenary takes every one)."""
MAX_PLACE = 200
MAX_ITEM = 300
MAX_ITEMS = 30


@dataclass(frozen=True)
class MeetingPlan:
    """What the facilitator sets for a meeting (a new one, or an edit).

    ``starts`` is a local date and time (``YYYY-MM-DDTHH:MM``) in the IANA zone ``zone``;
    ``place`` is ignored when ``online``; ``sides`` are delegation ids (ignored for a
    plenary); ``issues`` are agenda issue ids and ``items`` free agenda items.
    """

    starts: str
    zone: str
    format: str = PLENARY
    place: str = ""
    online: bool = False
    sides: Sequence[str] = ()
    issues: Sequence[str] = ()
    items: Sequence[str] = ()
    attendees: Sequence[str] = ()
    round_number: int | None = None


@dataclass(frozen=True)
class Attendee:
    """A seat present at a meeting, named as the reader may see it."""

    member_id: str
    name: str
    role: str
    delegation_id: str | None


@dataclass(frozen=True)
class MeetingView:
    """A meeting as a seat may see it."""

    id: str
    starts_at: datetime
    zone: str
    local: str
    format: str
    sides: list[str]
    place: str
    online: bool
    issues: list[str]
    items: list[str]
    attendees: list[Attendee]
    round_number: int | None
    cancelled: bool
    past: bool
    issue_names: dict[str, str] = field(default_factory=dict)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError(
            "zone",
            t_("the time zone is not one this server knows"),
            hint=t_("give an IANA time zone name such as Europe/Vienna or UTC"),
        ) from None


def _starts(text: str, zone: ZoneInfo) -> datetime:
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FieldError(
            "starts",
            t_("the start is not a date and time"),
            hint=t_("write it as YYYY-MM-DD HH:MM, e.g. 2027-03-14 10:00"),
        ) from None
    if local.tzinfo is not None:
        raise FieldError(
            "starts",
            t_("give the local time without an offset"),
            hint=t_("choose the time zone in its own field"),
        )
    return local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _sides(plan: MeetingPlan, delegations: list[str]) -> list[str]:
    if plan.format not in FORMATS:
        raise FieldError(
            "format",
            t_("the format is not a meeting format"),
            hint=t_("choose plenary, caucus or bilateral"),
        )
    if plan.format == PLENARY:
        return delegations
    chosen = list(dict.fromkeys(plan.sides))
    if any(side not in delegations for side in chosen):
        raise FieldError("sides", t_("a chosen side is not a delegation of this dialogue"))
    if len(chosen) != SIDES_OF[plan.format]:
        message = (
            t_("a caucus meets exactly one side")
            if plan.format == CAUCUS
            else t_("a bilateral meets exactly two sides")
        )
        raise FieldError("sides", message, hint=t_("tick the sides taking part"))
    return chosen


def _details(plan: MeetingPlan, issue_ids: set[str]) -> dict[str, object]:
    place = "" if plan.online else " ".join(plan.place.split())
    if not plan.online and not place:
        raise FieldError("place", t_("give the place of the meeting"), hint=t_("or tick “online”"))
    if len(place) > MAX_PLACE:
        raise FieldError("place", t_("the place is longer than {n} characters", n=MAX_PLACE))
    issues = list(dict.fromkeys(plan.issues))
    if any(i not in issue_ids for i in issues):
        raise FieldError("issues", t_("an agenda issue of the meeting is not on the agenda"))
    items = [" ".join(item.split()) for item in plan.items if item.strip()]
    if len(items) > MAX_ITEMS or any(len(item) > MAX_ITEM for item in items):
        raise FieldError(
            "items",
            t_("at most {n} free items of {limit} characters each", n=MAX_ITEMS, limit=MAX_ITEM),
        )
    return {"place": place, "online": plan.online, "issues": issues, "items": items}


def _may_attend(member: MemberRow | None, dialogue_id: str, fmt: str, sides: list[str]) -> bool:
    if member is None or member.dialogue_id != dialogue_id:
        return False
    if member.role == MEMBER:
        return member.delegation_id in sides
    return member.role != OBSERVER or fmt == PLENARY


def _apply(s: Session, keys: DialogueKeys, row: MeetingRow, plan: MeetingPlan) -> None:
    """Check ``plan`` against the dialogue and write it into ``row`` (and its attendance)."""
    zone = _zone(plan.zone)
    starts = _starts(plan.starts, zone)
    dialogue = repo.get(s, DialogueRow, row.dialogue_id)
    assert dialogue is not None
    delegations = [d.id for d in repo.delegations(s, row.dialogue_id) if d.role == "delegation"]
    sides = _sides(plan, delegations)
    agenda = read_agenda(keys, dialogue)
    details = _details(plan, {issue.id for issue in agenda.issues})
    round_id = None
    if plan.round_number is not None:
        found = [r for r in repo.rounds(s, row.dialogue_id) if r.number == plan.round_number]
        if not found:
            raise FieldError("round", t_("round {n} does not exist", n=plan.round_number))
        round_id = found[0].id
    for member_id in plan.attendees:
        if not _may_attend(repo.get(s, MemberRow, member_id), row.dialogue_id, plan.format, sides):
            raise FieldError("attendees", t_("an attendee does not take part in this meeting"))
    row.starts_at, row.zone, row.format = starts, zone.key, plan.format
    row.sides, row.round_id = " ".join(sides), round_id
    row.details_ct = keys.seal("meetings", "details", row.id, details)
    stored.set_attendees(s, row, plan.attendees)


def audiences(row: MeetingRow) -> list[str]:
    """The log audiences of a meeting's entries: everyone for a plenary, else its sides."""
    return ["all"] if row.format == PLENARY else row.sides.split()


def _log(platform: Platform, s: Session, action: str, actor: Actor, row: MeetingRow) -> None:
    for audience in audiences(row):
        platform.log(
            s,
            action,
            dialogue_id=row.dialogue_id,
            actor_id=actor.user_id,
            target=row.id,
            audience=audience,
        )


def schedule(platform: Platform, actor: Actor, dialogue_id: str, plan: MeetingPlan) -> str:
    """Schedule a meeting (facilitator); its id."""
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        keys = platform.keys(s, dialogue_id)
        row = MeetingRow(
            dialogue_id=dialogue_id,
            starts_at=utcnow(),
            zone="UTC",
            format=PLENARY,
            sides="",
            details_ct=b"",
        )
        repo.add(s, row)
        _apply(s, keys, row, plan)
        _log(platform, s, "meeting.scheduled", actor, row)
        return row.id


def edit(
    platform: Platform, actor: Actor, dialogue_id: str, meeting_id: str, plan: MeetingPlan
) -> None:
    """Change a meeting (facilitator): everything of it, attendance included."""
    with platform.unit() as s:
        place = access.facilitator(s, actor, dialogue_id)
        row = access.owned(s, place, MeetingRow, meeting_id)
        _apply(s, platform.keys(s, dialogue_id), row, plan)
        _log(platform, s, "meeting.changed", actor, row)


def cancel(platform: Platform, actor: Actor, dialogue_id: str, meeting_id: str) -> None:
    """Cancel a meeting (facilitator); it stays in the history, marked cancelled."""
    with platform.unit() as s:
        place = access.facilitator(s, actor, dialogue_id)
        row = access.owned(s, place, MeetingRow, meeting_id)
        row.cancelled = True
        _log(platform, s, "meeting.cancelled", actor, row)


def visible(place: Seat, row: MeetingRow) -> bool:
    """Whether the seat may see the meeting (and anything kept under it)."""
    if place.is_facilitator:
        return True
    if place.role == MEMBER:
        return place.delegation_id in row.sides.split()
    return place.role == OBSERVER and row.format == PLENARY


def seen(s: Session, place: Seat, meeting_id: str) -> MeetingRow:
    """A meeting the seat may see, or NotFound (a hidden meeting looks missing)."""
    row = access.owned(s, place, MeetingRow, meeting_id)
    if not visible(place, row):
        raise NotFound()
    return row


def _attendees(s: Session, keys: DialogueKeys, place: Seat, row: MeetingRow) -> list[Attendee]:
    out = []
    for member_id in stored.attendees(s, row.id):
        member = repo.get(s, MemberRow, member_id)
        user = None if member is None else repo.get(s, UserRow, member.user_id)
        if member is None or user is None:
            continue
        own = member.delegation_id is not None and member.delegation_id == place.delegation_id
        if place.is_facilitator or own or member.user_id == place.actor.user_id:
            name = user.display_name
        else:
            name = keys.open("members", "pseudonym", member.id, member.pseudonym_ct)
        out.append(Attendee(member.id, name, member.role, member.delegation_id))
    return sorted(out, key=lambda a: (a.delegation_id or "", a.name.lower()))


def view_of(
    s: Session, keys: DialogueKeys, place: Seat, row: MeetingRow, now: datetime
) -> MeetingView:
    details = keys.open("meetings", "details", row.id, row.details_ct)
    dialogue = repo.get(s, DialogueRow, row.dialogue_id)
    assert dialogue is not None
    names = {issue.id: issue.name for issue in read_agenda(keys, dialogue).issues}
    round_row = None if row.round_id is None else repo.get(s, RoundRow, row.round_id)
    starts = as_utc(row.starts_at)
    return MeetingView(
        row.id,
        starts,
        row.zone,
        starts.astimezone(ZoneInfo(row.zone)).strftime("%Y-%m-%d %H:%M"),
        row.format,
        row.sides.split(),
        details["place"],
        details["online"],
        [i for i in details["issues"] if i in names],
        details["items"],
        _attendees(s, keys, place, row),
        None if round_row is None else round_row.number,
        row.cancelled,
        starts < now,
        names,
    )


def meetings(
    platform: Platform, actor: Actor, dialogue_id: str, *, now: datetime | None = None
) -> list[MeetingView]:
    """Every meeting the seat may see, earliest first."""
    moment = now or utcnow()
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        keys = platform.keys(s, dialogue_id)
        return [
            view_of(s, keys, place, row, moment)
            for row in stored.meetings(s, dialogue_id)
            if visible(place, row)
        ]


def meeting(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    meeting_id: str,
    *,
    now: datetime | None = None,
) -> MeetingView:
    """One meeting the seat may see, or NotFound."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        row = seen(s, place, meeting_id)
        return view_of(s, platform.keys(s, dialogue_id), place, row, now or utcnow())


def seats(platform: Platform, actor: Actor, dialogue_id: str) -> list[Attendee]:
    """Every seat of the dialogue, by name, to choose attendees from (facilitator)."""
    with platform.view() as s:
        access.facilitator(s, actor, dialogue_id)
        found = [
            Attendee(m.id, user.display_name, m.role, m.delegation_id)
            for m, user in repo.members_with_users(s, dialogue_id)
        ]
        return sorted(found, key=lambda a: (a.delegation_id or "", a.name.lower()))


def next_meeting(
    platform: Platform, actor: Actor, dialogue_id: str, *, now: datetime | None = None
) -> MeetingView | None:
    """The next meeting the seat may see that is not cancelled (None when none is set)."""
    moment = now or utcnow()
    upcoming = [
        m
        for m in meetings(platform, actor, dialogue_id, now=moment)
        if not m.cancelled and not m.past
    ]
    return upcoming[0] if upcoming else None
