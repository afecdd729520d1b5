"""The escalation watch: the facilitator's page (the model's form, import, analysis,
what-if, explanations, state graph and releases) and its JSON API.

Only the facilitator reaches any of it; everyone else gets 404, as for a dialogue that
does not exist. The analysis runs in the thread pool (it is the engine's, bounded by
:data:`~backchannel.services.escalation.MAX_STATES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from backchannel.errors import BackchannelError, FieldError, InputError, field_of
from backchannel.messages import Render, t_
from backchannel.model.disclosure import CONCEPT_NAMES
from backchannel.services import escalation
from backchannel.services.accounts import Current
from backchannel.services.escalation import CONCEPTS, StoredModel, WhatIf
from backchannel.services.platform import Platform
from backchannel.web import escalation_form
from backchannel.web.api_models import (
    CHANGES_STATE,
    EVERY_ROUTE,
    IN_A_DIALOGUE,
    Created,
    DialogueId,
)
from backchannel.web.deps import CurrentDep, PlatformDep
from backchannel.web.errors import Shown, form_error
from backchannel.web.escalation_models import (
    Concept,
    EscalationOut,
    EscalationReleaseBody,
    EscalationSaved,
    ExplanationOut,
    ReplyOut,
    StepOut,
    WatchOut,
    analysis_out,
)
from backchannel.web.escalation_view import (
    Compared,
    Reply,
    WatchView,
    compare,
    explanation_view,
    watch_view,
)
from backchannel.web.forms import Typed
from backchannel.web.language import render_of
from backchannel.web.once import OnceRoute
from backchannel.web.routes.pages import _context, done, page

pages = APIRouter(include_in_schema=False, route_class=OnceRoute)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=EVERY_ROUTE, route_class=OnceRoute)
READ = IN_A_DIALOGUE
WRITE = {**CHANGES_STATE, **IN_A_DIALOGUE}


@dataclass
class Picture:
    """Everything the page shows of the saved model (what failed says why, in its place)."""

    before: WatchView | None = None
    after: WatchView | None = None
    compared: list[Compared] = field(default_factory=list)
    svg: Markup | None = None
    replies: list[Reply] | None = None
    stable: bool | None = None
    analysis_error: Shown | None = None
    horizon_error: Shown | None = None
    whatif_error: Shown | None = None
    explain_error: Shown | None = None


def _shown(error: BackchannelError) -> Shown:
    return form_error(error)


def _picture(
    platform: Platform,
    current: Current,
    dialogue_id: str,
    query: Any,
    render: Render,
) -> Picture:
    """The analysis, what-if, explanation and graph the query asks for (in the thread pool)."""
    out = Picture()
    actor = current.actor
    off, irreversible = escalation_form.whatif_fields(query)
    asked = WhatIf(off, irreversible)
    horizon = escalation.HORIZON
    try:
        horizon = escalation.horizon_of(query.get("horizon"))
    except FieldError as refused:
        out.horizon_error = _shown(refused)
    try:
        try:
            _, before, after = escalation.watch(platform, actor, dialogue_id, asked, horizon)
        except FieldError as refused:
            out.whatif_error = _shown(refused)
            _, before, after = escalation.watch(platform, actor, dialogue_id, horizon=horizon)
        out.before = watch_view(before)
        if after is not None:
            out.after = watch_view(after)
            out.compared = compare(out.before, out.after)
        concept = str(query.get("graph") or "seq")
        svg = escalation.graph(platform, actor, dialogue_id, concept, render=render)
        out.svg = Markup(svg.split("\n", 1)[1])  # noqa: S704 - render_svg escapes every text
    except BackchannelError as refused:
        out.analysis_error = _shown(refused)
        return out
    if query.get("state"):
        try:
            conflict, names, found = escalation.explain_state(
                platform,
                actor,
                dialogue_id,
                str(query.get("dm") or ""),
                str(query.get("state") or ""),
                str(query.get("concept") or "seq"),
            )
            out.replies = explanation_view(names, conflict, found)
            out.stable = found.stable
        except BackchannelError as refused:
            out.explain_error = _shown(refused)
    return out


async def _page(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    *,
    typed: Typed | None = None,
    error: Shown | None = None,
    field_name: str | None = None,
    form: str | None = None,
    release: dict[str, str] | None = None,
) -> HTMLResponse:
    stored = await run_in_threadpool(escalation.read_model, platform, current.actor, dialogue_id)
    context = await _context(platform, current, dialogue_id)
    picture = Picture()
    if stored is not None:
        picture = await run_in_threadpool(
            _picture, platform, current, dialogue_id, request.query_params, render_of(request)
        )
    shown = typed or (escalation_form.typed_from_model(stored.model) if stored else Typed({}))
    return page(
        request,
        "escalation.html",
        status=200 if error is None else error.status,
        **context,
        stored=stored,
        typed=shown,
        rows=escalation_form.rows(shown),
        reversibility=escalation_form.REVERSIBILITY,
        picture=picture,
        query=request.query_params,
        concepts=CONCEPTS,
        concept_names=CONCEPT_NAMES,
        max_states=escalation.MAX_STATES,
        max_upload=escalation.MAX_UPLOAD_BYTES,
        max_horizon=escalation.MAX_HORIZON,
        error=error,
        field=field_name,
        form=form,
        release=release or {},
    )


@pages.get("/d/{dialogue_id}/escalation")
async def escalation_page(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """The escalation watch (facilitator): the model, its analysis and the what-if asked
    in the query (``off``, ``irreversible``), an explanation (``dm``, ``state``,
    ``concept``) and the state graph (``graph``: the concept whose equilibria it marks)."""
    return await _page(request, platform, current, dialogue_id)


async def _refused(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    refused: BackchannelError,
    form: str,
    typed: Typed | None = None,
    release: dict[str, str] | None = None,
) -> HTMLResponse:
    shown = form_error(refused)
    return await _page(
        request,
        platform,
        current,
        dialogue_id,
        typed=typed,
        error=shown,
        field_name=field_of(refused),
        form=form,
        release=release,
    )


@pages.post("/d/{dialogue_id}/escalation")
async def escalation_save(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Save the model the form describes; a problem is shown beside its field (and line),
    with the form as typed."""
    form = await request.form()
    typed = escalation_form.typed_from_form(form)
    actor = current.actor
    try:
        stored = await run_in_threadpool(escalation.read_model, platform, actor, dialogue_id)
        data, places = escalation_form.data_from_form(form, stored.model if stored else None)
        try:
            model = escalation.model_from_data(data)
            await run_in_threadpool(escalation.save_model, platform, actor, dialogue_id, model)
        except InputError as refused:
            raise escalation_form.located(refused, places) from None
    except BackchannelError as refused:
        return await _refused(request, platform, current, dialogue_id, refused, "model", typed)
    return done(request, current, f"/d/{dialogue_id}/escalation#analysis", "escalation_saved")


@pages.post("/d/{dialogue_id}/escalation/import")
async def escalation_import(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Replace the model by the one in an uploaded conflict or GMCR+ file."""
    form = await request.form()
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise FieldError(
                "file", t_("no file was chosen"), hint=t_("choose a conflict file, then import it")
            )
        data = await upload.read(escalation.MAX_UPLOAD_BYTES + 1)
        await run_in_threadpool(
            escalation.import_model, platform, current.actor, dialogue_id, upload.filename, data
        )
    except BackchannelError as refused:
        if not isinstance(refused, FieldError) and isinstance(refused, InputError):
            refused = FieldError("file", refused.text, hint=refused.hint_text)
        return await _refused(request, platform, current, dialogue_id, refused, "import")
    return done(request, current, f"/d/{dialogue_id}/escalation#analysis", "escalation_saved")


@pages.post("/d/{dialogue_id}/escalation/releases")
async def escalation_release(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Release an escalation finding to one delegation (through the release machinery)."""
    form = await request.form()
    asked = {k: str(form.get(k) or "") for k in ("audience", "kind", "concept", "state", "horizon")}
    try:
        await run_in_threadpool(escalation.release, platform, current.actor, dialogue_id, **asked)
    except BackchannelError as refused:
        return await _refused(
            request, platform, current, dialogue_id, refused, "release", release=asked
        )
    return done(request, current, f"/d/{dialogue_id}/escalation#release", "escalation_released")


@pages.get("/d/{dialogue_id}/escalation/graph.svg")
async def escalation_graph(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """The state graph as an SVG file (``concept``: whose equilibria it marks; SEQ)."""
    concept = request.query_params.get("concept") or "seq"
    svg = await run_in_threadpool(
        escalation.graph,
        platform,
        current.actor,
        dialogue_id,
        concept,
        render_of(request),
    )
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Disposition": 'attachment; filename="state-graph.svg"'},
    )


# ---------------------------------------------------------------- the JSON API
def _out(stored: StoredModel | None) -> EscalationOut:
    if stored is None:
        return EscalationOut(revision=0)
    body = stored.model.model_dump(mode="json", exclude_none=True)
    return EscalationOut(revision=stored.revision, updated_at=stored.updated_at, model=body)


@api.get("/dialogues/{dialogue_id}/escalation", responses=READ)
async def escalation_get(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> EscalationOut:
    """The dialogue's escalation model as a conflict file (facilitator only)."""
    found = await run_in_threadpool(escalation.read_model, platform, current.actor, dialogue_id)
    return _out(found)


@api.put("/dialogues/{dialogue_id}/escalation", responses=WRITE)
async def escalation_put(
    dialogue_id: DialogueId, body: dict[str, Any], platform: PlatformDep, current: CurrentDep
) -> EscalationSaved:
    """Replace the escalation model by a conflict file given as JSON (checked as the CLI
    checks one; at most the page's number of feasible states)."""

    def save() -> StoredModel:
        escalation.read_model(platform, current.actor, dialogue_id)  # nobody else's is checked
        model = escalation.model_from_data(body)
        return escalation.save_model(platform, current.actor, dialogue_id, model)

    found = await run_in_threadpool(save)
    return EscalationSaved(revision=found.revision)


@api.get("/dialogues/{dialogue_id}/escalation/analysis", responses=READ)
async def escalation_analysis(
    dialogue_id: DialogueId,
    platform: PlatformDep,
    current: CurrentDep,
    off: Annotated[list[str], Query(max_length=64)] = [],  # noqa: B006 - FastAPI's way
    irreversible: Annotated[list[str], Query(max_length=64)] = [],  # noqa: B006
    horizon: Annotated[int, Query(ge=1, le=escalation.MAX_HORIZON)] = escalation.HORIZON,
) -> WatchOut:
    """Equilibria and stable states per concept, paths from the status quo and rankings;
    with ``off`` or ``irreversible`` options, the what-if's analysis beside it. With two
    movers, limited-move stability (``limited``) at ``horizon`` moves too."""
    asked = WhatIf(tuple(off), tuple(irreversible))
    stored, before, after = await run_in_threadpool(
        escalation.watch, platform, current.actor, dialogue_id, asked, horizon
    )
    return WatchOut(
        revision=stored.revision,
        analysis=analysis_out(watch_view(before)),
        whatif=None if after is None else analysis_out(watch_view(after)),
    )


@api.get("/dialogues/{dialogue_id}/escalation/explain", responses=READ)
async def escalation_explain(
    dialogue_id: DialogueId,
    platform: PlatformDep,
    current: CurrentDep,
    dm: Annotated[str, Query(min_length=1, max_length=200)],
    state: Annotated[str, Query(min_length=1, max_length=64)],
    concept: Concept = "seq",
) -> ExplanationOut:
    """Why ``state`` is (or is not) stable for ``dm`` under ``concept``: each improvement
    and the sanction that deters it."""
    conflict, names, found = await run_in_threadpool(
        escalation.explain_state, platform, current.actor, dialogue_id, dm, state, concept
    )
    replies = explanation_view(names, conflict, found)
    source = conflict.state_string(found.state)
    return ExplanationOut(
        dm=found.mover,
        state=source,
        concept=found.concept,
        stable=found.stable,
        improvements=[
            ReplyOut(
                target=r.target.code,
                deterred=r.deterred,
                sanction=None
                if r.sanction is None
                else [
                    StepOut(mover=who, source=a, target=to.code)
                    for (who, to), a in zip(
                        r.sanction,
                        [r.target.code] + [to.code for _, to in r.sanction],
                        strict=False,
                    )
                ],
            )
            for r in replies
        ],
    )


@api.post("/dialogues/{dialogue_id}/escalation/releases", status_code=201, responses=WRITE)
async def escalation_release_add(
    dialogue_id: DialogueId,
    body: EscalationReleaseBody,
    platform: PlatformDep,
    current: CurrentDep,
) -> Created:
    """Release an escalation finding to one delegation: ``equilibrium`` ("state S is an
    equilibrium under C") or ``path`` (and the path to it from the status quo)."""
    found = await run_in_threadpool(
        escalation.release,
        platform,
        current.actor,
        dialogue_id,
        body.audience,
        body.kind.value,
        body.concept,
        body.state,
        body.horizon,
    )
    return Created(id=found)


routers = (pages, api)
"""This module's routers, each route added to the application as it is (see
:func:`backchannel.web.app.add_routes`)."""
