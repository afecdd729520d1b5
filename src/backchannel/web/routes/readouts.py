"""Readouts: the list, the facilitator's review and issue, the signed files; the JSON API.

The facilitator chooses an audience, language, format and paper, reviews the readout as
it will be issued (a GET: nothing is written), then issues it with the page's one-time
form (post/redirect/get); the issue form carries the digest of what was reviewed, so a
readout that changed meanwhile is refused, and the same form sent twice issues one
readout. Every seat downloads the readouts issued to its audience.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from backchannel.errors import InputError, NotAllowedNow
from backchannel.i18n import LANGUAGE_NAMES, languages
from backchannel.model.readout import ALL, OBSERVERS, Format, Page
from backchannel.services import readouts, rounds
from backchannel.services.accounts import Current
from backchannel.services.platform import Platform
from backchannel.web.api_models import CHANGES_STATE, EVERY_ROUTE, IN_A_DIALOGUE, DialogueId
from backchannel.web.deps import CurrentDep, PlatformDep, read
from backchannel.web.errors import Shown, form_error
from backchannel.web.once import OnceRoute
from backchannel.web.readout_models import (
    Audience,
    DraftOut,
    PublicKeyOut,
    ReadoutBody,
    ReadoutId,
    ReadoutOut,
)

pages = APIRouter(include_in_schema=False, route_class=OnceRoute)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=EVERY_ROUTE, route_class=OnceRoute)

FIELDS = ("audience", "language", "format", "page")


CHART_STYLES = re.compile(r"<style>[^<]*</style>")
"""The style a readout's charts carry inside them (for the PDF renderer)."""


def _on_page(article: str) -> str:
    """A readout's article (escaped where it was made) shown inside a page: without its
    charts' own style, which the page's policy refuses and its style sheet replaces."""
    return CHART_STYLES.sub("", article)


def _choice(form: Any, name: str, default: str) -> str:
    return str(form.get(name) or default)[:80]


async def _page(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    *,
    draft: readouts.Draft | None = None,
    chosen: dict[str, str] | None = None,
    error: Shown | None = None,
) -> HTMLResponse:
    view, found = await read(platform, rounds.overview, platform, current.actor, dialogue_id)
    listed = await read(platform, readouts.readouts, platform, current.actor, dialogue_id)
    sides = [(d.id, d.name) for d in view.delegations if not d.absent]
    context: dict[str, Any] = {
        "current": current,
        "d": view,
        "rounds": found,
        "round": found[-1] if found else None,
        "readouts": listed,
        "sides": sides,
        "observers": OBSERVERS,
        "everyone": ALL,
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in languages()],
        "formats": [f.value for f in Format],
        "pages": [p.value for p in Page],
        "chosen": chosen or {"audience": "", "language": "en", "format": "pdf", "page": "a4"},
        "draft": draft,
        "article": None if draft is None else Markup(_on_page(draft.article)),  # noqa: S704
        "public_key": readouts.public_key(platform),
        "error": error,
    }
    templates = request.app.state.templates
    response: HTMLResponse = templates.TemplateResponse(
        request, "readouts.html", context, status_code=200 if error is None else error.status
    )
    return response


@pages.get("/d/{dialogue_id}/readouts")
async def readouts_page(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """The readouts issued to the seat's audience; for the facilitator, the form to draft one."""
    return await _page(request, platform, current, dialogue_id)


@pages.get("/d/{dialogue_id}/readouts/draft")
async def readout_review(
    request: Request,
    dialogue_id: str,
    platform: PlatformDep,
    current: CurrentDep,
    audience: Annotated[str, Query(max_length=80)] = "",
    language: Annotated[str, Query(max_length=8)] = "en",
    format: Annotated[str, Query(max_length=8)] = "pdf",
    page: Annotated[str, Query(max_length=8)] = "a4",
) -> HTMLResponse:
    """The readout as it would be issued (facilitator), and the form that issues it."""
    chosen = {"audience": audience, "language": language, "format": format, "page": page}
    try:
        draft = await run_in_threadpool(
            readouts.draft, platform, current.actor, dialogue_id, audience, language
        )
    except InputError as refused:  # NotFound (not the facilitator) answers like a missing page
        return await _page(
            request, platform, current, dialogue_id, chosen=chosen, error=form_error(refused)
        )
    return await _page(request, platform, current, dialogue_id, draft=draft, chosen=chosen)


@pages.post("/d/{dialogue_id}/readouts")
async def readout_issue(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Issue the reviewed readout (facilitator): signed, stored, logged."""
    form = await request.form()
    chosen = {name: _choice(form, name, "") for name in FIELDS}
    try:
        issued = await run_in_threadpool(
            readouts.issue,
            platform,
            current.actor,
            dialogue_id,
            chosen["audience"],
            chosen["language"],
            chosen["format"],
            chosen["page"],
            _choice(form, "basis", ""),
        )
    except (InputError, NotAllowedNow) as refused:
        return await _page(
            request, platform, current, dialogue_id, chosen=chosen, error=form_error(refused)
        )
    return RedirectResponse(f"/d/{dialogue_id}/readouts#readout-{issued.id}", status_code=303)


def _download(found: readouts.ReadoutFile) -> Response:
    return Response(
        found.data,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.name}"',
            "X-Readout-Fingerprint": found.fingerprint,
        },
    )


@pages.get("/d/{dialogue_id}/readouts/{readout_id}")
async def readout_file(
    dialogue_id: str, readout_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """An issued readout's signed file (HTML or PDF), as an attachment."""
    found = await read(platform, readouts.fetch, platform, current.actor, dialogue_id, readout_id)
    return _download(found)


@api.get("/dialogues/{dialogue_id}/readouts", responses=IN_A_DIALOGUE)
async def readout_list(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> list[ReadoutOut]:
    """The readouts issued to the caller's audience (the facilitator: every one), newest first."""
    found = await read(platform, readouts.readouts, platform, current.actor, dialogue_id)
    return [ReadoutOut.model_validate(r.__dict__) for r in found]


@api.get("/dialogues/{dialogue_id}/readouts/draft", responses=IN_A_DIALOGUE)
async def readout_draft(
    dialogue_id: DialogueId,
    audience: Annotated[Audience, Query()],
    platform: PlatformDep,
    current: CurrentDep,
    language: Annotated[str, Query(min_length=2, max_length=8)] = "en",
) -> DraftOut:
    """The readout for ``audience`` as it would be issued now (facilitator): review its
    ``article``, then issue it with its ``basis``."""
    found = await run_in_threadpool(
        readouts.draft, platform, current.actor, dialogue_id, audience, language
    )
    return DraftOut(basis=found.basis, article=found.article)


@api.post(
    "/dialogues/{dialogue_id}/readouts",
    status_code=201,
    responses={**CHANGES_STATE, **IN_A_DIALOGUE},
)
async def readout_add(
    dialogue_id: DialogueId, body: ReadoutBody, platform: PlatformDep, current: CurrentDep
) -> ReadoutOut:
    """Sign, store and log the reviewed readout (facilitator). 409 when what the audience
    may see changed since the draft gave ``basis``; the same reviewed readout issued again
    answers the one already issued."""
    found = await run_in_threadpool(
        readouts.issue,
        platform,
        current.actor,
        dialogue_id,
        body.audience,
        body.language,
        body.format.value,
        body.page.value,
        body.basis,
    )
    return ReadoutOut.model_validate(found.__dict__)


@api.get("/dialogues/{dialogue_id}/readouts/{readout_id}", responses=IN_A_DIALOGUE)
async def readout_download(
    dialogue_id: DialogueId, readout_id: ReadoutId, platform: PlatformDep, current: CurrentDep
) -> Response:
    """An issued readout's signed file (its fingerprint in ``X-Readout-Fingerprint``)."""
    found = await read(platform, readouts.fetch, platform, current.actor, dialogue_id, readout_id)
    return _download(found)


@api.get("/readouts/public-key")
async def readout_public_key(platform: PlatformDep, current: CurrentDep) -> PublicKeyOut:
    """The server's public key that signs readouts, to pin and verify them with
    ``backchannel readout verify FILE --key KEY``."""
    return PublicKeyOut(key=readouts.public_key(platform))


routers = (pages, api)
"""This module's routers, each route added to the application as it is (see
:func:`backchannel.web.app.add_routes`)."""
