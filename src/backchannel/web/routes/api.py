"""The JSON API (``/api/v1``): every action of the pages, for scripts and tools.

Authentication is the same server-side session as the pages: ``POST /api/v1/session``
sets the cookie and returns the CSRF token, which every state-changing call sends in
``X-CSRF-Token`` (an account with two-factor sign-in gets a sign-in cookie instead and
sends its code to ``POST /api/v1/session/code``). Request bodies forbid unknown fields.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from backchannel.model.dialogue import Agenda, Position
from backchannel.model.disclosure import words
from backchannel.services import (
    accounts,
    audit_log,
    checkpoints,
    dialogues,
    evaluation_robustness,
    evaluations,
    invitations,
    mfa,
    positions,
    readiness,
    releases,
    rounds,
)
from backchannel.services.accounts import Challenge, SignedIn
from backchannel.web import gate
from backchannel.web.api_models import (
    CHANGES_STATE,
    EVERY_ROUTE,
    IN_A_DIALOGUE,
    AgendaSaved,
    ChangeOut,
    CheckpointFile,
    CodeBody,
    Created,
    CsrfOut,
    DelegationBody,
    DelegationReadinessOut,
    DialogueBody,
    DialogueId,
    DialogueOut,
    DialogueSummary,
    DisableBody,
    EvaluationId,
    EvaluationOut,
    Id,
    InvitationBody,
    InvitationId,
    InvitationOut,
    IssueStabilityOut,
    LinkOut,
    LogEntryOut,
    MfaEnabledOut,
    MfaSecretOut,
    MfaStatusOut,
    PackageShareOut,
    ParticipantOut,
    PartyOut,
    PasswordBody,
    PositionRevision,
    ReadinessOut,
    RecoveryCodesOut,
    ReleaseBody,
    ReleaseOut,
    RequirementBody,
    RequirementOut,
    RevisionOut,
    RobustnessBody,
    RobustnessOut,
    RoundOut,
    SecondFactorOut,
    SessionOut,
    SignedOut,
    SignInBody,
    answers,
)
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
    write,
)
from backchannel.web.language import render_of
from backchannel.web.once import OnceRoute
from backchannel.web.robustness import robustness_view

router = APIRouter(prefix="/api/v1", tags=["api"], responses=EVERY_ROUTE, route_class=OnceRoute)

WRITE = {**CHANGES_STATE, **IN_A_DIALOGUE}
"""A state-changing route under a dialogue."""
READ = IN_A_DIALOGUE
"""A read under a dialogue."""


@router.post("/session", responses=answers(401, 413, 429))
async def session_start(
    body: SignInBody, request: Request, response: Response, platform: PlatformDep
) -> SessionOut | SecondFactorOut:
    """Sign in: sets the session cookie; returns the CSRF token for later writes.

    Wrong credentials: 401 (the same answer for an unknown user and a wrong password).
    An account with two-factor sign-in gets a sign-in cookie and ``second_factor``
    instead: its code goes to ``POST /api/v1/session/code``.
    """
    refuse_other_sites(request)
    done = await gate.sign_in(request, platform, body.username, body.password)
    if isinstance(done, Challenge):
        set_challenge_cookie(request, response, done.token)
        return SecondFactorOut(second_factor=True)
    return _session(request, response, done)


def _session(request: Request, response: Response, done: SignedIn) -> SessionOut:
    set_cookie(request, response, done.token)
    return SessionOut(
        csrf=done.csrf,
        must_change_password=done.must_change_password,
        must_enrol=done.must_enrol,
    )


@router.post("/session/code", responses=answers(401, 413, 429))
async def session_code(
    body: CodeBody, request: Request, response: Response, platform: PlatformDep
) -> SessionOut:
    """The second step of signing in: a code (or a recovery code) for the sign-in cookie."""
    refuse_other_sites(request)
    token = request.cookies.get(challenge_cookie_name(request))
    done = await gate.complete_sign_in(request, platform, token, body.code)
    clear_challenge_cookie(request, response)
    return _session(request, response, done)


@router.post("/session/end")
async def session_end(
    request: Request, response: Response, platform: PlatformDep, current: CurrentDep
) -> SignedOut:
    """Sign out (the session is revoked on the server)."""
    await run_in_threadpool(accounts.sign_out, platform, current.token_hash)
    clear_cookie(request, response)
    return SignedOut(signed_out=True)


@router.post("/account/password", responses=answers(413, 429))
async def password(
    body: PasswordBody,
    request: Request,
    response: Response,
    platform: PlatformDep,
    current: CurrentDep,
) -> CsrfOut:
    """Change the password; every session ends and a new one starts."""
    done = await run_in_threadpool(
        accounts.change_password, platform, current.actor, body.old, body.new
    )
    set_cookie(request, response, done.token)
    return CsrfOut(csrf=done.csrf)


@router.get("/account/mfa")
async def mfa_status(platform: PlatformDep, current: CurrentDep) -> MfaStatusOut:
    """Whether two-factor sign-in is on, required, or being set up."""
    found = await read(platform, mfa.status, platform, current.actor)
    return MfaStatusOut(
        enabled=found.enabled,
        required=found.required,
        recovery_codes_left=found.recovery_codes_left,
        pending=found.pending is not None,
    )


@router.post("/account/mfa/begin")
async def mfa_begin(platform: PlatformDep, current: CurrentDep) -> MfaSecretOut:
    """Start setting it up: the new secret, as text and as an ``otpauth://`` URI."""
    found = await run_in_threadpool(mfa.begin, platform, current.actor)
    return MfaSecretOut(secret=found.secret, uri=found.uri)


@router.post("/account/mfa/confirm", responses=answers(413))
async def mfa_confirm(
    body: CodeBody, platform: PlatformDep, current: CurrentDep
) -> RecoveryCodesOut:
    """Turn it on with a first code; returns the recovery codes (once)."""
    codes = await run_in_threadpool(
        mfa.confirm, platform, current.actor, current.token_hash, body.code
    )
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/account/mfa/recovery-codes", responses=answers(413, 429))
async def mfa_codes(
    body: CodeBody, request: Request, platform: PlatformDep, current: CurrentDep
) -> RecoveryCodesOut:
    """New recovery codes for a current code (the old ones stop working); returned once."""
    codes = await run_in_threadpool(
        mfa.replace_recovery_codes,
        platform,
        current.actor,
        body.code,
        gate.client_source(request),
    )
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/account/mfa/disable", responses=answers(413, 429))
async def mfa_disable(
    body: DisableBody, request: Request, platform: PlatformDep, current: CurrentDep
) -> MfaEnabledOut:
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
    return MfaEnabledOut(enabled=False)


@router.get("/dialogues")
async def dialogue_list(platform: PlatformDep, current: CurrentDep) -> list[DialogueSummary]:
    """The dialogues the caller has a seat in."""
    found = await read(platform, dialogues.my_dialogues, platform, current.actor)
    return [DialogueSummary(id=i, title=t, role=r) for i, t, r in found]


@router.post("/dialogues", status_code=201, responses=CHANGES_STATE)
async def dialogue_create(
    body: DialogueBody, platform: PlatformDep, current: CurrentDep
) -> Created:
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
        blind=body.blind,
    )
    return Created(id=dialogue_id)


@router.get("/dialogues/{dialogue_id}", responses=READ)
async def dialogue_get(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> DialogueOut:
    """The dialogue's structure as the caller may see it."""
    view, found = await read(platform, rounds.overview, platform, current.actor, dialogue_id)
    return DialogueOut.model_validate(
        {
            "id": view.id,
            "title": view.title,
            "role": view.seat.role,
            "delegation_id": view.seat.delegation_id,
            "agenda": view.agenda,
            "parties": [
                PartyOut(id=d.id, name=d.name, absent=d.absent, own=d.own) for d in view.delegations
            ],
            "participants": [
                ParticipantOut.model_validate(
                    {
                        "name": p.name,
                        "role": p.role,
                        "delegation_id": p.delegation_id,
                        "track": p.track,
                        "two_factor": p.two_factor,
                    }
                )
                for p in view.participants
            ],
            "rounds": [r.__dict__ for r in found],
            "evaluations_per_round": view.evaluations_per_round,
            "evaluations_per_dialogue": view.evaluations_per_dialogue,
            "evaluations_used": view.evaluations_used,
            "monotone_red_lines": view.monotone_red_lines,
            "mfa_required": view.mfa_required,
            "blind": view.blind,
        }
    )


@router.put("/dialogues/{dialogue_id}/mfa", responses=WRITE)
async def mfa_requirement(
    dialogue_id: DialogueId, body: RequirementBody, platform: PlatformDep, current: CurrentDep
) -> RequirementOut:
    """Require two-factor sign-in of every seat, or no longer (facilitator)."""
    await run_in_threadpool(
        dialogues.set_mfa_required, platform, current.actor, dialogue_id, body.required
    )
    return RequirementOut(mfa_required=body.required)


@router.put("/dialogues/{dialogue_id}/agenda", responses=WRITE)
async def agenda_put(
    dialogue_id: DialogueId, agenda: Agenda, platform: PlatformDep, current: CurrentDep
) -> AgendaSaved:
    """Replace the agenda (facilitator, draft round only)."""
    await run_in_threadpool(dialogues.set_agenda, platform, current.actor, dialogue_id, agenda)
    return AgendaSaved(issues=len(agenda.issues))


@router.post("/dialogues/{dialogue_id}/delegations", status_code=201, responses=WRITE)
async def delegation_add(
    dialogue_id: DialogueId, body: DelegationBody, platform: PlatformDep, current: CurrentDep
) -> Created:
    """Add a delegation or an absent stakeholder (facilitator)."""
    found = await run_in_threadpool(
        dialogues.add_delegation,
        platform,
        current.actor,
        dialogue_id,
        body.name,
        absent=body.absent,
    )
    return Created(id=found)


@router.post("/dialogues/{dialogue_id}/invitations", status_code=201, responses=WRITE)
async def invitation_add(
    dialogue_id: DialogueId,
    body: InvitationBody,
    request: Request,
    platform: PlatformDep,
    current: CurrentDep,
) -> LinkOut:
    """A one-time invitation link (returned once)."""
    token = await run_in_threadpool(
        dialogues.invite,
        platform,
        current.actor,
        dialogue_id,
        body.role.value,
        delegation_id=body.delegation_id,
        track=body.track.value if body.track else None,
    )
    return LinkOut(link=invitation_link(request, token))


@router.get("/dialogues/{dialogue_id}/invitations", responses=READ)
async def invitation_list(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> list[InvitationOut]:
    """The invitations not yet used, soonest to expire first (facilitator)."""
    found = await read(platform, invitations.pending, platform, current.actor, dialogue_id)
    return [InvitationOut.model_validate(i.__dict__) for i in found]


@router.delete(
    "/dialogues/{dialogue_id}/invitations/{invitation_id}", status_code=204, responses=WRITE
)
async def invitation_revoke(
    dialogue_id: DialogueId,
    invitation_id: InvitationId,
    platform: PlatformDep,
    current: CurrentDep,
) -> Response:
    """Revoke an invitation not yet used (facilitator): its link no longer works."""
    await run_in_threadpool(invitations.revoke, platform, current.actor, dialogue_id, invitation_id)
    return Response(status_code=204)


@router.get("/dialogues/{dialogue_id}/readiness", responses=READ)
async def readiness_of(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> ReadinessOut:
    """Per delegation: a position in the current round or not, when, and the issues it
    left unrated (facilitator; never a rating, red line, walk-away level or note)."""
    found = await read(platform, readiness.readiness, platform, current.actor, dialogue_id)
    return ReadinessOut(
        round=found.round_number,
        delegations=[
            DelegationReadinessOut(
                delegation_id=d.delegation_id,
                name=d.name,
                saved=d.saved.value,
                at=d.at,
                unrated=d.unrated,
            )
            for d in found.delegations
        ],
    )


@router.get("/dialogues/{dialogue_id}/rounds", responses=READ)
async def round_list(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> list[RoundOut]:
    """The rounds and their states."""
    found = await read(platform, rounds.rounds, platform, current.actor, dialogue_id)
    return [RoundOut.model_validate(r.__dict__) for r in found]


@router.post("/dialogues/{dialogue_id}/rounds", status_code=201, responses=WRITE)
async def round_open(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> RoundOut:
    """Open the next round (facilitator)."""
    found = await run_in_threadpool(rounds.open_round, platform, current.actor, dialogue_id)
    return RoundOut.model_validate(found.__dict__)


@router.post("/dialogues/{dialogue_id}/rounds/current/lock", responses=WRITE)
async def round_lock(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> RoundOut:
    """Lock the current round (facilitator)."""
    found = await run_in_threadpool(rounds.lock_round, platform, current.actor, dialogue_id)
    return RoundOut.model_validate(found.__dict__)


@router.post("/dialogues/{dialogue_id}/rounds/current/unlock", responses=WRITE)
async def round_unlock(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> RoundOut:
    """Return the locked round to draft before it is evaluated (facilitator)."""
    found = await run_in_threadpool(rounds.unlock_round, platform, current.actor, dialogue_id)
    return RoundOut.model_validate(found.__dict__)


@router.post("/dialogues/{dialogue_id}/rounds/current/evaluate", status_code=201, responses=WRITE)
async def round_evaluate(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> Created:
    """Run the round's rationed evaluation (facilitator)."""
    found = await run_in_threadpool(evaluations.evaluate, platform, current.actor, dialogue_id)
    return Created(id=found)


Delegation = Annotated[Id | None, Query()]
"""Whose position (the facilitator, for an absent stakeholder); the caller's own when absent."""


@router.get("/dialogues/{dialogue_id}/position", responses=READ)
async def position_get(
    dialogue_id: DialogueId,
    platform: PlatformDep,
    current: CurrentDep,
    delegation: Delegation = None,
) -> list[PositionRevision]:
    """The own side's positions round by round (the facilitator: an absent stakeholder's)."""
    found = await read(
        platform, positions.positions, platform, current.actor, dialogue_id, delegation
    )
    return [
        PositionRevision(round=v.round_number, revision=v.revision, position=v.position)
        for v in found
    ]


@router.put("/dialogues/{dialogue_id}/position", responses=WRITE)
async def position_put(
    dialogue_id: DialogueId,
    position: Position,
    platform: PlatformDep,
    current: CurrentDep,
    delegation: Delegation = None,
) -> RevisionOut:
    """Record the side's position in the current draft round."""
    found = await write(
        platform,
        positions.save_position,
        platform,
        current.actor,
        dialogue_id,
        position,
        delegation,
    )
    return RevisionOut(round=found.round_number, revision=found.revision)


@router.get("/dialogues/{dialogue_id}/evaluations", responses=READ)
async def evaluation_list(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> list[EvaluationOut]:
    """Every evaluation's whole picture (facilitator only)."""
    found = await read(platform, evaluations.evaluations, platform, current.actor, dialogue_id)
    return [
        EvaluationOut(id=e.id, round=e.round_number, side_ids=e.side_ids, findings=e.findings)
        for e in found
    ]


@router.post("/dialogues/{dialogue_id}/evaluations/{evaluation_id}/robustness", responses=WRITE)
async def evaluation_robustness_check(
    dialogue_id: DialogueId,
    evaluation_id: EvaluationId,
    body: RobustnessBody,
    platform: PlatformDep,
    current: CurrentDep,
) -> RobustnessOut:
    """How robust an evaluation's recommendation is to rough ratings (facilitator): every
    rating of the evaluation's inputs moved by up to ± ``noise`` points, ``samples`` times;
    written to every side's log."""
    found = await run_in_threadpool(
        evaluation_robustness.check,
        platform,
        current.actor,
        dialogue_id,
        evaluation_id,
        rule=body.rule,
        noise=body.noise,
        samples=body.samples,
    )
    result, view = found.result, robustness_view(found)
    problem = result.problem
    return RobustnessOut(
        evaluation_id=found.evaluation_id,
        round=found.round_number,
        rule=result.rule,
        noise=body.noise,
        samples=result.samples,
        seed=result.seed,
        partial_deal=list(result.partial) or None,
        recommendation=dict(view.recommendation),
        stable_share=result.stable_share,
        packages=[
            PackageShareOut(
                package=None if s.package is None else problem.package_labels(s.package),
                count=s.count,
                share=s.share,
            )
            for s in result.packages
        ],
        issues=[
            IssueStabilityOut(issue=s.issue, option=s.option, stable_share=s.share)
            for s in result.issues
        ],
        smallest_change=ChangeOut(kind=view.change, points=view.points, found=view.found),
        unproven=result.unproven,
        seconds=result.seconds,
    )


@router.post("/dialogues/{dialogue_id}/releases", status_code=201, responses=WRITE)
async def release_add(
    dialogue_id: DialogueId, body: ReleaseBody, platform: PlatformDep, current: CurrentDep
) -> Created:
    """Release one finding to a delegation or to ``observers`` (facilitator)."""
    found = await run_in_threadpool(
        releases.release,
        platform,
        current.actor,
        dialogue_id,
        body.evaluation_id,
        body.audience,
        body.kind.value,
        body.parameter,
    )
    return Created(id=found)


@router.get("/dialogues/{dialogue_id}/releases", responses=READ)
async def release_list(
    request: Request, dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> list[ReleaseOut]:
    """What was released to the caller's side (or to the observers), in the caller's
    language (``headline``) and as data (``facts``)."""
    found = await read(platform, releases.released_to_me, platform, current.actor, dialogue_id)
    say = render_of(request)
    return [
        ReleaseOut(
            id=r.id,
            released_at=r.released_at,
            round=r.round_number,
            kind=r.disclosed.kind,
            headline=say(words(r.disclosed)),
            facts=r.disclosed.facts,
            package=r.disclosed.package,
            frontier=r.disclosed.frontier,
            escalation=r.disclosed.escalation,
        )
        for r in found
    ]


@router.get("/dialogues/{dialogue_id}/log", responses=READ)
async def log_list(
    dialogue_id: DialogueId,
    platform: PlatformDep,
    current: CurrentDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = audit_log.LOG_PAGE,
    before: LogBefore = None,
) -> list[LogEntryOut]:
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
    return [LogEntryOut(seq=e.seq, at=e.at, action=e.action, mine=e.mine) for e in found]


@router.get(
    "/dialogues/{dialogue_id}/checkpoints", responses=READ, response_model_exclude_none=True
)
async def checkpoint_list(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> CheckpointFile:
    """The signed audit checkpoints the caller's seat may see, as one file to keep.

    Each is the audit chain's head at a round transition, signed with the server's
    Ed25519 key (``key``, to pin). ``backchannel audit verify --checkpoint FILE`` proves
    later that the log was not rolled back or rewritten.
    """
    found = await read(platform, checkpoints.document, platform, current.actor, dialogue_id)
    return CheckpointFile.model_validate(found)
