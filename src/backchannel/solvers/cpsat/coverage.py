"""How well a representative set covers the Pareto frontier (3 or more parties).

The **gap** of a set ``R`` of admissible packages is the largest amount by which some
admissible package ``y`` is ahead of every representative:

    gap(R) = max over admissible y of  min over r in R of  max over p of  u_p(y) - u_p(r)

So for every admissible package there is a representative that is at most ``gap``
behind it on every side (the additive epsilon-indicator of multi-objective
optimisation). It is 0 exactly when ``R`` holds the whole frontier, up to ties.

One CP-SAT solve maximises ``t`` over admissible packages with, for every
representative ``r``, one side ``p`` chosen where ``U_p >= floor(S u_p(r)) + t``. Its
best bound, plus the rounding of the scaled utilities, is a proven upper bound on the
gap (:attr:`~backchannel.model.results.Coverage.bound`); the package it finds gives the
gap actually reached, in floats (:attr:`~backchannel.model.results.Coverage.gap`). When
that solve is cut short, the bound is still at most ``min_r max_p (c_p - u_p(r))`` for
proven ceilings ``c_p`` of each side's utility (its ideal): no package is further ahead.

**Tightening** (a ``target`` gap): while the proven bound is above the target, the
package furthest ahead is lifted to a Pareto-efficient package that dominates it (the
most normalised welfare among packages at least as good for every side), which joins
the set, and the gap is measured again; until the bound meets the target, the time
runs out or the set reaches its size limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from backchannel.model.problem import Package, Problem
from backchannel.model.results import Coverage
from backchannel.solvers.cpsat.package_model import Budget, PackageModel, S
from backchannel.solvers.cpsat.search import admissible_or_cut

TRIVIAL = 1.0
"""The bound when nothing is proven: utilities lie in [0, 1]."""


def distance(problem: Problem, package: Package, representatives: Sequence[Package]) -> float:
    """How far ``package`` is ahead of the nearest representative (``min_r max_p``)."""
    u = problem.utility(package)
    return min(
        max(a - b for a, b in zip(u, problem.utility(r), strict=True)) for r in representatives
    )


def _furthest(
    pm: PackageModel,
    budget: Budget,
    representatives: Sequence[Package],
    ceilings: Sequence[float],
) -> tuple[Package | None, float, bool]:
    """``(package, bound, proven)``: the admissible package furthest ahead of the set, and
    the proven bound on the gap (see the module doc)."""
    problem = pm.problem
    model = pm.model
    phase = pm.new_phase()
    t = model.new_int_var(0, S, "coverage_gap")
    listed = [problem.utility(r) for r in representatives]
    for u in listed:
        sides = [model.new_bool_var("ahead") for _ in pm.utility]
        for b, var, value in zip(sides, pm.utility, u, strict=True):
            model.add(var >= math.floor(S * value) + t).only_enforce_if([b, phase])
        model.add_bool_or([*sides, ~phase])
    rounding = max(pm.error) + 1 / S + 1e-12
    ceiling = min(max(c - v for c, v in zip(ceilings, u, strict=True)) for u in listed)
    ceiling = min(TRIVIAL, max(0.0, ceiling + 1e-12))
    while True:
        found = pm.solve(budget, [phase], t)
        if found.infeasible:  # no admissible package at all: nothing to cover
            return None, 0.0, True
        if found.package is None:
            return None, ceiling, False
        bound = min(ceiling, max(0.0, found.bound / S + rounding))
        if admissible_or_cut(pm, found.package):
            return found.package, bound, found.proven


def _lifted(pm: PackageModel, budget: Budget, package: Package, norm: Sequence[int]) -> Package:
    """A Pareto-efficient admissible package at least as good as ``package`` for every side
    (``package`` itself when the time runs out first)."""
    model = pm.model
    phase = pm.new_phase()
    start = pm.problem.utility(package)
    for var, value in zip(pm.utility, start, strict=True):
        model.add(var >= math.floor(S * value)).only_enforce_if(phase)
    welfare = sum(c * pm.gain(p) for p, c in enumerate(norm))
    while True:
        found = pm.solve(budget, [phase], welfare)
        if found.package is None:
            return package
        if admissible_or_cut(pm, found.package):
            # the scaled bounds admit a package a rounding behind: keep the one we had
            better = pm.problem.utility(found.package)
            at_least = all(a >= b for a, b in zip(better, start, strict=True))
            return found.package if at_least else package


def coverage(
    pm: PackageModel,
    budget: Budget,
    representatives: list[Package],
    norm: Sequence[int],
    ceilings: Sequence[float],
    *,
    target: float | None = None,
    max_points: int,
) -> Coverage:
    """Measure the set's gap, and add points to it while the bound is above ``target``.

    ``representatives`` grows in place with the points added; ``norm`` weighs each side's
    gain when a point is lifted to the frontier; ``ceilings`` are proven upper bounds of
    each side's utility over the admissible packages.
    """
    if not representatives:
        return Coverage(TRIVIAL, TRIVIAL, False, target)
    while True:
        furthest, bound, proven = _furthest(pm, budget, representatives, ceilings)
        gap = 0.0 if furthest is None else max(0.0, distance(pm.problem, furthest, representatives))
        if (
            furthest is None
            or target is None
            or bound <= target
            or len(representatives) >= max_points
            or budget.remaining() <= 0
        ):
            return Coverage(gap, max(gap, bound), proven, target)
        lifted = _lifted(pm, budget, furthest, norm)
        if lifted in representatives:  # cannot happen for a gap > 0; stop rather than loop
            return Coverage(gap, max(gap, bound), proven, target)
        representatives.append(lifted)
