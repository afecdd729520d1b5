"""The pages of the single negotiating text: the list, a text, its editor and a diff.

Every action is a plain form; a refused one shows the page again with the message
beside the form (and beside the clause it concerns) and with everything typed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from backchannel.errors import BackchannelError, InputError, NotFound
from backchannel.messages import t_
from backchannel.model.text import Answer, ClauseState, Draft
from backchannel.reports.readout import CLAUSE_STATES
from backchannel.services import evaluations, rounds, text_views, texts
from backchannel.services.access import FACILITATOR
from backchannel.services.accounts import Current
from backchannel.services.platform import Platform
from backchannel.web.deps import CurrentDep, PlatformDep, read
from backchannel.web.errors import Shown, form_error
from backchannel.web.once import OnceRoute
from backchannel.web.routes.pages import back, done, page

router = APIRouter(include_in_schema=False, route_class=OnceRoute)

STATES = {ClauseState(code): name for code, name in CLAUSE_STATES.items()}
ANSWERS = {
    Answer.AGREE: t_("agree"),
    Answer.AD_REFERENDUM: t_("agree ad referendum (subject to our capital)"),
    Answer.BRACKET: t_("bracket, with the wording we propose"),
    Answer.REJECT: t_("reject"),
}
NEW_ROWS = 2
"""Empty clause fields the editor adds after the text's clauses (more after saving)."""


async def _frame(platform: Platform, current: Current, dialogue_id: str) -> dict[str, Any]:
    view, found = await read(platform, rounds.overview, platform, current.actor, dialogue_id)
    return {
        "current": current,
        "d": view,
        "round": found[-1] if found else None,
        "states": STATES,
        "answers": ANSWERS,
    }


def _number(value: object) -> int:
    """A whole number typed in a form, or InputError."""
    try:
        return int(str(value))
    except ValueError:
        raise InputError(t_("a version number is a whole number")) from None


# ------------------------------------------------------------------ the list
async def _list(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    *,
    error: Shown | None = None,
    typed: dict[str, Any] | None = None,
    where: str = "",
) -> HTMLResponse:
    frame = await _frame(platform, current, dialogue_id)
    found = await read(platform, text_views.texts, platform, current.actor, dialogue_id)
    packages: list[tuple[str, int, list[str]]] = []
    if frame["d"].seat.role == FACILITATOR:
        done = await read(platform, evaluations.evaluations, platform, current.actor, dialogue_id)
        packages = [
            (e.id, e.round_number, sorted({*e.findings.packages, *e.findings.partial_packages}))
            for e in done
        ]
    return page(
        request,
        "texts.html",
        status=200 if error is None else error.status,
        **frame,
        texts=found,
        packages=[p for p in packages if p[2]],
        error=error,
        where=where,
        typed=typed or {},
    )


@router.get("/d/{dialogue_id}/texts")
async def text_list(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """The dialogue's texts; for the facilitator, the forms that draft a new one."""
    return await _list(request, platform, current, dialogue_id)


@router.post("/d/{dialogue_id}/texts")
async def text_add(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Draft a new text (facilitator): a title and its first clauses."""
    form = await request.form()
    title = str(form.get("title", ""))
    bodies = [str(b) for b in form.getlist("clause")]
    drafts = [Draft(body=b.strip()) for b in bodies if b.strip()]
    try:
        made = await run_in_threadpool(
            texts.create_text, platform, current.actor, dialogue_id, title, drafts
        )
    except BackchannelError as refused:
        typed = {"title": title, "clauses": bodies}
        error = form_error(refused)
        return await _list(request, platform, current, dialogue_id, error=error, typed=typed)
    return back(f"/d/{dialogue_id}/texts/{made}")


@router.post("/d/{dialogue_id}/texts-from-package")
async def text_generate(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Draft a text from a recommended package (facilitator)."""
    form = await request.form()
    title = str(form.get("title", ""))
    evaluation_id, _, rule = str(form.get("package", "")).partition(":")
    try:
        made = await run_in_threadpool(
            texts.generate_text, platform, current.actor, dialogue_id, evaluation_id, rule, title
        )
    except BackchannelError as refused:
        typed = {"generated_title": title, "package": str(form.get("package", ""))}
        error = form_error(refused)
        return await _list(
            request, platform, current, dialogue_id, error=error, typed=typed, where="package"
        )
    return back(f"/d/{dialogue_id}/texts/{made}")


# ------------------------------------------------------------------ one text
async def _text(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    text_id: str,
    *,
    version: int | None = None,
    error: Shown | None = None,
    where: str = "",
    typed: FormData | None = None,
) -> HTMLResponse:
    frame = await _frame(platform, current, dialogue_id)
    view = await read(
        platform, text_views.text_view, platform, current.actor, dialogue_id, text_id, version
    )
    number = error.message.params.get("number") if error is not None else None
    return page(
        request,
        "text.html",
        status=200 if error is None else error.status,
        **frame,
        text=view,
        error=error,
        where=where,
        error_clause=number if where == "responses" else None,
        typed=typed,
    )


@router.get("/d/{dialogue_id}/texts/{text_id}")
async def text_page(
    request: Request, dialogue_id: str, text_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """A version of the text (``?version=N``; the current one by default)."""
    given = request.query_params.get("version")
    try:
        version = None if given is None else _number(given)
    except InputError:
        version = None
    return await _text(request, platform, current, dialogue_id, text_id, version=version)


@router.post("/d/{dialogue_id}/texts/{text_id}/responses")
async def text_respond(
    request: Request, dialogue_id: str, text_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """The own side's responses, clause by clause (a member)."""
    form = await request.form()
    try:
        version = _number(form.get("version", ""))
        given = [
            (
                key.partition(":")[2],
                str(value),
                str(form.get("wording:" + key.partition(":")[2], "")),
                str(form.get("comment:" + key.partition(":")[2], "")),
            )
            for key, value in form.multi_items()
            if key.startswith("answer:") and value
        ]
        await run_in_threadpool(
            texts.respond, platform, current.actor, dialogue_id, text_id, version, given
        )
    except BackchannelError as refused:
        error = form_error(refused)
        return await _text(
            request,
            platform,
            current,
            dialogue_id,
            text_id,
            error=error,
            where="responses",
            typed=form,
        )
    return done(request, current, f"/d/{dialogue_id}/texts/{text_id}", "responses_recorded")


@router.post("/d/{dialogue_id}/texts/{text_id}/releases")
async def text_release(
    request: Request, dialogue_id: str, text_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Release a side's responses to a version to an audience (facilitator)."""
    form = await request.form()
    try:
        version = _number(form.get("version", ""))
        await run_in_threadpool(
            text_views.release,
            platform,
            current.actor,
            dialogue_id,
            text_id,
            str(form.get("side", "")),
            version,
            str(form.get("audience", "")),
        )
    except BackchannelError as refused:
        error = form_error(refused)
        return await _text(
            request,
            platform,
            current,
            dialogue_id,
            text_id,
            error=error,
            where="release",
            typed=form,
        )
    return back(f"/d/{dialogue_id}/texts/{text_id}")


# ------------------------------------------------------------------ the editor
async def _editor(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    text_id: str,
    *,
    error: Shown | None = None,
    typed: list[dict[str, str]] | None = None,
    based_on: int | None = None,
) -> HTMLResponse:
    frame = await _frame(platform, current, dialogue_id)
    if frame["d"].seat.role != FACILITATOR:
        raise NotFound()
    view = await read(platform, text_views.text_view, platform, current.actor, dialogue_id, text_id)
    rows = typed or [
        {
            "id": c.clause.id,
            "body": c.clause.body,
            "link": _link(c.clause.issue_id, c.clause.option),
        }
        for c in view.clauses
    ]
    rows = rows + [{"id": "", "body": "", "link": ""} for _ in range(NEW_ROWS)]
    return page(
        request,
        "text_edit.html",
        status=200 if error is None else error.status,
        **frame,
        text=view,
        rows=rows,
        based_on=based_on or view.version,
        error=error,
    )


def _link(issue_id: str | None, option: str | None) -> str:
    if issue_id is None:
        return ""
    return f"issue:{issue_id}" if option is None else f"option:{issue_id}:{option}"


def _unlink(value: str) -> tuple[str | None, str | None]:
    kind, _, rest = value.partition(":")
    if kind == "issue":
        return rest, None
    if kind == "option":
        issue, _, option = rest.partition(":")
        return issue, option
    return None, None


@router.get("/d/{dialogue_id}/texts/{text_id}/edit")
async def text_edit_page(
    request: Request, dialogue_id: str, text_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """The editor of the text's next version (facilitator)."""
    return await _editor(request, platform, current, dialogue_id, text_id)


@router.post("/d/{dialogue_id}/texts/{text_id}/edit")
async def text_edit(
    request: Request, dialogue_id: str, text_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Save the next version (facilitator): a clause left empty is removed."""
    form = await request.form()
    rows = [
        {"id": str(i), "body": str(b), "link": str(k)}
        for i, b, k in zip(
            form.getlist("id"), form.getlist("body"), form.getlist("link"), strict=False
        )
    ]
    drafts = []
    for row in rows:
        if row["body"].strip():
            issue, option = _unlink(row["link"])
            drafts.append(
                Draft(id=row["id"] or None, body=row["body"].strip(), issue_id=issue, option=option)
            )
    try:
        based_on = _number(form.get("based_on", ""))
        await run_in_threadpool(
            texts.revise_text, platform, current.actor, dialogue_id, text_id, based_on, drafts
        )
    except BackchannelError as refused:
        kept = [r for r in rows if r["id"] or r["body"].strip()]
        return await _editor(
            request,
            platform,
            current,
            dialogue_id,
            text_id,
            error=form_error(refused),
            typed=kept,
        )
    return back(f"/d/{dialogue_id}/texts/{text_id}")


# ------------------------------------------------------------------ the diff
@router.get("/d/{dialogue_id}/texts/{text_id}/diff")
async def text_diff(
    request: Request, dialogue_id: str, text_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """Two versions compared, word by word (``?from=N&to=M``; default: the last change)."""
    frame = await _frame(platform, current, dialogue_id)
    view = await read(platform, text_views.text_view, platform, current.actor, dialogue_id, text_id)
    try:
        old = _number(request.query_params.get("from", max(1, view.latest - 1)))
        new = _number(request.query_params.get("to", view.latest))
    except InputError:
        old, new = max(1, view.latest - 1), view.latest
    found = await read(
        platform, text_views.compare, platform, current.actor, dialogue_id, text_id, old, new
    )
    return page(request, "text_diff.html", **frame, text=view, diff=found, old=old, new=new)
