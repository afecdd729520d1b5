"""The JSON API (``/api/v1``): every action of the pages, for scripts and tools.

Authentication is the same server-side session as the pages: ``POST /api/v1/session``
sets the cookie and returns the CSRF token, which every state-changing call sends in
``X-CSRF-Token`` (an account with two-factor sign-in gets a sign-in cookie instead and
sends its code to ``POST /api/v1/session/code``). Request bodies forbid unknown fields.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from backchannel.model.dialogue import Agenda, Position
from backchannel.services import (
    accounts,
    audit_log,
    dialogues,
    evaluations,
    mfa,
    positions,
    releases,
    rounds,
)
from backchannel.services.accounts import Challenge, SignedIn
from backchannel.web import gate
from backchannel.web.deps import (
    CurrentDep,
    LogBefore,
    PlatformDep,
    challenge_cookie_name,
    clear_challenge_cookie,
    clear_cookie,
    invitation_link,
    read,
    refuse_other_sites,
    set_challenge_cookie,
    set_cookie,
)

router = APIRouter(prefix="/api/v1", tags=["api"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignInBody(_Body):
    """Credentials."""

    username: Annotated[str, Field(max_length=64)]
    password: Annotated[str, Field(max_length=128)]


Code = Annotated[str, Field(min_length=1, max_length=32)]
"""A TOTP code (6 digits) or a recovery code (``xxxx-xxxx-xxxx``); spaces and dashes
are ignored."""


class CodeBody(_Body):
    """A second-factor code."""

    code: Code


class DisableBody(_Body):
    """What turning two-factor sign-in off takes."""

    password: Annotated[str, Field(max_length=128)]
    code: Code


class RequirementBody(_Body):
    """Whether every seat of a dialogue must use two-factor sign-in."""

    required: bool


class PasswordBody(_Body):
    """A password change."""

    old: Annotated[str, Field(max_length=128)]
    new: Annotated[str, Field(max_length=128)]


class DialogueBody(_Body):
    """A new dialogue."""

    title: Annotated[str, Field(max_length=200)]
    evaluations_per_round: Annotated[int, Field(ge=1, le=10)] = 1
    evaluations_per_dialogue: Annotated[
        int, Field(ge=1, le=dialogues.MOST_EVALUATIONS_PER_DIALOGUE)
    ] = dialogues.EVALUATIONS_PER_DIALOGUE
    monotone_red_lines: bool = False
    mfa_required: bool = False


class DelegationBody(_Body):
    """A new delegation or absent stakeholder."""

    name: Annotated[str, Field(max_length=120)]
    absent: bool = False


class InvitationBody(_Body):
    """A new invitation."""

    role: str
    delegation_id: str | None = None
    track: str | None = None


class ReleaseBody(_Body):
    """A finding to release."""

    evaluation_id: str
    audience: str
    kind: str
    parameter: str = ""


@router.post("/session")
async def session_start(
    body: SignInBody, request: Request, response: Response, platform: PlatformDep
) -> dict[str, Any]:
    """Sign in: sets the session cookie; returns the CSRF token for later writes.

    An account with two-factor sign-in gets a sign-in cookie and ``second_factor``
    instead: its code goes to ``POST /api/v1/session/code``.
    """
    refuse_other_sites(request)
    done = await gate.sign_in(request, platform, body.username, body.password)
    if isinstance(done, Challenge):
        set_challenge_cookie(request, response, done.token)
        return {"second_factor": True}
    return _session(request, response, done)


def _session(request: Request, response: Response, done: SignedIn) -> dict[str, Any]:
    set_cookie(request, response, done.token)
    return {
        "csrf": done.csrf,
        "must_change_password": done.must_change_password,
        "must_enrol": done.must_enrol,
    }


@router.post("/session/code")
async def session_code(
    body: CodeBody, request: Request, response: Response, platform: PlatformDep
) -> dict[str, Any]:
    """The second step of signing in: a code (or a recovery code) for the sign-in cookie."""
    refuse_other_sites(request)
    token = request.cookies.get(challenge_cookie_name(request))
    done = await gate.complete_sign_in(request, platform, token, body.code)
    clear_challenge_cookie(request, response)
    return _session(request, response, done)


@router.post("/session/end")
async def session_end(
    request: Request, response: Response, platform: PlatformDep, current: CurrentDep
) -> dict[str, Any]:
    """Sign out (the session is revoked on the server)."""
    await run_in_threadpool(accounts.sign_out, platform, current.token_hash)
    clear_cookie(request, response)
    return {"signed_out": True}


@router.post("/account/password")
async def password(
    body: PasswordBody,
    request: Request,
    response: Response,
    platform: PlatformDep,
    current: CurrentDep,
) -> dict[str, Any]:
    """Change the password; every session ends and a new one starts."""
    done = await run_in_threadpool(
        accounts.change_password, platform, current.actor, body.old, body.new
    )
    set_cookie(request, response, done.token)
    return {"csrf": done.csrf}


@router.get("/account/mfa")
async def mfa_status(platform: PlatformDep, current: CurrentDep) -> dict[str, Any]:
    """Whether two-factor sign-in is on, required, or being set up."""
    found = await read(platform, mfa.status, platform, current.actor)
    return {
        "enabled": found.enabled,
        "required": found.required,
        "recovery_codes_left": found.recovery_codes_left,
        "pending": found.pending is not None,
    }


@router.post("/account/mfa/begin")
async def mfa_begin(platform: PlatformDep, current: CurrentDep) -> dict[str, str]:
    """Start setting it up: the new secret, as text and as an ``otpauth://`` URI."""
    found = await run_in_threadpool(mfa.begin, platform, current.actor)
    return {"secret": found.secret, "uri": found.uri}


@router.post("/account/mfa/confirm")
async def mfa_confirm(
    body: CodeBody, platform: PlatformDep, current: CurrentDep
) -> dict[str, list[str]]:
    """Turn it on with a first code; returns the recovery codes (once)."""
    codes = await run_in_threadpool(
        mfa.confirm, platform, current.actor, current.token_hash, body.code
    )
    return {"recovery_codes": codes}


@router.post("/account/mfa/recovery-codes")
async def mfa_codes(
    body: CodeBody, request: Request, platform: PlatformDep, current: CurrentDep
) -> dict[str, list[str]]:
    """New recovery codes for a current code (the old ones stop working); returned once."""
    codes = await run_in_threadpool(
        mfa.replace_recovery_codes,
        platform,
        current.actor,
        body.code,
        gate.client_source(request),
    )
    return {"recovery_codes": codes}


@router.post("/account/mfa/disable")
async def mfa_disable(
    body: DisableBody, request: Request, platform: PlatformDep, current: CurrentDep
) -> dict[str, bool]:
    """Turn it off: the password and a code (or a recovery code)."""
    await run_in_threadpool(
        mfa.disable,
        platform,
        current.actor,
        current.token_hash,
        body.password,
        body.code,
        gate.client_source(request),
    )
    return {"enabled": False}


@router.get("/dialogues")
async def dialogue_list(platform: PlatformDep, current: CurrentDep) -> list[dict[str, str]]:
    """The dialogues the caller has a seat in."""
    found = await read(platform, dialogues.my_dialogues, platform, current.actor)
    return [{"id": i, "title": t, "role": r} for i, t, r in found]


@router.post("/dialogues", status_code=201)
async def dialogue_create(
    body: DialogueBody, platform: PlatformDep, current: CurrentDep
) -> dict[str, str]:
    """Convene a dialogue; the caller facilitates it."""
    dialogue_id = await run_in_threadpool(
        dialogues.create_dialogue,
        platform,
        current.actor,
        body.title,
        evaluations_per_round=body.evaluations_per_round,
        evaluations_per_dialogue=body.evaluations_per_dialogue,
        monotone_red_lines=body.monotone_red_lines,
        mfa_required=body.mfa_required,
    )
    return {"id": dialogue_id}


@router.get("/dialogues/{dialogue_id}")
async def dialogue_get(
    dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> dict[str, Any]:
    """The dialogue's structure as the caller may see it."""
    view, found = await read(platform, rounds.overview, platform, current.actor, dialogue_id)
    return {
        "id": view.id,
        "title": view.title,
        "role": view.seat.role,
        "delegation_id": view.seat.delegation_id,
        "agenda": view.agenda.model_dump(mode="json"),
        "parties": [
            {"id": d.id, "name": d.name, "absent": d.absent, "own": d.own} for d in view.delegations
        ],
        "participants": [
            {
                "name": p.name,
                "role": p.role,
                "delegation_id": p.delegation_id,
                "track": p.track,
                "two_factor": p.two_factor,
            }
            for p in view.participants
        ],
        "rounds": [r.__dict__ for r in found],
        "evaluations_per_round": view.evaluations_per_round,
        "evaluations_per_dialogue": view.evaluations_per_dialogue,
        "evaluations_used": view.evaluations_used,
        "monotone_red_lines": view.monotone_red_lines,
        "mfa_required": view.mfa_required,
    }


@router.put("/dialogues/{dialogue_id}/mfa")
async def mfa_requirement(
    dialogue_id: str, body: RequirementBody, platform: PlatformDep, current: CurrentDep
) -> dict[str, bool]:
    """Require two-factor sign-in of every seat, or no longer (facilitator)."""
    await run_in_threadpool(
        dialogues.set_mfa_required, platform, current.actor, dialogue_id, body.required
    )
    return {"mfa_required": body.required}


@router.put("/dialogues/{dialogue_id}/agenda")
async def agenda_put(
    dialogue_id: str, agenda: Agenda, platform: PlatformDep, current: CurrentDep
) -> dict[str, int]:
    """Replace the agenda (facilitator, draft round only)."""
    await run_in_threadpool(dialogues.set_agenda, platform, current.actor, dialogue_id, agenda)
    return {"issues": len(agenda.issues)}


@router.post("/dialogues/{dialogue_id}/delegations", status_code=201)
async def delegation_add(
    dialogue_id: str, body: DelegationBody, platform: PlatformDep, current: CurrentDep
) -> dict[str, str]:
    """Add a delegation or an absent stakeholder (facilitator)."""
    found = await run_in_threadpool(
        dialogues.add_delegation,
        platform,
        current.actor,
        dialogue_id,
        body.name,
        absent=body.absent,
    )
    return {"id": found}


@router.post("/dialogues/{dialogue_id}/invitations", status_code=201)
async def invitation_add(
    dialogue_id: str,
    body: InvitationBody,
    request: Request,
    platform: PlatformDep,
    current: CurrentDep,
) -> dict[str, str]:
    """A one-time invitation link (returned once)."""
    token = await run_in_threadpool(
        dialogues.invite,
        platform,
        current.actor,
        dialogue_id,
        body.role,
        delegation_id=body.delegation_id,
        track=body.track,
    )
    return {"link": invitation_link(request, token)}


@router.get("/dialogues/{dialogue_id}/rounds")
async def round_list(
    dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> list[dict[str, Any]]:
    """The rounds and their states."""
    found = await read(platform, rounds.rounds, platform, current.actor, dialogue_id)
    return [r.__dict__ for r in found]


@router.post("/dialogues/{dialogue_id}/rounds", status_code=201)
async def round_open(
    dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> dict[str, Any]:
    """Open the next round (facilitator)."""
    found = await run_in_threadpool(rounds.open_round, platform, current.actor, dialogue_id)
    return found.__dict__


@router.post("/dialogues/{dialogue_id}/rounds/current/lock")
async def round_lock(
    dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> dict[str, Any]:
    """Lock the current round (facilitator)."""
    found = await run_in_threadpool(rounds.lock_round, platform, current.actor, dialogue_id)
    return found.__dict__


@router.post("/dialogues/{dialogue_id}/rounds/current/unlock")
async def round_unlock(
    dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> dict[str, Any]:
    """Return the locked round to draft before it is evaluated (facilitator)."""
    found = await run_in_threadpool(rounds.unlock_round, platform, current.actor, dialogue_id)
    return found.__dict__


@router.post("/dialogues/{dialogue_id}/rounds/current/evaluate", status_code=201)
async def round_evaluate(
    dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> dict[str, str]:
    """Run the round's rationed evaluation (facilitator)."""
    found = await run_in_threadpool(evaluations.evaluate, platform, current.actor, dialogue_id)
    return {"id": found}


@router.get("/dialogues/{dialogue_id}/position")
async def position_get(
    dialogue_id: str, platform: PlatformDep, current: CurrentDep, delegation: str | None = None
) -> list[dict[str, Any]]:
    """The own side's positions round by round (the facilitator: an absent stakeholder's)."""
    found = await read(
        platform, positions.positions, platform, current.actor, dialogue_id, delegation
    )
    return [
        {
            "round": v.round_number,
            "revision": v.revision,
            "position": v.position.model_dump(mode="json"),
        }
        for v in found
    ]


@router.put("/dialogues/{dialogue_id}/position")
async def position_put(
    dialogue_id: str,
    position: Position,
    platform: PlatformDep,
    current: CurrentDep,
    delegation: str | None = None,
) -> dict[str, int]:
    """Record the side's position in the current draft round."""
    found = await run_in_threadpool(
        positions.save_position, platform, current.actor, dialogue_id, position, delegation
    )
    return {"round": found.round_number, "revision": found.revision}


@router.get("/dialogues/{dialogue_id}/evaluations")
async def evaluation_list(
    dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> list[dict[str, Any]]:
    """Every evaluation's whole picture (facilitator only)."""
    found = await read(platform, evaluations.evaluations, platform, current.actor, dialogue_id)
    return [
        {
            "id": e.id,
            "round": e.round_number,
            "side_ids": e.side_ids,
            "findings": e.findings.model_dump(mode="json"),
        }
        for e in found
    ]


@router.post("/dialogues/{dialogue_id}/releases", status_code=201)
async def release_add(
    dialogue_id: str, body: ReleaseBody, platform: PlatformDep, current: CurrentDep
) -> dict[str, str]:
    """Release one finding to a delegation or to ``observers`` (facilitator)."""
    found = await run_in_threadpool(
        releases.release,
        platform,
        current.actor,
        dialogue_id,
        body.evaluation_id,
        body.audience,
        body.kind,
        body.parameter,
    )
    return {"id": found}


@router.get("/dialogues/{dialogue_id}/releases")
async def release_list(
    dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> list[dict[str, Any]]:
    """What was released to the caller's side (or to the observers)."""
    found = await read(platform, releases.released_to_me, platform, current.actor, dialogue_id)
    return [{"round": r.round_number, **r.disclosed.model_dump(mode="json")} for r in found]


@router.get("/dialogues/{dialogue_id}/log")
async def log_list(
    dialogue_id: str,
    platform: PlatformDep,
    current: CurrentDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = audit_log.LOG_PAGE,
    before: LogBefore = None,
) -> list[dict[str, Any]]:
    """The dialogue's log as the caller may read it, newest first, ``limit`` at a time.

    The next page: ``before`` = the ``seq`` of the last entry received.
    """
    found = await read(
        platform,
        audit_log.entries,
        platform,
        current.actor,
        dialogue_id,
        limit=limit,
        before=before,
    )
    return [
        {"seq": e.seq, "at": e.at.isoformat(), "action": e.action, "mine": e.mine} for e in found
    ]
