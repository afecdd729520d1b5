"""Meetings, their shared records and the delegations' private notes: the pages (plain
forms) and the JSON API routes.

Both are in :data:`router`, which the app includes once, with the non-papers' routes
(:mod:`backchannel.web.routes.nonpapers`). A form that cannot be saved is
shown again with what was typed and the error beside its field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from backchannel.errors import BackchannelError, FieldError, NotFound, field_of
from backchannel.messages import t_
from backchannel.services import meetings, notes, records, rounds
from backchannel.services.accounts import Current
from backchannel.services.meetings import MeetingPlan, MeetingView
from backchannel.services.platform import Platform
from backchannel.web.api_models import (
    CHANGES_STATE,
    EVERY_ROUTE,
    IN_A_DIALOGUE,
    Created,
    DialogueId,
)
from backchannel.web.deps import CurrentDep, PlatformDep, read, write
from backchannel.web.errors import Shown, form_error
from backchannel.web.once import OnceRoute
from backchannel.web.record_models import (
    AnswerBody,
    AnsweredOut,
    MeetingBody,
    MeetingId,
    MeetingOut,
    NoteBody,
    NoteOut,
    RecordBody,
    RecordOut,
    VersionOut,
)
from backchannel.web.routes import nonpapers
from backchannel.web.routes.pages import back

pages = APIRouter(include_in_schema=False, route_class=OnceRoute)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=EVERY_ROUTE, route_class=OnceRoute)
WRITE = {**CHANGES_STATE, **IN_A_DIALOGUE}
READ = IN_A_DIALOGUE


# ------------------------------------------------------------------ pages
def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    templates = request.app.state.templates
    response: HTMLResponse = templates.TemplateResponse(request, name, context, status_code=status)
    return response


def _round_number(value: object) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise FieldError("round", t_("choose a round from the list")) from None


def plan_from_form(form: FormData) -> MeetingPlan:
    """A meeting plan from the fields of the meeting form (what was typed, unchecked)."""
    return MeetingPlan(
        starts=str(form.get("starts", "")),
        zone=str(form.get("zone", "")),
        format=str(form.get("format", meetings.PLENARY)),
        place=str(form.get("place", "")),
        online=form.get("online") == "yes",
        sides=[str(v) for v in form.getlist("side")],
        issues=[str(v) for v in form.getlist("issue")],
        items=str(form.get("items", "")).splitlines(),
        attendees=[str(v) for v in form.getlist("attendee")],
        round_number=_round_number(form.get("round")),
    )


def _typed(form: FormData) -> dict[str, Any]:
    """What was typed into the meeting form, to show it again."""
    return {
        "starts": str(form.get("starts", "")),
        "zone": str(form.get("zone", "")),
        "format": str(form.get("format", meetings.PLENARY)),
        "place": str(form.get("place", "")),
        "online": form.get("online") == "yes",
        "sides": [str(v) for v in form.getlist("side")],
        "issues": [str(v) for v in form.getlist("issue")],
        "items": str(form.get("items", "")),
        "attendees": [str(v) for v in form.getlist("attendee")],
        "round": str(form.get("round", "")),
    }


def _values(found: MeetingView) -> dict[str, Any]:
    """A meeting's form values, for editing it."""
    return {
        "starts": found.local.replace(" ", "T"),
        "zone": found.zone,
        "format": found.format,
        "place": found.place,
        "online": found.online,
        "sides": found.sides,
        "issues": found.issues,
        "items": "\n".join(found.items),
        "attendees": [a.member_id for a in found.attendees],
        "round": "" if found.round_number is None else str(found.round_number),
    }


NEW = {
    "starts": "",
    "zone": "UTC",
    "format": meetings.PLENARY,
    "place": "",
    "online": False,
    "sides": [],
    "issues": [],
    "items": "",
    "attendees": [],
    "round": "",
}


async def _context(platform: Platform, current: Current, dialogue_id: str) -> dict[str, Any]:
    view, found = await read(platform, rounds.overview, platform, current.actor, dialogue_id)
    seats = []
    if view.seat.is_facilitator:
        seats = await read(platform, meetings.seats, platform, current.actor, dialogue_id)
    return {
        "current": current,
        "d": view,
        "rounds": found,
        "round": found[-1] if found else None,
        "seats": seats,
    }


async def _list(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    *,
    values: dict[str, Any] | None = None,
    error: Shown | None = None,
    error_field: str | None = None,
) -> HTMLResponse:
    context = await _context(platform, current, dialogue_id)
    found = await read(platform, meetings.meetings, platform, current.actor, dialogue_id)
    upcoming = [m for m in found if not m.past and not m.cancelled]
    return _page(
        request,
        "meetings.html",
        status=200 if error is None else error.status,
        **context,
        meetings=found,
        next_meeting=upcoming[0] if upcoming else None,
        values=values or NEW,
        error=error,
        error_field=error_field,
    )


async def _one(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    meeting_id: str,
    *,
    values: dict[str, Any] | None = None,
    typed_record: str | None = None,
    typed_comment: str | None = None,
    typed_note: str | None = None,
    error: Shown | None = None,
    error_field: str | None = None,
) -> HTMLResponse:
    context = await _context(platform, current, dialogue_id)
    actor = current.actor
    found = await read(platform, meetings.meeting, platform, actor, dialogue_id, meeting_id)
    try:
        record = await read(platform, records.record, platform, actor, dialogue_id, meeting_id)
    except NotFound:
        record = None
    note = None
    if found.sides and context["d"].seat.delegation_id in found.sides:
        note = await read(platform, notes.note, platform, actor, dialogue_id, meeting_id)
    return _page(
        request,
        "meeting.html",
        status=200 if error is None else error.status,
        **context,
        m=found,
        record=record,
        values=values or _values(found),
        typed_record=typed_record,
        typed_comment=typed_comment,
        note=note,
        typed_note=typed_note,
        saved_note=request.query_params.get("note") == "saved",
        error=error,
        error_field=error_field,
    )


@pages.get("/d/{dialogue_id}/meetings")
async def meetings_page(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """The next meeting, the history, and (facilitator) the form to schedule one."""
    return await _list(request, platform, current, dialogue_id)


@pages.post("/d/{dialogue_id}/meetings")
async def meeting_schedule(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Schedule a meeting (facilitator)."""
    form = await request.form()
    try:
        plan = plan_from_form(form)
        meeting_id = await run_in_threadpool(
            meetings.schedule, platform, current.actor, dialogue_id, plan
        )
    except BackchannelError as refused:
        shown = form_error(refused)
        return await _list(
            request,
            platform,
            current,
            dialogue_id,
            values=_typed(form),
            error=shown,
            error_field=field_of(refused),
        )
    return back(f"/d/{dialogue_id}/meetings/{meeting_id}")


@pages.get("/d/{dialogue_id}/meetings/{meeting_id}")
async def meeting_page(
    request: Request, dialogue_id: str, meeting_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """One meeting: details, attendees, the shared record and the forms of the seat's role."""
    return await _one(request, platform, current, dialogue_id, meeting_id)


async def _write(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    meeting_id: str,
    call: Callable[[], object],
    *,
    then: str,
    error_field: str | None = None,
    **typed: Any,
) -> Response:
    """Run one of a meeting's forms (a short write, :func:`~backchannel.web.deps.write`),
    then back to ``then``;
    when it is refused, the meeting again with what was typed (``typed``, as :func:`_one`
    takes it) and the error beside ``error_field`` (else the field the error names)."""
    try:
        await write(platform, call)
    except BackchannelError as refused:
        return await _one(
            request,
            platform,
            current,
            dialogue_id,
            meeting_id,
            error=form_error(refused),
            error_field=error_field or field_of(refused),
            **typed,
        )
    return back(f"/d/{dialogue_id}/meetings/{meeting_id}{then}")


@pages.post("/d/{dialogue_id}/meetings/{meeting_id}")
async def meeting_edit(
    request: Request, dialogue_id: str, meeting_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Change a meeting (facilitator)."""
    form = await request.form()

    def edit() -> None:
        plan = plan_from_form(form)
        meetings.edit(platform, current.actor, dialogue_id, meeting_id, plan)

    return await _write(
        request, platform, current, dialogue_id, meeting_id, edit, then="", values=_typed(form)
    )


@pages.post("/d/{dialogue_id}/meetings/{meeting_id}/cancel")
async def meeting_cancel(
    request: Request, dialogue_id: str, meeting_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Cancel a meeting (facilitator)."""
    await run_in_threadpool(meetings.cancel, platform, current.actor, dialogue_id, meeting_id)
    return back(f"/d/{dialogue_id}/meetings/{meeting_id}")


@pages.post("/d/{dialogue_id}/meetings/{meeting_id}/record")
async def record_write(
    request: Request, dialogue_id: str, meeting_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Save a new version of the shared record (facilitator)."""
    text = str((await request.form()).get("text", ""))
    return await _write(
        request,
        platform,
        current,
        dialogue_id,
        meeting_id,
        lambda: records.write(platform, current.actor, dialogue_id, meeting_id, text),
        then="#record",
        error_field="text",
        typed_record=text,
    )


@pages.post("/d/{dialogue_id}/meetings/{meeting_id}/record/answer")
async def record_answer(
    request: Request, dialogue_id: str, meeting_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Confirm the current version, or ask for changes (a member of a side taking part)."""
    form = await request.form()
    comment, version = str(form.get("comment", "")), str(form.get("version", ""))
    return await _write(
        request,
        platform,
        current,
        dialogue_id,
        meeting_id,
        lambda: records.answer(
            platform,
            current.actor,
            dialogue_id,
            meeting_id,
            int(version) if version.isdigit() else 0,
            str(form.get("answer", "")),
            comment,
        ),
        then="#record",
        error_field="comment",
        typed_comment=comment,
    )


@pages.post("/d/{dialogue_id}/meetings/{meeting_id}/note")
async def note_save(
    request: Request, dialogue_id: str, meeting_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Save the own delegation's private notes of the meeting (its members only)."""
    text = str((await request.form()).get("note", ""))
    return await _write(
        request,
        platform,
        current,
        dialogue_id,
        meeting_id,
        lambda: notes.save_note(platform, current.actor, dialogue_id, meeting_id, text),
        then="?note=saved#notes",
        error_field="note",
        typed_note=text,
    )


# ------------------------------------------------------------------ JSON API
M = "/dialogues/{dialogue_id}/meetings"


@api.get(M, responses=READ)
async def meeting_list(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> list[MeetingOut]:
    """The meetings the caller may see, earliest first (attendees of the other side by
    pseudonym)."""
    found = await read(platform, meetings.meetings, platform, current.actor, dialogue_id)
    return [MeetingOut.of(m) for m in found]


@api.post(M, status_code=201, responses=WRITE)
async def meeting_add(
    dialogue_id: DialogueId, body: MeetingBody, platform: PlatformDep, current: CurrentDep
) -> Created:
    """Schedule a meeting (facilitator)."""
    found = await run_in_threadpool(
        meetings.schedule, platform, current.actor, dialogue_id, body.plan()
    )
    return Created(id=found)


@api.get(M + "/{meeting_id}", responses=READ)
async def meeting_get(
    dialogue_id: DialogueId, meeting_id: MeetingId, platform: PlatformDep, current: CurrentDep
) -> MeetingOut:
    """One meeting the caller may see."""
    found = await read(platform, meetings.meeting, platform, current.actor, dialogue_id, meeting_id)
    return MeetingOut.of(found)


@api.put(M + "/{meeting_id}", responses=WRITE)
async def meeting_put(
    dialogue_id: DialogueId,
    meeting_id: MeetingId,
    body: MeetingBody,
    platform: PlatformDep,
    current: CurrentDep,
) -> MeetingOut:
    """Change a meeting (facilitator): every field, attendance included."""
    actor = current.actor
    await run_in_threadpool(meetings.edit, platform, actor, dialogue_id, meeting_id, body.plan())
    found = await read(platform, meetings.meeting, platform, actor, dialogue_id, meeting_id)
    return MeetingOut.of(found)


@api.post(M + "/{meeting_id}/cancel", responses=WRITE)
async def meeting_cancel_api(
    dialogue_id: DialogueId, meeting_id: MeetingId, platform: PlatformDep, current: CurrentDep
) -> MeetingOut:
    """Cancel a meeting (facilitator); it stays in the history."""
    actor = current.actor
    await run_in_threadpool(meetings.cancel, platform, actor, dialogue_id, meeting_id)
    found = await read(platform, meetings.meeting, platform, actor, dialogue_id, meeting_id)
    return MeetingOut.of(found)


@api.get(M + "/{meeting_id}/record", responses=READ)
async def record_get(
    dialogue_id: DialogueId, meeting_id: MeetingId, platform: PlatformDep, current: CurrentDep
) -> RecordOut:
    """The current version of the meeting's shared record (404 when there is none, or for
    an observer before it is agreed)."""
    found = await read(platform, records.record, platform, current.actor, dialogue_id, meeting_id)
    return RecordOut.model_validate(found.__dict__)


@api.put(M + "/{meeting_id}/record", responses=WRITE)
async def record_put(
    dialogue_id: DialogueId,
    meeting_id: MeetingId,
    body: RecordBody,
    platform: PlatformDep,
    current: CurrentDep,
) -> VersionOut:
    """Save a new version of the shared record (facilitator); the sides answer it anew."""
    version = await run_in_threadpool(
        records.write, platform, current.actor, dialogue_id, meeting_id, body.text
    )
    return VersionOut(version=version)


@api.post(M + "/{meeting_id}/record/answers", responses=WRITE)
async def record_answer_api(
    dialogue_id: DialogueId,
    meeting_id: MeetingId,
    body: AnswerBody,
    platform: PlatformDep,
    current: CurrentDep,
) -> AnsweredOut:
    """Confirm the current version, or ask for changes with a comment to the facilitator."""
    await run_in_threadpool(
        records.answer,
        platform,
        current.actor,
        dialogue_id,
        meeting_id,
        body.version,
        body.answer.value,
        body.comment,
    )
    return AnsweredOut(version=body.version, answer=body.answer)


@api.get(M + "/{meeting_id}/note", responses=READ)
async def note_get(
    dialogue_id: DialogueId, meeting_id: MeetingId, platform: PlatformDep, current: CurrentDep
) -> NoteOut:
    """The own delegation's private notes of the meeting (members of its sides only)."""
    found = await read(platform, notes.note, platform, current.actor, dialogue_id, meeting_id)
    return NoteOut.model_validate(found.__dict__)


@api.put(M + "/{meeting_id}/note", responses=WRITE)
async def note_put(
    dialogue_id: DialogueId,
    meeting_id: MeetingId,
    body: NoteBody,
    platform: PlatformDep,
    current: CurrentDep,
) -> NoteOut:
    """Replace the own delegation's private notes of the meeting (an empty text clears them)."""
    found = await write(
        platform, notes.save_note, platform, current.actor, dialogue_id, meeting_id, body.text
    )
    return NoteOut.model_validate(found.__dict__)


routers = (pages, api, *nonpapers.routers)
"""This module's routers, each route added to the application as it is (see
:func:`backchannel.web.app.add_routes`)."""
