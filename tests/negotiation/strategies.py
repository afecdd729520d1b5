"""Hypothesis strategies building small random :class:`Problem`s directly.

Utilities use a coarse grid (weights are multiples of 0.05 summing to 1, ratings
multiples of 5 out of 100) so that ties between packages really happen. Red lines
of every kind are drawn: forbid, require, at_least, at_most, conditional rules with
one or two premises (multi-issue clauses) and minimum utilities; every delegation
has a reservation constraint; an absent stakeholder may add red lines of its own.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from backchannel.model.case import IssueKind
from backchannel.model.problem import (
    AdditiveUtility,
    Constraint,
    ConstraintKind,
    IssueDomain,
    Literal,
    Problem,
    RectangleTerm,
    RectangleUtility,
    Utility,
)

PARTY_NAMES = ("A", "B", "C", "D", "E", "F")
ABSENT_NAME = "Z"


@st.composite
def _weights(draw: st.DrawFn, n: int) -> list[float]:
    """``n`` multiples of 0.05 summing to 1 (some may be 0)."""
    cuts = sorted(draw(st.lists(st.integers(0, 20), min_size=n - 1, max_size=n - 1)))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, 20], strict=True)]
    return [p / 20 for p in parts]


@st.composite
def additive_utility(draw: st.DrawFn, sizes: list[int]) -> AdditiveUtility:
    """``tables[i][o] = weight_i * rating_io / 100`` with ratings multiples of 5."""
    weights = draw(_weights(len(sizes)))
    tables = []
    for w, size in zip(weights, sizes, strict=True):
        ratings = draw(st.lists(st.integers(0, 20), min_size=size, max_size=size))
        tables.append(np.array([w * 5 * r / 100 for r in ratings], dtype=np.float64))
    return AdditiveUtility(tuple(tables), np.array(weights, dtype=np.float64))


@st.composite
def rectangle_utility(draw: st.DrawFn, sizes: list[int]) -> RectangleUtility:
    """A few boxes (1-2 issues each) with values on a grid; capped at ``max_value``."""
    terms = []
    for _ in range(draw(st.integers(1, 4))):
        issues = draw(st.sets(st.integers(0, len(sizes) - 1), min_size=1, max_size=2))
        literals = tuple(
            Literal(i, frozenset(draw(st.sets(st.integers(0, sizes[i] - 1), min_size=1))))
            for i in sorted(issues)
        )
        terms.append(RectangleTerm(float(draw(st.integers(1, 10))), literals))
    return RectangleUtility(float(draw(st.integers(5, 20))), tuple(terms))


@st.composite
def _literal(draw: st.DrawFn, sizes: list[int], issue: int) -> Literal:
    """A literal on ``issue`` with any subset (possibly empty or full) of its options."""
    options = draw(st.sets(st.integers(0, sizes[issue] - 1), max_size=sizes[issue]))
    return Literal(issue, frozenset(options))


@st.composite
def _red_line(
    draw: st.DrawFn,
    sizes: list[int],
    party: str,
    utility_party: int | None,
    ident: str,
    harsh: bool,
) -> Constraint:
    n = len(sizes)
    choices = ["forbid", "require", "at_least", "at_most", "conditional", "conditional"]
    if utility_party is not None:
        choices.append("min_utility")
    form = draw(st.sampled_from(choices))
    firmness = float(draw(st.integers(1, 5)))
    common = {"id": ident, "party": party, "firmness": firmness, "stated": True, "text": ident}
    if form == "min_utility":
        bound = draw(st.integers(0, 14 if harsh else 10)) * 0.05
        return Constraint(
            kind=ConstraintKind.MIN_UTILITY, utility_party=utility_party, bound=bound, **common
        )  # type: ignore[arg-type]
    issue = draw(st.integers(0, n - 1))
    every = frozenset(range(sizes[issue]))
    if form == "forbid":
        banned = frozenset(draw(st.sets(st.integers(0, sizes[issue] - 1), min_size=1, max_size=1)))
        clauses = ((Literal(issue, every - banned),),)
        kind = ConstraintKind.FORBID
    elif form == "require":
        wanted = draw(st.sets(st.integers(0, sizes[issue] - 1), min_size=1))
        clauses = ((Literal(issue, frozenset(wanted)),),)
        kind = ConstraintKind.REQUIRE
    elif form in ("at_least", "at_most"):
        t = draw(st.integers(0, sizes[issue] - 1))
        allowed = range(t, sizes[issue]) if form == "at_least" else range(t + 1)
        clauses = ((Literal(issue, frozenset(allowed)),),)
        kind = ConstraintKind.AT_LEAST if form == "at_least" else ConstraintKind.AT_MOST
    else:
        premises = draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=min(2, n)))
        then = draw(st.integers(0, n - 1))
        negated = [draw(_literal(sizes, i)) for i in sorted(premises)]
        consequence = draw(_literal(sizes, then))
        merged: dict[int, frozenset[int]] = {}
        for lit in [*negated, consequence]:
            merged[lit.issue] = merged.get(lit.issue, frozenset()) | lit.allowed
        clauses = (tuple(Literal(i, merged[i]) for i in sorted(merged)),)
        kind = ConstraintKind.CONDITIONAL
    return Constraint(kind=kind, clauses=clauses, **common)  # type: ignore[arg-type]


@st.composite
def problems(
    draw: st.DrawFn,
    *,
    min_issues: int = 2,
    max_issues: int = 5,
    min_options: int = 2,
    max_options: int = 4,
    min_parties: int = 2,
    max_parties: int = 4,
    absent: bool = True,
    rectangles: bool = False,
    max_red_lines: int = 3,
    infeasible_leaning: bool = False,
) -> Problem:
    """A random small problem.

    Parameters
    ----------
    absent:
        Whether an absent stakeholder (red lines only) may be added.
    rectangles:
        Whether some delegations may get a non-linear :class:`RectangleUtility`.
    infeasible_leaning:
        More red lines and higher reservations, so that many problems have no
        admissible package.
    """
    n = draw(st.integers(min_issues, max_issues))
    sizes = [draw(st.integers(min_options, max_options)) for _ in range(n)]
    kinds = [draw(st.sampled_from([IssueKind.ORDERED, IssueKind.UNORDERED])) for _ in range(n)]
    issues = tuple(
        IssueDomain(f"i{k}", kind, tuple(f"o{j}" for j in range(size)), tuple(range(size)))
        for k, (size, kind) in enumerate(zip(sizes, kinds, strict=True))
    )
    p = draw(st.integers(min_parties, max_parties))
    names = PARTY_NAMES[:p]
    utilities: list[Utility] = []
    for _ in range(p):
        if rectangles and draw(st.booleans()):
            utilities.append(draw(rectangle_utility(sizes)))
        else:
            utilities.append(draw(additive_utility(sizes)))
    top = 12 if infeasible_leaning else 8
    disagreement = [draw(st.integers(0, top)) * 0.05 for _ in range(p)]
    has_absent = absent and draw(st.booleans())
    lines_max = max_red_lines + (2 if infeasible_leaning else 0)
    red_lines: list[Constraint] = []
    for q, name in enumerate([*names, *([ABSENT_NAME] if has_absent else [])]):
        utility_party = q if q < p else None
        for r in range(draw(st.integers(0, lines_max))):
            red_lines.append(
                draw(_red_line(sizes, name, utility_party, f"{name}-{r}", infeasible_leaning))
            )
    reservations = [
        Constraint(
            id=f"reservation:{name}",
            party=name,
            kind=ConstraintKind.RESERVATION,
            firmness=float(draw(st.integers(1, 5))),
            stated=False,
            text=f"{name}: reservation",
            utility_party=q,
            bound=disagreement[q],
        )
        for q, name in enumerate(names)
    ]
    return Problem(
        title="random",
        issues=issues,
        parties=(*names, *([ABSENT_NAME] if has_absent else [])),
        utility_parties=names,
        utilities=tuple(utilities),
        disagreement=tuple(disagreement),
        constraints=(*red_lines, *reservations),
    )


def two_party_problems(**kwargs: object) -> st.SearchStrategy[Problem]:
    """Random additive problems with exactly two delegations (what the frontier DP solves)."""
    return problems(min_parties=2, max_parties=2, rectangles=False, **kwargs)  # type: ignore[arg-type]


def infeasible_leaning_problems(**kwargs: object) -> st.SearchStrategy[Problem]:
    """Random problems tilted towards having no admissible package."""
    return problems(infeasible_leaning=True, **kwargs)  # type: ignore[arg-type]
