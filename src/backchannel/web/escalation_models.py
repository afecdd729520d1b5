"""What the JSON API of the escalation watch takes and answers.

The model itself is a conflict file (``docs/reference/conflict-file.md``) as JSON; its own
checks (unknown keys, located errors) are the conflict file's.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from backchannel.model.dialogue import NOT_TRUTH_VALUE
from backchannel.services.escalation import MAX_HORIZON
from backchannel.web.api_models import Id, _Body
from backchannel.web.escalation_view import ConceptView, State, WatchView

Concept = Literal["nash", "gmr", "smr", "seq", "sim", "seqsim"]
"""A solution concept of the watch (:data:`backchannel.services.escalation.CONCEPTS`)."""

ReleasedConcept = Literal["nash", "gmr", "smr", "seq", "sim", "seqsim", "limited"]
"""A concept a finding is released under: limited-move stability too (two movers)."""


class FindingKind(str, Enum):
    """An escalation finding: a state is an equilibrium, or the path to it."""

    EQUILIBRIUM = "equilibrium"
    PATH = "path"


StateText = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[YNyn]+$")]


class EscalationOut(BaseModel):
    """The dialogue's escalation model (``model`` null and revision 0 before the first save)."""

    revision: int
    updated_at: datetime | None = None
    model: dict[str, Any] | None = None


class EscalationSaved(BaseModel):
    """The revision a save made."""

    revision: int


class EscalationReleaseBody(_Body):
    """An escalation finding to release to one delegation at the table."""

    audience: Id
    kind: FindingKind
    concept: ReleasedConcept
    state: StateText
    horizon: Annotated[int, Field(ge=1, le=MAX_HORIZON), NOT_TRUTH_VALUE] | None = None
    """For ``limited``: the moves each side looks ahead (default :data:`HORIZON`)."""


class StepOut(BaseModel):
    """A move: who moves, from which state to which."""

    mover: str
    source: str = Field(serialization_alias="from")
    target: str = Field(serialization_alias="to")


class ConceptOut(BaseModel):
    """One concept's results (lists of at most 64 states; the counts say how many)."""

    name: str
    equilibria: list[str]
    equilibrium_count: int
    stable: dict[str, list[str]]
    stable_count: dict[str, int]
    paths: dict[str, list[StepOut] | None] = Field(
        description="from the status quo to each equilibrium listed (null: unreachable)"
    )


class AnalysisOut(BaseModel):
    """The model's analysis per solution concept."""

    options: list[str]
    states: int
    status_quo: str | None
    state_names: dict[str, str]
    concepts: dict[str, ConceptOut]
    rankings: dict[str, list[list[str]]] = Field(
        description="each decision maker's first tie groups, most preferred first"
    )


class WatchOut(BaseModel):
    """The analysis of the saved model, and of the what-if when one is asked."""

    revision: int
    analysis: AnalysisOut
    whatif: AnalysisOut | None = None


class ReplyOut(BaseModel):
    """An improvement from the explained state and what deters it."""

    target: str
    deterred: bool
    sanction: list[StepOut] | None


class ExplanationOut(BaseModel):
    """Why a state is (or is not) stable for a decision maker under a concept."""

    dm: str
    state: str
    concept: str
    stable: bool
    improvements: list[ReplyOut]


def _names(view: WatchView) -> dict[str, str]:
    found: dict[str, str] = {}
    states: list[State] = [s for c in view.concepts for s in c.equilibria]
    for c in view.concepts:
        for shown, _ in c.stable.values():
            states += shown
    for state in states:
        if state.name:
            found[state.code] = state.name
    return found


def _concept(view: ConceptView) -> ConceptOut:
    return ConceptOut(
        name=view.name,
        equilibria=[s.code for s in view.equilibria],
        equilibrium_count=view.count,
        stable={m: [s.code for s in shown] for m, (shown, _) in view.stable.items()},
        stable_count={m: count for m, (_, count) in view.stable.items()},
        paths={
            target: None
            if steps is None
            else [StepOut(mover=s.mover, source=s.source.code, target=s.target.code) for s in steps]
            for target, steps in view.paths.items()
        },
    )


def analysis_out(view: WatchView) -> AnalysisOut:
    """The API's form of an analysis."""
    return AnalysisOut(
        options=view.options,
        states=view.states,
        status_quo=None if view.status_quo is None else view.status_quo.code,
        state_names=_names(view),
        concepts={c.concept: _concept(c) for c in view.concepts},
        rankings={
            dm: [[s.code for s in group] for group in groups]
            for dm, (groups, _) in view.rankings.items()
        },
    )
