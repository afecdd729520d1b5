"""The red-line map: which options of each issue the red lines leave open.

A cheap, solver-free reading of the red lines that mention a single issue (forbid,
require, at least, at most). It tells a facilitator, issue by issue, which options
someone has ruled out and whether the issue on its own still has overlap. Whether
an option is *viable* (used by some admissible package) is a different, global
question answered by :func:`backchannel.solvers.engine.check`.
"""

from __future__ import annotations

from dataclasses import dataclass

from backchannel.model.problem import Problem


@dataclass(frozen=True)
class OptionStatus:
    """One option of an issue and the single-issue red lines that rule it out."""

    option: int
    blocked_by: tuple[str, ...]

    @property
    def open(self) -> bool:
        """Whether no single-issue red line rules this option out."""
        return not self.blocked_by


@dataclass(frozen=True)
class IssueMap:
    """The options of one issue with their status."""

    issue: int
    options: tuple[OptionStatus, ...]

    @property
    def has_overlap(self) -> bool:
        """Whether some option survives every single-issue red line."""
        return any(status.open for status in self.options)


def redline_map(problem: Problem) -> tuple[IssueMap, ...]:
    """Map every option to the single-issue red lines that forbid it."""
    blocked: list[list[list[str]]] = [[[] for _ in issue.labels] for issue in problem.issues]
    for constraint in problem.constraints:
        for clause in constraint.clauses:
            if len(clause) != 1:
                continue
            literal = clause[0]
            for option in range(problem.issues[literal.issue].size):
                if option not in literal.allowed:
                    blocked[literal.issue][option].append(constraint.id)
    return tuple(
        IssueMap(i, tuple(OptionStatus(o, tuple(ids)) for o, ids in enumerate(options)))
        for i, options in enumerate(blocked)
    )


def overlapping_issues(problem: Problem) -> tuple[str, ...]:
    """The issues whose single-issue red lines still overlap: the agenda of a partial deal."""
    return tuple(problem.issues[m.issue].name for m in redline_map(problem) if m.has_overlap)
