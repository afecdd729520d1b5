"""What a delegation's node computes alone, in the clear, from its own side of the case.

A node holds one *side*: the public agenda, the public red lines of absent stakeholders
and its own delegation (weights, ratings, red lines, walk-away level). From it, and from
nothing else, it derives the vectors it secret-shares:

* ``option_ok``: per issue and option, whether the side's single-issue red lines (and the
  absent stakeholders') leave the option open, concatenated issue after issue;
* ``package_ok``: per package (option-index vectors in lexicographic order, the last issue
  varying fastest, the order of the clear engine; only the options the plan enumerates
  after public pruning), whether the package respects every red
  line of the side, its if-then conditions and its walk-away level (minimum utility and
  reservation), judged exactly as :meth:`Problem.constraint_holds` judges them;
* ``component_ok``: per component of linked issues (public, see
  :func:`backchannel.blind.plan.components`) and per joint option of its issues, whether
  the side's red lines and conditions on those issues hold; tables concatenated;
* ``gain``: per package, the side's gain above its reservation value in fixed point,
  ``rint(SCALE * (u - d))``, and 0 where ``package_ok`` is false;
* ``at_least`` and ``equal``: per pair of packages ``(x, y)`` (row ``x``, flattened),
  whether the side accepts ``y`` (``package_ok``) and its gain at ``y`` is at least, or
  equal to, its gain at ``x``: the side's own comparisons, from which the secure part
  decides Pareto dominance.

Comparing a side's utility with its own walk-away level needs no secure computation: it
is done here, so the secure part only multiplies and compares the vectors of the sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backchannel.errors import InputError
from backchannel.model.problem import (
    UTILITY_TOLERANCE,
    AdditiveUtility,
    Clause,
    Literal,
    Problem,
    RectangleUtility,
)
from backchannel.solvers.scoring import single_issue_masks, utility_bounds

SCALE = 10_000
"""Fixed-point unit of the utility scale: gains are integers in units of 1/SCALE."""

IntVector = NDArray[np.int64]
BoolVector = NDArray[np.bool_]


@dataclass(frozen=True)
class SideInputs:
    """The private vectors one delegation secret-shares (see the module docstring)."""

    option_ok: IntVector
    package_ok: IntVector | None = None
    gain: IntVector | None = None
    component_ok: IntVector | None = None
    at_least: IntVector | None = None
    equal: IntVector | None = None


Grid = tuple[IntVector, ...]
"""Per issue, the option indices the packages are enumerated over (all, unless pruned)."""


def _grid(sizes: tuple[int, ...], kept: tuple[tuple[int, ...], ...] = ()) -> Grid:
    if kept:
        return tuple(np.asarray(k, dtype=np.int64) for k in kept)
    return tuple(np.arange(size, dtype=np.int64) for size in sizes)


def _shape(grid: Grid) -> tuple[int, ...]:
    return tuple(len(options) for options in grid)


def _along(grid: Grid, issue: int, vector: NDArray[Any]) -> NDArray[Any]:
    """A vector over an issue's options, on the grid's options, along the issue's axis."""
    shape = [1] * len(grid)
    shape[issue] = len(grid[issue])
    return vector[grid[issue]].reshape(shape)


def _clause_mask(grid: Grid, clause: Clause, sizes: tuple[int, ...]) -> BoolVector:
    mask = np.zeros(_shape(grid), dtype=bool)
    for lit in clause:
        vector = np.zeros(sizes[lit.issue], dtype=bool)
        vector[sorted(lit.allowed)] = True
        mask = mask | _along(grid, lit.issue, vector)
    return mask


def _utility_grid(problem: Problem, grid: Grid) -> NDArray[np.float64]:
    utility = problem.utilities[0]
    sizes = tuple(issue.size for issue in problem.issues)
    if isinstance(utility, AdditiveUtility):
        total = np.zeros(_shape(grid))
        for i, table in enumerate(utility.tables):
            total = total + _along(grid, i, np.asarray(table, dtype=np.float64))
        return total
    assert isinstance(utility, RectangleUtility)
    total = np.zeros(_shape(grid))
    for term in utility.terms:
        box = np.ones(_shape(grid), dtype=bool)
        for lit in term.literals:
            box = box & _clause_mask(grid, (lit,), sizes)
        total = total + term.value * box
    capped: NDArray[np.float64] = np.minimum(1.0, total / utility.max_value)
    return capped


def links(problem: Problem) -> list[frozenset[int]]:
    """The issue sets the side's conditions link: what a side publishes, not what they say."""
    return [
        issues
        for constraint in problem.constraints
        for clause in constraint.clauses
        if len(issues := frozenset(lit.issue for lit in clause)) > 1
    ]


def component_inputs(problem: Problem, components: tuple[tuple[int, ...], ...]) -> SideInputs:
    """The side's red lines and conditions as one acceptance table per component.

    Raises
    ------
    InputError
        A condition of the side links issues the public components do not link.
    """
    where = {issue: c for c, members in enumerate(components) for issue in members}
    tables = []
    for members in components:
        shape = tuple(problem.issues[i].size for i in members)
        position = {issue: axis for axis, issue in enumerate(members)}
        ok = np.ones(shape, dtype=bool)
        for constraint in problem.constraints:
            for clause in constraint.clauses:
                issues = {lit.issue for lit in clause}
                if len({where[i] for i in issues}) > 1:
                    raise InputError(
                        f"red line {constraint.id!r} links issues that the plan keeps apart",
                        hint="publish the issue sets your conditions link before the run",
                    )
                if not issues <= position.keys():
                    continue
                local = tuple(Literal(position[lit.issue], lit.allowed) for lit in clause)
                ok &= _clause_mask(_grid(shape), local, shape)
        tables.append(ok.reshape(-1))
    option_ok = np.concatenate(single_issue_masks(problem)).astype(np.int64)
    return SideInputs(option_ok, component_ok=np.concatenate(tables).astype(np.int64))


def side_inputs(
    problem: Problem,
    *,
    packages: bool,
    scale: int = SCALE,
    pairs: bool = False,
    kept: tuple[tuple[int, ...], ...] = (),
) -> SideInputs:
    """The private vectors of one side.

    Parameters
    ----------
    problem:
        The side compiled alone: the agenda, absent stakeholders and exactly one
        delegation.
    packages:
        Whether the per-package vectors are needed (existence and recommendation);
        the per-issue overlap needs only ``option_ok``.
    scale:
        The fixed-point unit of gains.
    pairs:
        Whether the per-pair comparisons are needed (the random efficient package).
    kept:
        Public pruning: per issue, the options the packages are enumerated over (the
        plan's); empty for every option.
    """
    if len(problem.utility_parties) != 1:
        raise InputError(
            f"a side holds exactly one delegation, this one has {len(problem.utility_parties)}",
            hint="split the case per delegation first",
        )
    option_ok = np.concatenate(single_issue_masks(problem)).astype(np.int64)
    if not packages:
        return SideInputs(option_ok, None, None)
    sizes = tuple(issue.size for issue in problem.issues)
    grid = _grid(sizes, kept)
    ok = np.ones(_shape(grid), dtype=bool)
    for constraint in problem.constraints:
        for clause in constraint.clauses:
            ok &= _clause_mask(grid, clause, sizes)
    utility = _utility_grid(problem, grid)
    bound = float(utility_bounds(problem)[0])
    ok &= utility >= bound - UTILITY_TOLERANCE
    gain = np.rint(scale * np.maximum(utility - problem.disagreement[0], 0.0)).astype(np.int64)
    gain[~ok] = 0
    flat = gain.reshape(-1)
    inputs = SideInputs(option_ok, ok.reshape(-1).astype(np.int64), flat)
    if not pairs:
        return inputs
    # Row x, column y: y is acceptable to this side and its gain there is at least (equal
    # to) its gain at x.
    accepts = ok.reshape(-1)[None, :]
    at_least = (accepts & (flat[None, :] >= flat[:, None])).reshape(-1).astype(np.int64)
    equal = (accepts & (flat[None, :] == flat[:, None])).reshape(-1).astype(np.int64)
    return SideInputs(option_ok, inputs.package_ok, flat, at_least=at_least, equal=equal)
