"""Non-papers: the page (a list and a plain form) and the JSON API routes.

Every read runs in the thread pool, not as a read on the event loop: it first destroys the
non-papers whose time is up, which is a write.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from backchannel.errors import BackchannelError, FieldError, field_of
from backchannel.messages import t_
from backchannel.services import nonpapers, rounds
from backchannel.services.accounts import Current
from backchannel.services.platform import Platform
from backchannel.web.api_models import (
    CHANGES_STATE,
    EVERY_ROUTE,
    IN_A_DIALOGUE,
    Created,
    DialogueId,
)
from backchannel.web.deps import CurrentDep, PlatformDep, read
from backchannel.web.errors import Shown, form_error
from backchannel.web.once import OnceRoute
from backchannel.web.record_models import NonPaperBody, NonPaperOut

pages = APIRouter(include_in_schema=False, route_class=OnceRoute)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=EVERY_ROUTE, route_class=OnceRoute)


async def _page(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    *,
    typed: dict[str, str] | None = None,
    error: Shown | None = None,
    error_field: str | None = None,
) -> HTMLResponse:
    view, found = await read(platform, rounds.overview, platform, current.actor, dialogue_id)
    listed = await run_in_threadpool(nonpapers.nonpapers, platform, current.actor, dialogue_id)
    context: dict[str, Any] = {
        "current": current,
        "d": view,
        "rounds": found,
        "round": found[-1] if found else None,
        "nonpapers": listed,
        "typed": typed or {"text": "", "days": "7"},
        "max_days": nonpapers.MAX_DAYS,
        "error": error,
        "error_field": error_field,
    }
    templates = request.app.state.templates
    response: HTMLResponse = templates.TemplateResponse(
        request, "nonpapers.html", context, status_code=200 if error is None else error.status
    )
    return response


@pages.get("/d/{dialogue_id}/nonpapers")
async def nonpapers_page(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """The non-papers the seat may read, and the form to circulate one."""
    return await _page(request, platform, current, dialogue_id)


@pages.post("/d/{dialogue_id}/nonpapers")
async def nonpaper_circulate(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Circulate a non-paper (facilitator: to every side; a member: to the facilitator)."""
    form = await request.form()
    typed = {"text": str(form.get("text", "")), "days": str(form.get("days", ""))}
    try:
        if not typed["days"].strip().isdigit():
            raise FieldError("days", t_("give the number of days as a whole number"))
        await run_in_threadpool(
            nonpapers.circulate,
            platform,
            current.actor,
            dialogue_id,
            typed["text"],
            int(typed["days"]),
        )
    except BackchannelError as refused:
        shown = form_error(refused)
        field = field_of(refused)
        return await _page(
            request,
            platform,
            current,
            dialogue_id,
            typed=typed,
            error=shown,
            error_field=field,
        )
    return RedirectResponse(f"/d/{dialogue_id}/nonpapers", status_code=303)


@api.get("/dialogues/{dialogue_id}/nonpapers", responses=IN_A_DIALOGUE)
async def nonpaper_list(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> list[NonPaperOut]:
    """The non-papers the caller may read (facilitator and members), after destroying those
    whose time is up."""
    found = await run_in_threadpool(nonpapers.nonpapers, platform, current.actor, dialogue_id)
    return [NonPaperOut.model_validate(n.__dict__) for n in found]


@api.post(
    "/dialogues/{dialogue_id}/nonpapers",
    status_code=201,
    responses={**CHANGES_STATE, **IN_A_DIALOGUE},
)
async def nonpaper_add(
    dialogue_id: DialogueId, body: NonPaperBody, platform: PlatformDep, current: CurrentDep
) -> Created:
    """Circulate a non-paper that is destroyed after ``days`` days."""
    found = await run_in_threadpool(
        nonpapers.circulate, platform, current.actor, dialogue_id, body.text, body.days
    )
    return Created(id=found)


routers = (pages, api)
"""This module's routers, each route added to the application as it is (see
:func:`backchannel.web.app.add_routes`)."""
