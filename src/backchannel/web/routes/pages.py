"""Server-rendered pages: every action is a plain form, so the site works without script."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from backchannel.errors import (
    BackchannelError,
    InputError,
    TooManyAttempts,
    WrongCredentials,
    field_of,
)
from backchannel.messages import t_
from backchannel.model.dialogue import NOTE_LIMIT, Firmness
from backchannel.services import (
    accounts,
    agenda,
    audit_log,
    checkpoints,
    dialogues,
    positions,
    releases,
    rounds,
)
from backchannel.services.access import FACILITATOR, MEMBER, Track
from backchannel.services.accounts import Challenge, Current, SignedIn
from backchannel.services.platform import Platform
from backchannel.web import gate, notices
from backchannel.web.deps import (
    CurrentDep,
    LogBefore,
    PlatformDep,
    clear_cookie,
    invitation_link,
    read,
    refuse_other_sites,
    session_of,
    set_challenge_cookie,
    set_cookie,
    write,
)
from backchannel.web.errors import Shown, form_error, sign_in_refused
from backchannel.web.forms import (
    MAX_RULES,
    Typed,
    dialogue_from_form,
    invitation_from_form,
    position_from_form,
    typed_from_form,
    typed_from_position,
)
from backchannel.web.once import OnceRoute
from backchannel.web.overview import overview_context

router = APIRouter(include_in_schema=False, route_class=OnceRoute)


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A template rendered with ``context`` (every page's one way), with the confirmation
    a form that redirected here left (``notice``, shown once)."""
    current = context.get("current")
    if "notice" not in context:
        context["notice"] = notices.take(request, current.csrf if current else None)
    templates = request.app.state.templates
    response: HTMLResponse = templates.TemplateResponse(request, name, context, status_code=status)
    if context["notice"] is not None:
        notices.clear(request, response)
    return response


def back(url: str) -> RedirectResponse:
    """A redirect after a post (303: the browser follows it with GET)."""
    return RedirectResponse(url, status_code=303)


def done(
    request: Request, current: Current, url: str, what: str, secret: str | None = None
) -> RedirectResponse:
    """The redirect after a successful form, with the confirmation the next page shows
    once (:mod:`backchannel.web.notices`)."""
    response = back(url)
    notices.notify(request, response, current.csrf, what, secret)
    return response


@router.get("/")
async def home(request: Request, platform: PlatformDep) -> Response:
    """Dialogues when signed in, else the sign-in page."""
    try:
        await session_of(request, platform)
    except BackchannelError:
        return back("/signin")
    return back("/dialogues")


@router.get("/signin")
async def signin_form(request: Request) -> HTMLResponse:
    """The sign-in form."""
    return page(request, "signin.html", error=None)


@router.post("/signin")
async def signin(request: Request, platform: PlatformDep) -> Response:
    """Check the credentials; a new session cookie on success."""
    form = await request.form()
    refuse_other_sites(request)
    try:
        done = await gate.sign_in(
            request, platform, str(form.get("username", "")), str(form.get("password", ""))
        )
    except (InputError, WrongCredentials, TooManyAttempts) as error:
        refused = sign_in_refused(error)
        return page(request, "signin.html", status=refused.status, error=refused.message)
    if isinstance(done, Challenge):
        response = back("/signin/code")
        set_challenge_cookie(request, response, done.token)
        return response
    return signed_in(request, done)


def signed_in(request: Request, done: SignedIn) -> Response:
    """Where a new session goes first (a password to choose, two-factor sign-in to set
    up, or the dialogues), with its cookie."""
    if done.must_change_password:
        response = back("/account/password")
    else:
        response = back("/account/mfa" if done.must_enrol else "/dialogues")
    set_cookie(request, response, done.token)
    return response


@router.post("/signout")
async def signout(request: Request, platform: PlatformDep, current: CurrentDep) -> Response:
    """End the session (POST only, with the CSRF token)."""
    await run_in_threadpool(accounts.sign_out, platform, current.token_hash)
    response = back("/signin")
    clear_cookie(request, response)
    return response


@router.get("/account/password")
async def password_form(request: Request, current: CurrentDep) -> HTMLResponse:
    """Choose a new password (required after a one-time password)."""
    return page(request, "password.html", current=current, error=None)


@router.post("/account/password")
async def password_change(request: Request, platform: PlatformDep, current: CurrentDep) -> Response:
    """Change the password; every other session ends."""
    form = await request.form()
    try:
        if form.get("new") != form.get("repeat"):
            raise InputError(t_("the two new passwords differ"))
        done = await run_in_threadpool(
            accounts.change_password,
            platform,
            current.actor,
            str(form.get("old", "")),
            str(form.get("new", "")),
        )
    except BackchannelError as error:
        shown = form_error(error)
        return page(
            request, "password.html", status=shown.status, current=current, error=shown.message
        )
    return signed_in(request, done)


@router.get("/invite/{token}")
async def invitation_form(request: Request, token: str) -> HTMLResponse:
    """Accept an invitation: choose a user name and password."""
    return page(request, "invite.html", token=token, typed=None, closed=False)


@router.post("/invite/{token}")
async def invitation_accept(request: Request, token: str, platform: PlatformDep) -> Response:
    """Create the account and take the seat."""
    form = await request.form()
    try:
        joining = invitation_from_form(form)
        await run_in_threadpool(
            dialogues.accept_invitation,
            platform,
            token,
            joining.username,
            joining.display_name,
            joining.password,
            joining.pseudonym,
        )
    except BackchannelError as refused:
        shown = form_error(refused)
        closed = isinstance(refused, dialogues.InvitationClosed)  # no form to fill again
        return page(
            request,
            "invite.html",
            status=shown.status,
            token=token,
            typed=None if closed else form,
            closed=closed,
            error=shown,
            field=field_of(refused),
        )
    return back("/signin")


@router.get("/dialogues")
async def dialogue_list(
    request: Request, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """The dialogues the user has a seat in."""
    found = await read(platform, dialogues.my_dialogues, platform, current.actor)
    return page(request, "dialogues.html", current=current, dialogues=found, typed=None)


@router.post("/dialogues")
async def dialogue_create(request: Request, platform: PlatformDep, current: CurrentDep) -> Response:
    """Convene a new dialogue (the creator facilitates it); on an error the form is
    shown again as it was typed."""
    form = await request.form()
    try:
        wanted = dialogue_from_form(form)
        dialogue_id = await run_in_threadpool(
            agenda.convene,
            platform,
            current.actor,
            wanted.title,
            str(form.get("agenda", "")),
            str(form.get("parties", "")),
            evaluations_per_round=wanted.evaluations_per_round,
            evaluations_per_dialogue=wanted.evaluations_per_dialogue,
            monotone_red_lines=wanted.monotone_red_lines,
            mfa_required=wanted.mfa_required,
            blind=wanted.blind,
        )
    except BackchannelError as refused:
        found = await read(platform, dialogues.my_dialogues, platform, current.actor)
        shown = form_error(refused)
        return page(
            request,
            "dialogues.html",
            status=shown.status,
            current=current,
            dialogues=found,
            typed=form,
            error=shown,
            field=field_of(refused),
        )
    return done(request, current, f"/d/{dialogue_id}", "created")


async def _context(platform: Platform, current: Current, dialogue_id: str) -> dict[str, Any]:
    view, found = await read(platform, rounds.overview, platform, current.actor, dialogue_id)
    return {
        "current": current,
        "d": view,
        "rounds": found,
        "round": found[-1] if found else None,
        "checkpoint_key": checkpoints.public_key(platform),
    }


async def _dialogue(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    *,
    status: int = 200,
    error: Shown | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    """The dialogue page, with an error (``typed``: what was typed in the form that
    failed), or a new invitation link shown once after the form that made it redirected
    here."""
    context = await _context(platform, current, dialogue_id)
    extras = await overview_context(platform, current, context["d"], context["rounds"])
    notice = notices.take(request, current.csrf)
    return page(
        request,
        "dialogue.html",
        status=status,
        **context,
        **extras,
        tracks=[t.value for t in Track],
        invitation=notice.secret if notice is not None and notice.what == "invited" else None,
        error=error,
        notice=notice,
        typed=typed or {},
    )


T = TypeVar("T")


async def _act(
    request: Request,
    dialogue_id: str,
    platform: Platform,
    current: Current,
    work: Awaitable[T],
    done: Callable[[T], Awaitable[Response]] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    """Await a facilitator action, then ``done`` with its result (default: back to the
    dialogue page); an error the user can fix shows on the dialogue page, with what was
    typed in the form (``typed``, its ``form`` naming which) kept in it."""
    try:
        result = await work
    except BackchannelError as error:
        shown = form_error(error)
        return await _dialogue(
            request, platform, current, dialogue_id, status=shown.status, error=shown, typed=typed
        )
    return await done(result) if done is not None else back(f"/d/{dialogue_id}")


@router.post("/d/{dialogue_id}/issues")
async def issue_add(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Add an issue to the agenda (one option per line)."""
    form = await request.form()
    work = run_in_threadpool(
        dialogues.add_issue,
        platform,
        current.actor,
        dialogue_id,
        str(form.get("name", "")),
        str(form.get("kind", "unordered")),
        str(form.get("options", "")).splitlines(),
        str(form.get("description", "")),
    )
    typed = {"form": "issue", **{k: str(form.get(k, "")) for k in _ISSUE_FIELDS}}
    return await _act(request, dialogue_id, platform, current, work, typed=typed)


_ISSUE_FIELDS = ("name", "kind", "options", "description")


@router.post("/d/{dialogue_id}/issues/{issue_id}/remove")
async def issue_remove(
    request: Request, dialogue_id: str, issue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Remove an issue from the agenda."""
    work = run_in_threadpool(dialogues.remove_issue, platform, current.actor, dialogue_id, issue_id)
    return await _act(request, dialogue_id, platform, current, work)


@router.post("/d/{dialogue_id}/delegations")
async def delegation_add(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Add a delegation or an absent stakeholder."""
    form = await request.form()
    work = run_in_threadpool(
        dialogues.add_delegation,
        platform,
        current.actor,
        dialogue_id,
        str(form.get("name", "")),
        absent=form.get("absent") == "yes",
    )
    typed = {
        "form": "delegation",
        "name": str(form.get("name", "")),
        "absent": str(form.get("absent", "")),
    }
    return await _act(request, dialogue_id, platform, current, work, typed=typed)


@router.post("/d/{dialogue_id}/invitations")
async def invitation_create(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Create a one-time invitation link (shown once)."""
    form = await request.form()
    role = str(form.get("role", MEMBER))
    work = run_in_threadpool(
        dialogues.invite,
        platform,
        current.actor,
        dialogue_id,
        role,
        delegation_id=str(form.get("delegation")) if role == MEMBER else None,
        track=str(form.get("track")) if role == MEMBER else None,
    )

    async def show(token: str) -> Response:
        link = invitation_link(request, token)
        return done(request, current, f"/d/{dialogue_id}", "invited", link)

    typed = {
        "form": "invitation",
        **{k: str(form.get(k, "")) for k in ("role", "delegation", "track")},
    }
    return await _act(request, dialogue_id, platform, current, work, show, typed)


@router.post("/d/{dialogue_id}/invitations/each")
async def invitations_each(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """One invitation link for a member of each delegation ticked (shown once)."""
    form = await request.form()
    tracks = {
        str(key).removeprefix("track:"): str(value)
        for key, value in form.multi_items()
        if str(key).startswith("track:") and form.get("invite:" + str(key)[6:]) == "yes"
    }
    work = run_in_threadpool(dialogues.invite_each, platform, current.actor, dialogue_id, tracks)

    async def show(made: list[tuple[str, str]]) -> Response:
        links = "\n".join(f"{name}\t{invitation_link(request, token)}" for name, token in made)
        return done(request, current, f"/d/{dialogue_id}", "invited", links)

    typed = {"form": "each", **{str(k): str(v) for k, v in form.multi_items()}}
    return await _act(request, dialogue_id, platform, current, work, show, typed)


@router.post("/d/{dialogue_id}/mfa")
async def mfa_requirement(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Require two-factor sign-in of every seat, or no longer (facilitator)."""
    form = await request.form()
    required = form.get("required") == "yes"
    work = run_in_threadpool(
        dialogues.set_mfa_required, platform, current.actor, dialogue_id, required
    )
    return await _act(request, dialogue_id, platform, current, work)


@router.post("/d/{dialogue_id}/rounds")
async def round_open(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Open the next round."""
    work = run_in_threadpool(rounds.open_round, platform, current.actor, dialogue_id)
    return await _act(request, dialogue_id, platform, current, work)


@router.post("/d/{dialogue_id}/rounds/lock")
async def round_lock(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Lock the current round."""
    work = run_in_threadpool(rounds.lock_round, platform, current.actor, dialogue_id)
    return await _act(request, dialogue_id, platform, current, work)


@router.post("/d/{dialogue_id}/rounds/unlock")
async def round_unlock(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Return the locked round to draft (before it is evaluated)."""
    work = run_in_threadpool(rounds.unlock_round, platform, current.actor, dialogue_id)
    return await _act(request, dialogue_id, platform, current, work)


@router.get("/d/{dialogue_id}/position")
async def position_page(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """The own side's position (or, for the facilitator, an absent stakeholder's red lines)."""
    delegation = request.query_params.get("delegation")
    context = await _context(platform, current, dialogue_id)
    history = await read(
        platform, positions.positions, platform, current.actor, dialogue_id, delegation
    )
    notice = notices.take(request, current.csrf)
    saved = history[-1].position if history else None
    return page(
        request,
        "position.html",
        **context,
        **_position_form(),
        history=history,
        delegation=delegation,
        mine=Typed({}) if saved is None else typed_from_position(context["d"].agenda, saved),
        notice=notice,
        saved=notice is not None and notice.what == "saved",
    )


def _position_form(error: Shown | None = None, field: str | None = None) -> dict[str, Any]:
    """What the position form needs besides the position: its choices and limits, and
    the error with the field it concerns."""
    return {
        "firmness": [f.value for f in Firmness],
        "max_rules": MAX_RULES,
        "note_limit": NOTE_LIMIT,
        "error": error,
        "field": field,
    }


@router.post("/d/{dialogue_id}/position")
async def position_save(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Save the position of the current draft round, then show it with a confirmation;
    when it cannot be saved, show the form again as it was typed, with the reason."""
    delegation = request.query_params.get("delegation")
    form = await request.form()
    context = await _context(platform, current, dialogue_id)
    try:
        absent = context["d"].seat.role == FACILITATOR
        typed = position_from_form(context["d"].agenda, form, absent=absent)
        await write(
            platform,
            positions.save_position,
            platform,
            current.actor,
            dialogue_id,
            typed,
            delegation,
        )
    except BackchannelError as refused:
        error, field = form_error(refused), field_of(refused)
    else:
        mine = f"/d/{dialogue_id}/position"
        if delegation:
            mine += "?" + urlencode({"delegation": delegation})
        return done(request, current, mine, "saved")
    history = await read(
        platform, positions.positions, platform, current.actor, dialogue_id, delegation
    )
    return page(
        request,
        "position.html",
        status=error.status,
        **context,
        **_position_form(error, field),
        history=history,
        delegation=delegation,
        mine=typed_from_form(form),
        saved=False,
    )


@router.post("/d/{dialogue_id}/releases")
async def release_create(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Release one finding to one audience."""
    form = await request.form()
    await run_in_threadpool(
        releases.release,
        platform,
        current.actor,
        dialogue_id,
        str(form.get("evaluation", "")),
        str(form.get("audience", "")),
        str(form.get("kind", "")),
        str(form.get("parameter", "")),
    )
    return back(f"/d/{dialogue_id}/analysis")


@router.get("/d/{dialogue_id}/checkpoints")
async def checkpoints_file(
    dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """The signed checkpoints the seat may see, downloaded as a file to keep."""
    found = await read(platform, checkpoints.document, platform, current.actor, dialogue_id)
    return Response(
        json.dumps(found, indent=2) + "\n",
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="checkpoints.json"'},
    )


@router.get("/d/{dialogue_id}/log")
async def log_page(
    request: Request,
    dialogue_id: str,
    platform: PlatformDep,
    current: CurrentDep,
    before: LogBefore = None,
) -> HTMLResponse:
    """The dialogue's log as the seat may read it (every evaluation shows to every side),
    newest first, a page at a time."""
    context = await _context(platform, current, dialogue_id)
    found = await read(
        platform,
        audit_log.entries,
        platform,
        current.actor,
        dialogue_id,
        limit=audit_log.LOG_PAGE + 1,
        before=before,
    )
    older = found[-2].seq if len(found) > audit_log.LOG_PAGE else None
    return page(request, "log.html", **context, entries=found[: audit_log.LOG_PAGE], older=older)
