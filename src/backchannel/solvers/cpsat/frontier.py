"""Pareto frontier with CP-SAT.

Utility vectors are compared on the grid ``key(u) = round(u / TOL)``; a frontier
point is a key of an admissible package not dominated by another admissible key,
represented by the smallest option-index vector with that key.

* **2 parties: exact lexicographic epsilon-constraint.** With ``c`` the last point's
  ``key_1 + 1`` (``-inf`` at first): the largest ``key_0`` among packages with
  ``key_1 >= c``, then the largest ``key_1`` among those with that ``key_0``, each a
  certified maximum (:func:`~backchannel.solvers.cpsat.search.certified_max`, stopping
  only when no unseen package can reach a larger key), then the representative by a
  float-verified lexicographic minimum; until nothing has ``key_1 >= c``.
  ``exact=True`` when every step completed.
* **3 or more parties: a representative set** (``exact=False``). Weighted sums of
  ideal-normalised gains ``sum_p w_p G_p / I_p`` (one weight of 100 and the others 1 for
  each party, then an even grid of positive weights, at most ``max_points`` in all) and a
  few augmented Chebyshev solves ``max t + sum_p G_p / I_p, t <= w_p G_p / I_p`` that
  also reach non-supported points; answers are re-scored in floats and filtered for
  dominance among themselves. Then the set's coverage is measured, and tightened to a
  ``target`` gap when one is asked for (:mod:`backchannel.solvers.cpsat.coverage`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

from ortools.sat.python import cp_model

from backchannel.model.frontier import FrontierPoints
from backchannel.model.problem import Package, Problem
from backchannel.model.results import Coverage, FrontierPoint, FrontierResult, Status
from backchannel.solvers.cpsat.coverage import coverage
from backchannel.solvers.cpsat.objectives import Welfare
from backchannel.solvers.cpsat.package_model import TOL, Budget, PackageModel
from backchannel.solvers.cpsat.search import admissible_or_cut, certified_max
from backchannel.solvers.cpsat.settle import admissible_model, ideals

COVERAGE_SHARE = 0.25
"""The share of the time limit kept for the coverage of a representative set."""


def key(u: float) -> int:
    """The grid key of a utility."""
    return round(u / TOL)


def _no_larger_key(upper: float, best: float) -> bool:
    return key(upper) <= key(best)


def _two_parties(pm: PackageModel, budget: Budget) -> tuple[list[Package], bool]:
    problem = pm.problem
    points: list[Package] = []
    floor1 = -math.inf
    while True:
        band = pm.new_phase()
        if floor1 > -math.inf:
            Welfare(pm, [1]).window((floor1 - 0.5) * TOL, band)
        low = floor1

        def above(y: Package, low: float = low) -> bool:
            return key(problem.utility(y)[1]) >= low

        first = certified_max(
            pm,
            Welfare(pm, [0]),
            budget,
            assume=[band],
            accept=above,
            reject_guard=band,
            settled=_no_larger_key,
        )
        if first.infeasible:
            return points, True
        if not first.proven or first.package is None:
            if first.package is not None:  # the best found: admissible, maybe not efficient
                points.append(first.package)
            return points, False
        k0 = key(first.value)
        level = pm.new_phase()
        Welfare(pm, [0]).window((k0 - 0.5) * TOL, level)

        def on_level(y: Package, low: float = low, k0: int = k0) -> bool:
            u = problem.utility(y)
            return key(u[0]) == k0 and key(u[1]) >= low

        second = certified_max(
            pm,
            Welfare(pm, [1]),
            budget,
            assume=[band, level],
            accept=on_level,
            reject_guard=level,
            settled=_no_larger_key,
        )
        if not second.proven or second.package is None:  # keep the best found on that level
            points.append(first.package if second.package is None else second.package)
            return points, False
        k1 = key(second.value)
        top = pm.new_phase()
        Welfare(pm, [1]).window((k1 - 0.5) * TOL, top)
        while True:
            found = pm.lexmin(budget, [band, level, top])
            if found.package is None or not found.proven:
                return points, False
            y = found.package
            u = problem.utility(y)
            if admissible_or_cut(pm, y) and (key(u[0]), key(u[1])) == (k0, k1):
                break
            pm.exclude_equivalent(y, [top])
        points.append(y)
        floor1 = k1 + 1


WeightedBest = Callable[[Problem, Sequence[float]], Package | None]
"""A faster exact solver of weighted sums (the engine passes narrowing's), None: not here."""

Ideals = Callable[[Problem], list[float] | None]
"""A faster exact solver of every party's ideal, None: not here."""

NARROWING_TRIES = 3
"""Weighted sums the faster solver must fail in a row before the sample stops asking it."""


def _ideals(
    pm: PackageModel, budget: Budget, fast: Ideals | None
) -> tuple[list[float], list[float]] | None:
    """Each side's best admissible utility (or the best found) and a proven ceiling of it;
    None when nothing is admissible."""
    exact = None if fast is None else fast(pm.problem)
    if exact is not None:
        return exact, exact
    tops = ideals(pm, budget)
    if any(t.infeasible for t in tops):
        return None
    ceilings = [
        t.value if t.proven else min(c, math.inf if t.upper is None else t.upper)
        for t, c in zip(tops, pm.ceiling, strict=True)
    ]
    return [t.value for t in tops], ceilings


def _sampled(
    pm: PackageModel,
    budget: Budget,
    max_points: int,
    weighted: WeightedBest | None = None,
    fast_ideals: Ideals | None = None,
) -> tuple[list[Package], bool, list[int], list[float]]:
    """The weighted-sum and Chebyshev sample, whether every solve was proven, the weights
    that normalise each side's gain by its span, and a proven ceiling of each side's
    utility over the admissible packages (its ideal, or a bound on it).

    ``weighted`` and ``fast_ideals``, when given, answer the weighted sums and the ideals
    exactly and faster than CP-SAT where they apply (narrowing, for additive agendas);
    CP-SAT answers the rest, and every weighted sum once the faster one has failed
    :data:`NARROWING_TRIES` times in a row.
    """
    n = len(pm.utility)
    found_ideals = _ideals(pm, budget, fast_ideals)
    if found_ideals is None:
        return [], True, [1] * n, list(pm.ceiling)
    values, ceilings = found_ideals
    spans = [v - d for v, d in zip(values, pm.problem.disagreement, strict=True)]
    norm = [max(1, round(1000 / max(span, 1e-3))) for span in spans]
    weights: list[tuple[int, ...]] = [tuple(1 + 99 * (p == q) for q in range(n)) for p in range(n)]
    steps = 1
    while len(weights) < max_points and steps < 12:
        steps += 1
        for w in itertools.product(range(1, steps + 1), repeat=n):
            if math.gcd(*w) == 1 and w not in weights and len(weights) < max_points:
                weights.append(w)
    chebyshev = weights[n : n + max(1, max_points // 4)]
    found: list[Package] = []
    complete = values == ceilings
    failures = 0
    for w in weights:
        if weighted is not None and failures < NARROWING_TRIES and budget.remaining() > 0:
            best = weighted(pm.problem, [wp * c for wp, c in zip(w, norm, strict=True)])
            failures = 0 if best is not None else failures + 1
            if best is not None:
                found.append(best)
                continue
        expr = sum(wp * c * pm.gain(p) for p, (wp, c) in enumerate(zip(w, norm, strict=True)))
        complete &= _collect(pm, budget, expr, found)
    for w in chebyshev:
        phase = pm.new_phase()
        t = pm.model.new_int_var(-(10**14), 10**14, "cheb")
        for p, (wp, c) in enumerate(zip(w, norm, strict=True)):
            pm.model.add(t <= wp * c * pm.gain(p)).only_enforce_if(phase)
        expr = sum((c * pm.gain(p) for p, c in enumerate(norm)), 1000 * t)
        complete &= _collect(pm, budget, expr, found, [phase])
    return found, complete, norm, ceilings


def _collect(
    pm: PackageModel,
    budget: Budget,
    expr: cp_model.LinearExprT,
    found: list[Package],
    assume: Sequence[cp_model.IntVar] = (),
) -> bool:
    """One solve; the float-admissible answer joins ``found``. True when proven."""
    while True:
        result = pm.solve(budget, assume, expr)
        if result.package is None:
            return result.infeasible
        if admissible_or_cut(pm, result.package):
            found.append(result.package)
            return result.proven


def _dominates(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return a != b and all(x >= y for x, y in zip(a, b, strict=True))


def _efficient(problem: Problem, packages: list[Package]) -> tuple[FrontierPoint, ...]:
    best: dict[tuple[int, ...], Package] = {}
    for y in packages:
        k = tuple(key(u) for u in problem.utility(y))
        best[k] = min(best.get(k, y), y)
    keys = list(best)
    kept = [k for k in keys if not any(_dominates(o, k) for o in keys)]
    return tuple(FrontierPoint(best[k], problem.utility(best[k])) for k in sorted(kept))


def cpsat_frontier(
    problem: Problem,
    time_limit: float = 30.0,
    max_points: int = 30,
    target_gap: float | None = None,
    *,
    weighted: WeightedBest | None = None,
    fast_ideals: Ideals | None = None,
) -> FrontierResult:
    """The Pareto frontier: exact for 2 parties, a representative set for more.

    Parameters
    ----------
    problem:
        A compiled problem with 2 or more utility parties.
    time_limit:
        Seconds for the whole question; the points found so far come back with
        status ``FEASIBLE`` when it runs out (at least one admissible package, when
        any was found, even if none was proven efficient).
    max_points:
        Most weighted-sum solves for 3 or more parties; tightening to ``target_gap``
        adds at most as many points again.
    target_gap:
        For 3 or more parties, add points until no admissible package is more than
        this ahead of every point on some side (proven), or the time or the points
        run out; the answer's ``coverage`` says what was reached.
    weighted, fast_ideals:
        Faster exact solvers of the sample's weighted sums and of the ideals, where
        they apply (see :func:`_sampled`).

    Returns
    -------
    FrontierResult
        Points sorted by utility; ``INFEASIBLE`` with none when nothing is admissible.
    """
    budget = Budget(time_limit)
    pm = admissible_model(problem)
    seed = pm.solve(Budget(budget.remaining() / 10))  # any admissible package, as a hint
    if seed.package is not None:
        pm.hint(seed.package)
    two = len(problem.utilities) == 2
    norm: list[int] = []
    ceilings: list[float] = []
    if two:
        packages, complete = _two_parties(pm, budget)
    else:  # a quarter of the time is kept for measuring (and tightening) the coverage
        sampling = Budget(budget.remaining() * (1 - COVERAGE_SHARE))
        packages, complete, norm, ceilings = _sampled(
            pm, sampling, max_points, weighted, fast_ideals
        )
    hint = seed.package
    if not complete and not packages and hint is not None and problem.is_admissible(hint):
        packages = [hint]  # out of time before any point: at least the admissible hint
    points = _efficient(problem, packages)
    covered: Coverage | None = None
    if not two and points:
        kept = [point.package for point in points]
        limit = len(kept) + max_points
        covered = coverage(pm, budget, kept, norm, ceilings, target=target_gap, max_points=limit)
        points = _efficient(problem, kept)
    if complete and not points:
        status = Status.INFEASIBLE
    elif complete:
        status = Status.OPTIMAL
    else:
        status = Status.FEASIBLE if points else Status.UNKNOWN
    method = "cp-sat epsilon-constraint" if two else "cp-sat weighted sums + Chebyshev"
    arrays = FrontierPoints.of(points, len(problem.issues), len(problem.utilities))
    return FrontierResult(arrays, two and complete, status, method, budget.elapsed(), covered)
