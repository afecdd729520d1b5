"""History across rounds: what moved, per side, and how far the sides converged.

The facilitator's view is built from the evaluations alone (what the facilitator already
sees): red lines loosened or tightened between the evaluations of successive rounds, and
per evaluation the admissible packages and the issues with overlap. A member's view is
its own side's positions round by round (red lines, ratings, walk-away level); it never
includes another side, nor an evaluation's findings, which a side learns only as
releases.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from backchannel.model.changes import (
    ConvergencePoint,
    PositionChanges,
    RedLineMoves,
    convergence,
    position_changes,
    red_line_changes,
)
from backchannel.services import access, evaluations
from backchannel.services.access import Actor
from backchannel.services.dialogues import read_agenda
from backchannel.services.platform import Platform
from backchannel.services.positions import positions
from backchannel.storage import repo
from backchannel.storage.tables import DialogueRow


@dataclass(frozen=True)
class SidesMoved:
    """Red lines that moved per side between the evaluations of two rounds."""

    from_round: int
    to_round: int
    sides: dict[str, RedLineMoves]


@dataclass(frozen=True)
class DialogueHistory:
    """The facilitator's history: moves between evaluated rounds, and convergence."""

    moves: list[SidesMoved]
    convergence: list[ConvergencePoint]


def dialogue_history(platform: Platform, actor: Actor, dialogue_id: str) -> DialogueHistory:
    """The facilitator's view of the dialogue across its evaluations (oldest first)."""
    found = list(reversed(evaluations.evaluations(platform, actor, dialogue_id)))
    last_of_round = {e.round_number: e for e in found}  # the round's latest evaluation
    ordered = [last_of_round[n] for n in sorted(last_of_round)]
    moves = [
        SidesMoved(a.round_number, b.round_number, red_line_changes(a.findings, b.findings))
        for a, b in pairwise(ordered)
    ]
    return DialogueHistory(moves, convergence([(e.round_number, e.findings) for e in found]))


@dataclass(frozen=True)
class OwnChanges:
    """How the own side's position moved from one round to the next."""

    from_round: int
    to_round: int
    changes: PositionChanges


def own_history(platform: Platform, actor: Actor, dialogue_id: str) -> list[OwnChanges]:
    """A member's own side, round by round (NotFound for every other seat)."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        access.own_delegation(place)
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        assert dialogue is not None
        agenda = read_agenda(platform.keys(s, dialogue_id), dialogue)
    history = positions(platform, actor, dialogue_id)
    return [
        OwnChanges(a.round_number, b.round_number, position_changes(agenda, a.position, b.position))
        for a, b in pairwise(history)
    ]
