"""The facilitator's workspace pages: the overview, the agenda in bulk, pending invitations,
the evaluation's confirm step, the analysis and the releases (plain forms, no script)."""

from __future__ import annotations

from collections.abc import Awaitable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from backchannel.errors import BackchannelError, InputError, field_of
from backchannel.messages import t_
from backchannel.model.compile import RESERVATION_PREFIX
from backchannel.model.disclosure import CONCEPT_NAMES, Kind
from backchannel.model.findings import Findings
from backchannel.services import (
    agenda,
    evaluation_robustness,
    evaluations,
    history,
    invitations,
    readiness,
    releases,
)
from backchannel.services.access import FACILITATOR
from backchannel.services.accounts import Current
from backchannel.services.platform import Platform
from backchannel.web.charts import analysis_charts, convergence_chart, released_frontier
from backchannel.web.deps import CurrentDep, PlatformDep, read
from backchannel.web.errors import Shown, form_error
from backchannel.web.forms import Typed, robustness_from_form, typed_from_form
from backchannel.web.language import render_of
from backchannel.web.once import OnceRoute
from backchannel.web.robustness import ROBUSTNESS_DEFAULTS, robustness_view
from backchannel.web.routes.pages import _act, _context, _dialogue, back, page

router = APIRouter(include_in_schema=False, route_class=OnceRoute)


@router.get("/d/{dialogue_id}")
async def dialogue_page(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """The dialogue: its checklist, agenda, parties, rounds and the seat's actions."""
    return await _dialogue(request, platform, current, dialogue_id)


async def _agenda_change(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    work: Awaitable[object],
    typed: dict[str, str],
) -> Response:
    """Await an agenda change, then back to the agenda; on an error the user can fix, the
    overview again with the message beside the form and what was typed in it."""
    try:
        await work
    except BackchannelError as error:
        shown = form_error(error)
        return await _dialogue(
            request, platform, current, dialogue_id, status=shown.status, error=shown, typed=typed
        )
    return back(f"/d/{dialogue_id}#agenda")


@router.post("/d/{dialogue_id}/issues/bulk")
async def issues_typed(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Add issues typed one per line (``Issue: option; option``)."""
    form = await request.form()
    text = str(form.get("text", ""))
    work = run_in_threadpool(agenda.add_typed_issues, platform, current.actor, dialogue_id, text)
    typed = {"form": "bulk", "text": text}
    return await _agenda_change(request, platform, current, dialogue_id, work, typed)


@router.post("/d/{dialogue_id}/issues/import")
async def issues_imported(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Add the issues of an uploaded case file or Genius domain (only its agenda)."""
    form = await request.form()
    upload = form.get("file")

    async def work() -> int:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InputError(
                t_("no file was chosen"), hint=t_("choose a case file, then import it")
            )
        data = await upload.read(agenda.MAX_CASE_BYTES + 1)
        return await run_in_threadpool(
            agenda.import_agenda, platform, current.actor, dialogue_id, upload.filename, data
        )

    typed = {"form": "import"}
    return await _agenda_change(request, platform, current, dialogue_id, work(), typed)


@router.post("/d/{dialogue_id}/issues/{issue_id}/edit")
async def issue_edit(
    request: Request, dialogue_id: str, issue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Rename an issue, change its kind, options or description (before the first round)."""
    form = await request.form()
    typed = {
        "form": f"edit:{issue_id}",
        **{k: str(form.get(k, "")) for k in ("name", "kind", "options", "description")},
    }
    work = run_in_threadpool(
        agenda.edit_issue,
        platform,
        current.actor,
        dialogue_id,
        issue_id,
        typed["name"],
        typed["kind"] or "unordered",
        typed["options"].splitlines(),
        typed["description"],
    )
    return await _agenda_change(request, platform, current, dialogue_id, work, typed)


@router.post("/d/{dialogue_id}/issues/{issue_id}/move")
async def issue_move(
    request: Request, dialogue_id: str, issue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Move an issue one place up or down the agenda (before the first round)."""
    form = await request.form()
    step = -1 if form.get("direction") == "up" else 1
    work = run_in_threadpool(
        agenda.move_issue, platform, current.actor, dialogue_id, issue_id, step
    )
    return await _agenda_change(request, platform, current, dialogue_id, work, {})


@router.post("/d/{dialogue_id}/invitations/{invitation_id}/revoke")
async def invitation_revoke(
    request: Request,
    dialogue_id: str,
    invitation_id: str,
    platform: PlatformDep,
    current: CurrentDep,
) -> Response:
    """Revoke an invitation link not yet used."""
    work = run_in_threadpool(
        invitations.revoke, platform, current.actor, dialogue_id, invitation_id
    )

    async def done(_: None) -> Response:
        return back(f"/d/{dialogue_id}#invitations")

    return await _act(request, dialogue_id, platform, current, work, done)


async def _confirm(
    request: Request, platform: Platform, current: Current, dialogue_id: str, *, status: int = 200
) -> HTMLResponse:
    """The confirm step of an evaluation: what it uses, and whose positions are incomplete."""
    context = await _context(platform, current, dialogue_id)
    ready = await read(platform, readiness.readiness, platform, current.actor, dialogue_id)
    return page(request, "evaluate.html", status=status, **context, ready=ready, error=None)


@router.get("/d/{dialogue_id}/rounds/evaluate")
async def evaluate_confirm(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """Ask the facilitator to confirm an evaluation (it uses one of a rationed few)."""
    return await _confirm(request, platform, current, dialogue_id)


@router.post("/d/{dialogue_id}/rounds/evaluate")
async def round_evaluate(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Run the round's rationed evaluation once confirmed, and show the whole picture."""
    form = await request.form()
    if form.get("confirm") != "yes":
        return await _confirm(request, platform, current, dialogue_id)
    work = run_in_threadpool(evaluations.evaluate, platform, current.actor, dialogue_id)

    async def show(_: str) -> Response:
        return back(f"/d/{dialogue_id}/analysis")

    return await _act(request, dialogue_id, platform, current, work, show)


@router.get("/d/{dialogue_id}/analysis")
async def analysis_page(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """The facilitator's whole picture of an evaluation (the latest, or the one picked),
    and the release menu."""
    wanted = request.query_params.get("evaluation")
    return await _analysis(request, platform, current, dialogue_id, wanted)


async def _analysis(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    wanted: str | None,
    *,
    status: int = 200,
    error: Shown | None = None,
    field: str | None = None,
    typed: Typed | None = None,
) -> HTMLResponse:
    """The analysis page of evaluation ``wanted`` (else the latest), with the robustness
    form's error beside its field and what was typed in it."""
    context = await _context(platform, current, dialogue_id)
    found = await read(platform, evaluations.evaluations, platform, current.actor, dialogue_id)
    chosen = next((e for e in found if e.id == wanted), found[0] if found else None)
    released = await read(platform, releases.released_to_me, platform, current.actor, dialogue_id)
    return page(
        request,
        "analysis.html",
        status=status,
        **context,
        evaluation=chosen,
        evaluations=found,
        latest=chosen is not None and chosen is found[0],
        charts=(
            analysis_charts(chosen.findings, render=render_of(request))
            if chosen is not None
            else None
        ),
        binding=binding_walk_away(chosen.findings) if chosen is not None else [],
        kinds=[k.value for k in Kind],
        releases=released,
        error=error,
        field=field,
        typed=typed or Typed({}),
        defaults=ROBUSTNESS_DEFAULTS,
    )


@router.post("/d/{dialogue_id}/evaluations/{evaluation_id}/robustness")
async def robustness_check(
    request: Request,
    dialogue_id: str,
    evaluation_id: str,
    platform: PlatformDep,
    current: CurrentDep,
) -> HTMLResponse:
    """How robust an evaluation's recommendation is to rough ratings (facilitator only):
    the sweep on that evaluation's inputs, shown on a page; a bad field shows the analysis
    page again with the form as typed."""
    form = await request.form()
    try:
        asked = robustness_from_form(form)
        found = await run_in_threadpool(
            evaluation_robustness.check,
            platform,
            current.actor,
            dialogue_id,
            evaluation_id,
            rule=asked.rule,
            noise=asked.noise,
            samples=asked.samples,
        )
    except BackchannelError as error:
        shown = form_error(error)
        return await _analysis(
            request,
            platform,
            current,
            dialogue_id,
            evaluation_id,
            status=shown.status,
            error=shown,
            field=field_of(error),
            typed=typed_from_form(form),
        )
    context = await _context(platform, current, dialogue_id)
    return page(request, "robustness.html", **context, check=found, view=robustness_view(found))


def binding_walk_away(findings: Findings) -> list[str]:
    """The sides whose walk-away level is part of a clash (it binds: without it, or with a
    lower one, the clash would not be there)."""
    sides = {
        findings.sides[findings.red_lines[rid].side]
        for group in findings.clash_sets
        for rid in group
        if rid.startswith(RESERVATION_PREFIX)
    }
    return [s for s in findings.sides if s in sides]


@router.get("/d/{dialogue_id}/history")
async def history_page(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """What moved across rounds: per side for the facilitator (from the evaluations), with
    the convergence chart; the own side's positions for a member. Observers: not found."""
    context = await _context(platform, current, dialogue_id)
    role = context["d"].seat.role
    if role == FACILITATOR:
        found = await read(platform, history.dialogue_history, platform, current.actor, dialogue_id)
        chart = convergence_chart(found.convergence, render=render_of(request))
        return page(request, "history.html", **context, moves=found, chart=chart, own=None)
    own = await read(platform, history.own_history, platform, current.actor, dialogue_id)
    return page(request, "history.html", **context, moves=None, chart=None, own=own)


@router.get("/d/{dialogue_id}/releases")
async def releases_page(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """What the facilitator released to the seat's side (or to the observers)."""
    context = await _context(platform, current, dialogue_id)
    found = await read(platform, releases.released_to_me, platform, current.actor, dialogue_id)
    say = render_of(request)
    names = {concept: say(name) for concept, name in CONCEPT_NAMES.items()}
    frontiers = {
        r.id: released_frontier(r.disclosed.frontier, render=say)
        for r in found
        if r.disclosed.frontier is not None
    }
    return page(
        request,
        "releases.html",
        **context,
        releases=found,
        concept_names=names,
        frontiers=frontiers,
    )
