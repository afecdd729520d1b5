"""What the JSON API takes and answers, as the OpenAPI description declares it.

Every limit a route enforces is in these models (lengths, ranges, enums, strict
integers and booleans), so that a request the description calls valid is refused only
for a reason the description cannot state: a rule between fields (an issue id must be
on the agenda, two issues may not share a name) or the dialogue's state (409). Every
answer has a model too, so a client can rely on the shape of every status, errors
included; ``tests/dialogues/test_api_fuzz.py`` holds the server to it.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from backchannel.model.dialogue import NOT_TRUTH_VALUE, Agenda, Position
from backchannel.model.disclosure import EscalationFact, Facts, FrontierFact, Kind
from backchannel.model.findings import Findings
from backchannel.model.results import SettlementRule
from backchannel.services import dialogues
from backchannel.services.access import Track
from backchannel.services.evaluation_robustness import (
    DEFAULT_NOISE,
    DEFAULT_RULE,
    DEFAULT_SAMPLES,
    NOISE_POINTS,
    SAMPLE_COUNTS,
)

ID_LENGTH = 64
"""The longest id a route takes (ids are 22 characters); a longer one is a 422."""

Id = Annotated[str, Field(min_length=1, max_length=ID_LENGTH)]
DialogueId = Annotated[str, Path(min_length=1, max_length=ID_LENGTH)]
InvitationId = Annotated[str, Path(min_length=1, max_length=ID_LENGTH)]
EvaluationId = Annotated[str, Path(min_length=1, max_length=ID_LENGTH)]
Text = Annotated[str, Field(pattern=r"\S")]  # at least one character that is not a space


class Role(str, Enum):
    """A seat's role in a dialogue."""

    FACILITATOR = "facilitator"
    MEMBER = "member"
    OBSERVER = "observer"


class RoundState(str, Enum):
    """Where a round stands."""

    DRAFT = "draft"
    LOCKED = "locked"
    EVALUATED = "evaluated"
    DISCLOSED = "disclosed"


# ------------------------------------------------------------------ requests
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignInBody(_Body):
    """Credentials."""

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=128)]


Code = Annotated[str, Field(min_length=1, max_length=32)]
"""A TOTP code (6 digits) or a recovery code (``xxxx-xxxx-xxxx``); spaces and dashes
are ignored."""


class CodeBody(_Body):
    """A second-factor code."""

    code: Code


class DisableBody(_Body):
    """What turning two-factor sign-in off takes."""

    password: Annotated[str, Field(min_length=1, max_length=128)]
    code: Code


class RequirementBody(_Body):
    """Whether every seat of a dialogue must use two-factor sign-in."""

    required: Annotated[bool, Field(strict=True)]


class PasswordBody(_Body):
    """A password change: the current password and a new one of 12 to 128 characters."""

    old: Annotated[str, Field(min_length=1, max_length=128)]
    new: Annotated[str, Field(min_length=12, max_length=128)]


class DialogueBody(_Body):
    """A new dialogue."""

    title: Annotated[Text, Field(min_length=1, max_length=200)]
    evaluations_per_round: Annotated[int, Field(ge=1, le=10), NOT_TRUTH_VALUE] = 1
    evaluations_per_dialogue: Annotated[
        int, Field(ge=1, le=dialogues.MOST_EVALUATIONS_PER_DIALOGUE), NOT_TRUTH_VALUE
    ] = dialogues.EVALUATIONS_PER_DIALOGUE
    monotone_red_lines: Annotated[bool, Field(strict=True)] = False
    mfa_required: Annotated[bool, Field(strict=True)] = False
    blind: Annotated[bool, Field(strict=True)] = False
    """Blind mode, fixed here: no position on the server; the delegations' nodes compute."""


class DelegationBody(_Body):
    """A new delegation or absent stakeholder."""

    name: Annotated[Text, Field(min_length=1, max_length=120)]
    absent: Annotated[bool, Field(strict=True)] = False


class InvitationBody(_Body):
    """A new invitation: a member needs a delegation and a track, no other role has one."""

    role: Role
    delegation_id: Id | None = None
    track: Track | None = None


class EvaluationKind(str, Enum):
    """A finding of an evaluation (those of the escalation watch have their own route)."""

    ZONE = Kind.ZONE.value
    OVERLAP = Kind.OVERLAP.value
    CLASH = Kind.CLASH.value
    PACKAGE = Kind.PACKAGE.value
    FRONTIER = Kind.FRONTIER.value


class ReleaseBody(_Body):
    """A finding to release to a delegation (its id) or to ``observers``."""

    evaluation_id: Id
    audience: Id
    kind: EvaluationKind
    parameter: Annotated[str, Field(max_length=200)] = ""


class RobustnessBody(_Body):
    """A robustness check of an evaluation's recommendation: the rule, how far every rating
    moves (± points) and how many perturbations to solve."""

    rule: SettlementRule = DEFAULT_RULE
    noise: Annotated[int, Field(ge=NOISE_POINTS[0], le=NOISE_POINTS[1]), NOT_TRUTH_VALUE] = (
        DEFAULT_NOISE
    )
    samples: Annotated[int, Field(ge=SAMPLE_COUNTS[0], le=SAMPLE_COUNTS[1]), NOT_TRUTH_VALUE] = (
        DEFAULT_SAMPLES
    )


# ------------------------------------------------------------------ answers
class ErrorOut(BaseModel):
    """Every error, in the request's language: what went wrong and, where there is one,
    what to do; ``code`` is the message's English msgid, the same in every language. A
    request the schema refused also names the ``field`` (``walk_away``,
    ``ratings.i1.full``), and its ``code`` is then the problem's msgid
    (``must be at most {le}``), not the sentence around it."""

    error: str
    hint: str | None = None
    code: str | None = None
    field: str | None = None


class SessionOut(BaseModel):
    """A new session: the CSRF token every later write sends in ``X-CSRF-Token``; what the
    account must do first (choose a password, set up two-factor sign-in)."""

    csrf: str
    must_change_password: bool
    must_enrol: bool


class SecondFactorOut(BaseModel):
    """The password was right; the code goes to ``POST /api/v1/session/code``."""

    second_factor: bool


class MfaStatusOut(BaseModel):
    """Two-factor sign-in of the caller's account."""

    enabled: bool
    required: bool
    recovery_codes_left: int
    pending: bool


class MfaSecretOut(BaseModel):
    """A new secret to set up: as text and as an ``otpauth://`` URI."""

    secret: str
    uri: str


class RecoveryCodesOut(BaseModel):
    """One-time recovery codes, shown once."""

    recovery_codes: list[str]


class MfaEnabledOut(BaseModel):
    """Whether two-factor sign-in is now on."""

    enabled: bool


class RequirementOut(BaseModel):
    """Whether the dialogue now requires two-factor sign-in of every seat."""

    mfa_required: bool


class CsrfOut(BaseModel):
    """A new session after a password change."""

    csrf: str


class SignedOut(BaseModel):
    """The session was revoked."""

    signed_out: bool


class Created(BaseModel):
    """The id of what was created."""

    id: str


class DialogueSummary(BaseModel):
    """A dialogue the caller has a seat in."""

    id: str
    title: str
    role: Role


class PartyOut(BaseModel):
    """A delegation or absent stakeholder; ``own``: the caller's."""

    id: str
    name: str
    absent: bool
    own: bool


class ParticipantOut(BaseModel):
    """A seat, under the name the caller may see."""

    name: str
    role: Role
    delegation_id: str | None
    track: Track | None
    two_factor: bool | None = None  # shown to the facilitator only


class RoundOut(BaseModel):
    """A round and its evaluations."""

    id: str
    number: int
    state: RoundState
    evaluations_allowed: int
    evaluations_used: int


class DialogueOut(BaseModel):
    """The dialogue's structure as the caller may see it."""

    id: str
    title: str
    role: Role
    delegation_id: str | None
    agenda: Agenda
    parties: list[PartyOut]
    participants: list[ParticipantOut]
    rounds: list[RoundOut]
    evaluations_per_round: int
    evaluations_per_dialogue: int
    evaluations_used: int
    monotone_red_lines: bool
    mfa_required: bool
    blind: bool = False


class AgendaSaved(BaseModel):
    """How many issues the agenda now has."""

    issues: int


class InvitationOut(BaseModel):
    """An invitation not yet used (the facilitator's list); ``id`` is its token's hash."""

    id: str
    role: Role
    delegation: str | None
    track: Track | None
    expires_at: datetime
    expired: bool


class DelegationReadinessOut(BaseModel):
    """A delegation's position in the current round: saved, carried over or missing,
    when, and the names of the issues it rated not at all (nothing of its content)."""

    delegation_id: str
    name: str
    saved: Annotated[str, Field(pattern="^(saved|carried over|missing)$")]
    at: datetime | None
    unrated: list[str]


class ReadinessOut(BaseModel):
    """The current round's readiness (``round`` null: no round yet)."""

    round: int | None
    delegations: list[DelegationReadinessOut]


class LinkOut(BaseModel):
    """A one-time invitation link (shown once)."""

    link: str


class RevisionOut(BaseModel):
    """Where a saved position stands: its round and revision."""

    round: int
    revision: int


class PositionRevision(RevisionOut):
    """One saved revision of a position."""

    position: Position


class EvaluationOut(BaseModel):
    """An evaluation's whole picture (the facilitator's)."""

    id: str
    round: int
    side_ids: list[str]
    findings: Findings


class PackageShareOut(BaseModel):
    """A package (issue name -> option; null: no admissible package) and how often the
    rule recommends it under perturbation."""

    package: dict[str, str] | None
    count: int
    share: float


class IssueStabilityOut(BaseModel):
    """The share of samples that keep an issue's recommended option."""

    issue: str
    option: str
    stable_share: float


class ChangeOut(BaseModel):
    """The smallest change of the ratings that alters the answer (points, every rating)."""

    kind: str = Field(
        description="exact (the threshold, computed), bound (a proven lower bound), found "
        "(only a change found in the samples or by a directed search), never (the only "
        "admissible package) or unknown"
    )
    points: float | None = Field(description="the threshold (exact or bound)")
    found: float | None = Field(description="the smallest change found that alters it")


class RobustnessOut(BaseModel):
    """How robust an evaluation's recommendation is (computed on that evaluation's inputs)."""

    evaluation_id: str
    round: int
    rule: SettlementRule
    noise: int
    samples: int
    seed: int
    partial_deal: list[str] | None
    recommendation: dict[str, str]
    stable_share: float
    packages: list[PackageShareOut]
    issues: list[IssueStabilityOut]
    smallest_change: ChangeOut
    unproven: int
    seconds: float


class ReleaseOut(BaseModel):
    """A finding released to the caller's side."""

    id: str = Field(description="the release's id (the one `POST …/releases` answered)")
    released_at: datetime
    round: int
    kind: Kind
    headline: str = Field(description="what the finding states, in the caller's language")
    facts: Facts | None = Field(
        default=None,
        description="what the finding states, as data (a versioned document: kind and values)",
    )
    package: dict[str, str] | None = None
    frontier: FrontierFact | None = None
    escalation: EscalationFact | None = None


class LogEntryOut(BaseModel):
    """One entry of the dialogue's log as the caller may read it."""

    seq: int
    at: datetime
    action: str
    mine: bool


class CheckpointOut(BaseModel):
    """One signed checkpoint: the audit chain's head at a round transition."""

    format: str
    key: str
    dialogue: str
    round: int
    event: str
    seq: int | None = Field(
        default=None, description="format v1 only (checkpoints signed before v2)"
    )
    head: str
    at: str
    signature: str


class CheckpointFile(BaseModel):
    """The checkpoints a seat may see, with the server's public key to pin."""

    format: str
    key: str
    dialogue: str
    checkpoints: list[CheckpointOut]


# ------------------------------------------------------------------ statuses
_MEANING = {
    400: "The body could not be read as JSON, or the Host header names a host this "
    "server does not serve.",
    401: "Sign-in required, or (sign-in) the user name or password is wrong.",
    404: "No such dialogue or object, or not one the caller may see (the same answer).",
    409: "Not allowed now: the dialogue's state or one of its rules forbids it, or the "
    "password must be changed first (POST /api/v1/account/password).",
    413: "The request body is larger than the server accepts.",
    422: "Invalid input (the message says what and where), or a missing or stale "
    "X-CSRF-Token on a write.",
    429: "Too many attempts: wait for the time in Retry-After.",
    503: "The server's storage is full: nothing was saved; try again later.",
}


def answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error statuses of a route, for its ``responses``, each with :class:`ErrorOut`."""
    return {code: {"model": ErrorOut, "description": _MEANING[code]} for code in codes}


EVERY_ROUTE = answers(400, 401, 409, 422, 503)
"""What any API route can answer: a Host not ours, no session, a password to change
first (409), bad input, a full disk."""
IN_A_DIALOGUE = answers(404)
"""A route under a dialogue: a dialogue (or object) missing or not the caller's."""
CHANGES_STATE = answers(413)
"""A write with a body."""
