"""The zone of agreement of a 2-party additive problem, by the frontier programme.

``check`` asks whether an admissible package exists and which options are *viable*
(used by at least one admissible package). For two additive delegations both answers
follow from the sparse frontier programme of :mod:`~backchannel.solvers.frontier_dp`,
without CP-SAT:

1. **Existence.** Utility bounds (minimum utility, reservation) are lower bounds, so
   an admissible package exists iff some package of the admissible frontier exists:
   the frontier programme decides it exactly (:func:`exists` asks the probes of
   step 2 first and runs it only when none of them is admissible).
2. **Viable options, cheaply.** First a few *probes*: the packages that maximise
   ``l * u_0 + (1 - l) * u_1`` for evenly spaced ``l`` (group by group, so they
   respect every clause); the admissible ones are witnesses. Every option of a
   witness is viable. Every other combination ``c`` of a (super-)issue ``g`` is tried
   in place of ``g``'s part of each witness: the package stays within the clauses
   (they live inside the groups), so it is admissible when both utilities still
   meet their bounds. Without any utility bound every allowed combination is viable
   at once. When the probes leave options undecided (or none is admissible), the
   same swaps are tried on every package of the admissible frontier.
3. **Viable options, exactly.** A combination that no swap certifies is decided
   against the frontiers of the other groups: with ``F`` the frontier of the groups
   before ``g`` and ``B`` that of the groups after it (both kept by a forward and a
   backward sweep), ``c`` is viable iff some ``a`` in ``F`` and ``b`` in ``B`` have
   ``a + b + u(c) >= bounds``. Replacing a partial package by one that dominates it
   keeps every bound, so the frontiers are enough; for each ``a`` the best ``b`` is
   the last point of ``B`` (sorted by decreasing ``u_0``) that still meets the
   ``u_0`` bound, found by binary search.

The answer is exact on the utility keys of :mod:`~backchannel.solvers.scoring`,
like the frontier itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np

from backchannel.model.problem import AdditiveUtility, Problem
from backchannel.model.results import Status, ZoneResult
from backchannel.solvers.frontier_dp import (
    Group,
    admissible_frontier,
    check_sums,
    fold_sums,
    groups_of,
    pareto_groups,
    require_two_additive,
)
from backchannel.solvers.scoring import (
    TOL,
    BoolArray,
    FloatArray,
    IntArray,
    evaluate,
    infeasibility_certificate,
    utility_bounds,
)

METHOD = "frontier-dp"

Sweep = list[tuple[FloatArray, FloatArray]]


def dp_zone(problem: Problem) -> ZoneResult:
    """Whether an admissible package exists, and the viable options of each issue.

    Raises
    ------
    NotApplicable
        Not exactly two additive utilities, or a super-issue too large.
    """
    start = time.perf_counter()
    require_two_additive(problem)
    full = groups_of(problem)
    if full is None:
        return _nothing(problem, start)
    bounds = utility_bounds(problem)
    viable: list[BoolArray] = [np.zeros(issue.size, dtype=bool) for issue in problem.issues]
    probes, probe_utilities = _probes(problem, full, bounds)
    if probes.shape[0] and not np.isfinite(bounds).any():
        for group in full:  # every combination of allowed combinations is admissible
            _mark(viable, group, np.ones(group.options.shape[0], dtype=bool))
    elif probes.shape[0]:
        _mark_packages(viable, probes)
        tables = [u.tables for u in problem.utilities if isinstance(u, AdditiveUtility)]
        _swap_single_issues(tables, full, probes, probe_utilities, bounds, viable)
        linked = [g for g, group in enumerate(full) if len(group.issues) > 1]
        _swap_groups(tables, full, linked, probes, probe_utilities, bounds, viable)
    if probes.shape[0] and not any(_open(viable, group).any() for group in full):
        return _answer(viable, probes[0], start)
    packages, utilities = admissible_frontier(problem, full)
    if packages.shape[0] == 0:
        return _nothing(problem, start)
    _mark_packages(viable, packages)
    _certify(problem, full, packages, utilities, bounds, viable)
    return _answer(viable, probes[0] if probes.shape[0] else packages[0], start)


def exists(problem: Problem) -> bool:
    """Whether an admissible package exists (probes first, the frontier programme if needed).

    Raises
    ------
    NotApplicable
        Not exactly two additive utilities, or a super-issue too large.
    """
    require_two_additive(problem)
    full = groups_of(problem)
    if full is None:
        return False
    if _probes(problem, full, utility_bounds(problem))[0].shape[0]:
        return True
    return bool(admissible_frontier(problem, full)[0].shape[0])


PROBES = 17
"""Weighted sums ``l * u_0 + (1 - l) * u_1`` (``l`` evenly spaced in [0, 1]) probed first."""


def _probes(
    problem: Problem, groups: list[Group], bounds: FloatArray
) -> tuple[IntArray, FloatArray]:
    """The admissible ones among the packages that maximise a weighted sum of utilities.

    Each maximiser takes, group by group, the first combination of largest weighted
    sum (the groups hold the clauses, so it respects every clause); only the utility
    bounds can fail. Cheap witnesses with room to spare for the swaps of step 2.
    """
    weight = np.linspace(0.0, 1.0, PROBES)
    packages = np.zeros((PROBES, len(problem.issues)), dtype=np.int64)
    for group in groups:
        score = weight[:, None] * group.utilities[None, :, 0]
        score = score + (1 - weight)[:, None] * group.utilities[None, :, 1]
        packages[:, list(group.issues)] = group.options[score.argmax(axis=1)]
    packages = np.unique(packages, axis=0)
    utilities = evaluate(problem, packages)
    keep = np.all(utilities >= bounds - TOL, axis=1)
    return packages[keep], utilities[keep]


def _mark_packages(viable: list[BoolArray], packages: IntArray) -> None:
    for i, row in enumerate(viable):
        row[packages[:, i]] = True


def _answer(viable: list[BoolArray], witness: IntArray, start: float) -> ZoneResult:
    options = tuple(tuple(int(o) for o in np.flatnonzero(v)) for v in viable)
    package = tuple(int(o) for o in witness)
    return ZoneResult(Status.OPTIMAL, options, package, None, METHOD, _since(start))


def _nothing(problem: Problem, start: float) -> ZoneResult:
    none = tuple(() for _ in problem.issues)
    certificate = infeasibility_certificate(problem)
    return ZoneResult(Status.INFEASIBLE, none, None, None, METHOD, _since(start), certificate)


def _since(start: float) -> float:
    return time.perf_counter() - start


def _mark(viable: list[BoolArray], group: Group, rows: BoolArray) -> None:
    for j, issue in enumerate(group.issues):
        viable[issue][group.options[rows, j]] = True


def _open(viable: list[BoolArray], group: Group) -> BoolArray:
    """Combinations of ``group`` that use an option not yet known to be viable."""
    out = np.zeros(group.options.shape[0], dtype=bool)
    for j, issue in enumerate(group.issues):
        out |= ~viable[issue][group.options[:, j]]
    return out


def _certify(
    problem: Problem,
    groups: list[Group],
    packages: IntArray,
    utilities: FloatArray,
    bounds: FloatArray,
    viable: list[BoolArray],
) -> None:
    """Steps 2 and 3 of the module doc: mark every viable option in ``viable``."""
    tables = [u.tables for u in problem.utilities if isinstance(u, AdditiveUtility)]
    _swap_single_issues(tables, groups, packages, utilities, bounds, viable)
    _swap_groups(tables, groups, range(len(groups)), packages, utilities, bounds, viable)
    undecided = [(g, _open(viable, group)) for g, group in enumerate(groups)]
    undecided = [(g, rows) for g, rows in undecided if rows.any()]
    if not undecided:
        return
    pruned = pareto_groups(groups)
    forward = _sweep(pruned, bounds, reverse=False)
    backward = _sweep(pruned, bounds, reverse=True)
    for g, rows in undecided:  # groups share no issue: deciding one leaves the others open
        (a0, a1), (b0, b1) = forward[g], backward[g + 1]
        check_sums(int(rows.sum()) * a0.size, "pairs of a partial package and an option")
        reached = np.zeros(groups[g].options.shape[0], dtype=bool)
        for c in np.flatnonzero(rows):
            need = bounds - TOL - groups[g].utilities[c]
            # b0 decreases along the sweep's order: b0 >= x holds on a prefix of it.
            ends = np.searchsorted(-b0, -(need[0] - a0), side="right")
            hit = ends > 0
            reached[c] = bool(np.any(b1[ends[hit] - 1] >= need[1] - a1[hit]))
        _mark(viable, groups[g], reached)


SWAP_POINTS = 64
"""Frontier packages (those with the most slack above the bounds) tried first."""


def _swap_single_issues(
    tables: list[tuple[FloatArray, ...]],
    groups: list[Group],
    packages: IntArray,
    utilities: FloatArray,
    bounds: FloatArray,
    viable: list[BoolArray],
) -> None:
    """Step 2 for every single-issue group at once, against the roomiest frontier packages."""
    single = [g for g in groups if len(g.issues) == 1]
    if not single:
        return
    slack = np.where(np.isfinite(bounds), utilities - bounds, np.inf).min(axis=1)
    top = np.argsort(-slack, kind="stable")[:SWAP_POINTS]
    issues = np.array([g.issues[0] for g in single])
    width = max(g.options.shape[0] for g in single)
    check_sums(8 * issues.size * width, "swaps of an option into a package")
    value = np.full((2, issues.size, width), -np.inf)  # (party, group, combination)
    for k, group in enumerate(single):
        value[:, k, : group.options.shape[0]] = group.utilities.T
    fits = np.zeros((issues.size, width), dtype=bool)
    for lo in range(0, top.size, 8):
        rows = top[lo : lo + 8]
        chosen = packages[np.ix_(rows, issues)]  # (rows, groups)
        ok = np.ones((rows.size, issues.size, width), dtype=bool)
        for p in range(2):
            if not np.isfinite(bounds[p]):
                continue
            part = np.stack([tables[p][i][chosen[:, k]] for k, i in enumerate(issues)], axis=1)
            base = utilities[rows, p][:, None] - part  # (rows, groups)
            ok &= base[:, :, None] + value[p][None, :, :] >= bounds[p] + 1e-12
        fits |= ok.any(axis=0)
    for k, group in enumerate(single):
        viable[group.issues[0]][group.options[fits[k, : group.options.shape[0]], 0]] = True


def _swap_groups(
    tables: list[tuple[FloatArray, ...]],
    groups: list[Group],
    which: Iterable[int],
    packages: IntArray,
    utilities: FloatArray,
    bounds: FloatArray,
    viable: list[BoolArray],
) -> None:
    """Step 2 group by group (the groups ``which``), against every package given."""
    for g in which:
        group = groups[g]
        rows = _open(viable, group)
        if not rows.any():
            continue
        part = np.zeros_like(utilities)
        for p in range(2):
            for issue in group.issues:
                part[:, p] += tables[p][issue][packages[:, issue]]
        ok = _swaps(utilities - part, group.utilities[rows], bounds)
        swapped = np.zeros(group.options.shape[0], dtype=bool)
        swapped[np.flatnonzero(rows)[ok]] = True
        _mark(viable, group, swapped)


def _swaps(base: FloatArray, combos: FloatArray, bounds: FloatArray) -> BoolArray:
    """Which combinations meet both bounds in place of some frontier package's part.

    ``base`` is ``(frontier, 2)``: each frontier package without the group's part.
    Conservative by the float noise of the subtraction (a miss is decided exactly).
    """
    check_sums(base.shape[0] * combos.shape[0], "swaps of a combination into a package")
    fits = np.all(base[:, None, :] + combos[None, :, :] >= bounds + 1e-12, axis=2)
    found: BoolArray = fits.any(axis=0)
    return found


def _sweep(groups: list[Group], bounds: FloatArray, reverse: bool) -> Sweep:
    """Frontiers of the groups before each group (``reverse``: after it).

    ``out[k]`` is the frontier of ``groups[:k]`` (``reverse``: of ``groups[k:]``), as
    ``(u_0, u_1)`` arrays sorted by decreasing ``u_0``. Partial sums that cannot meet
    a bound even with the best of every other group are left out.
    """
    count = len(groups)
    best = np.array([g.utilities.max(axis=0) for g in groups]).reshape(-1, 2)
    total = best.sum(axis=0)
    lower = bounds - 2 * TOL
    order = range(count - 1, -1, -1) if reverse else range(count)
    first, second = np.zeros(1), np.zeros(1)
    done = np.zeros(2)
    out: dict[int, tuple[FloatArray, FloatArray]] = {}
    out[count if reverse else 0] = (first, second)
    for g in order:
        first, second = fold_sums(first, second, groups[g])
        done = done + best[g]
        rest = total - done
        reach = (first + rest[0] >= lower[0]) & (second + rest[1] >= lower[1])
        first, second = first[reach], second[reach]
        out[g if reverse else g + 1] = (first, second)
    return [out[k] for k in range(count + 1)]
