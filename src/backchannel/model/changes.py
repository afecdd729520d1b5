"""What moved between rounds: pure functions over positions and over findings.

* :func:`position_changes` compares one side's position in two rounds (the side's own
  view): red lines loosened or tightened, ratings and the walk-away level changed.
* :func:`red_line_changes` compares two evaluations' findings side by side (the
  facilitator's view, which holds only what the evaluations showed: red lines, never
  ratings).
* :func:`convergence` reads, per evaluation, the admissible packages and the issues
  with overlap: the series of the convergence chart.

A red line loosens when it is dropped or its firmness falls, and tightens when it is
added or its firmness rises (an "if ... then ..." condition counts as one red line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from backchannel.messages import Message, t_
from backchannel.model.dialogue import (
    Agenda,
    IfThen,
    Position,
    Unacceptable,
    prune,
    red_line_id,
    red_line_words,
)
from backchannel.model.findings import Findings
from backchannel.model.findings import red_line_words as finding_words


@dataclass(frozen=True)
class RedLineMoves:
    """Red lines of one side that loosened or tightened, in words (in the reader's
    language when shown)."""

    loosened: list[Message] = field(default_factory=list)
    tightened: list[Message] = field(default_factory=list)

    @property
    def moved(self) -> bool:
        """Whether any red line moved."""
        return bool(self.loosened or self.tightened)


@dataclass(frozen=True)
class RatingChange:
    """One option whose rating changed (None: not rated)."""

    issue: str
    option: str
    before: int | None
    after: int | None


@dataclass(frozen=True)
class PositionChanges:
    """How one side's position moved from one round to the next."""

    red_lines: RedLineMoves
    ratings: list[RatingChange]
    walk_away: tuple[int | None, int | None] | None
    """``(before, after)`` when the walk-away level changed."""
    importance_changed: bool


def _lines(agenda: Agenda, position: Position) -> dict[str, tuple[Message, float]]:
    """Red-line id -> (words, firmness weight) of a position on the agenda."""
    items: list[Unacceptable | IfThen] = [*position.unacceptable, *position.rules]
    return {
        red_line_id(0, item, agenda): (red_line_words(agenda, item), item.firmness.weight)
        for item in items
    }


def _moves(
    before: dict[str, tuple[Message, float]], after: dict[str, tuple[Message, float]]
) -> RedLineMoves:
    loosened: list[Message] = []
    tightened: list[Message] = []
    for key, (text, firm) in before.items():
        if key not in after:
            loosened.append(t_("{red_line} (dropped)", red_line=text))
        elif after[key][1] < firm:
            loosened.append(t_("{red_line} (less firm)", red_line=text))
        elif after[key][1] > firm:
            tightened.append(t_("{red_line} (firmer)", red_line=text))
    tightened += [
        t_("{red_line} (added)", red_line=text)
        for key, (text, _) in after.items()
        if key not in before
    ]
    return RedLineMoves(loosened, tightened)


def position_changes(agenda: Agenda, before: Position, after: Position) -> PositionChanges:
    """How a side's position moved between two rounds, on the current agenda.

    Parameters
    ----------
    agenda:
        The agenda both positions are read on (what is no longer on it is left out).
    before, after:
        The side's positions in the earlier and the later round.

    Returns
    -------
    PositionChanges
        Red lines loosened and tightened, ratings changed (agenda order), the walk-away
        level's change and whether the order of importance changed.
    """
    old, new = prune(agenda, before), prune(agenda, after)
    ratings = []
    for issue in agenda.issues:
        was, now = old.ratings.get(issue.id, {}), new.ratings.get(issue.id, {})
        for option in issue.options:
            if was.get(option) != now.get(option):
                ratings.append(RatingChange(issue.name, option, was.get(option), now.get(option)))
    walk = (old.walk_away, new.walk_away) if old.walk_away != new.walk_away else None
    return PositionChanges(
        _moves(_lines(agenda, old), _lines(agenda, new)),
        ratings,
        walk,
        old.importance != new.importance,
    )


def red_line_changes(before: Findings, after: Findings) -> dict[str, RedLineMoves]:
    """Per side (by name), the red lines that moved between two evaluations.

    Walk-away levels are left out (a change of one shows as a red line only in the
    evaluations' words, not as a level). Sides are matched by name.
    """
    return {
        side: _moves(_side_lines(before, side), _side_lines(after, side)) for side in after.sides
    }


def _side_lines(findings: Findings, side: str) -> dict[str, tuple[Message, float]]:
    """A side's red lines in an evaluation (without the side's number in their ids)."""
    if side not in findings.sides:
        return {}
    index = findings.sides.index(side)
    return {
        key.split("-", 1)[1]: (finding_words(findings, key), fact.firmness)
        for key, fact in findings.red_lines.items()
        if fact.side == index and not key.startswith("reservation")
    }


@dataclass(frozen=True)
class ConvergencePoint:
    """One evaluation's place on the convergence chart."""

    round_number: int
    zone: bool | None
    admissible: int | None
    overlap: int
    issues: int


def convergence(evaluated: Sequence[tuple[int, Findings]]) -> list[ConvergencePoint]:
    """The convergence series: per evaluation (oldest first), admissible packages and
    issues with overlap."""
    return [
        ConvergencePoint(
            number,
            f.zone,
            f.admissible_count if f.zone is not False else 0,
            sum(f.overlap.values()),
            len(f.issues),
        )
        for number, f in evaluated
    ]
