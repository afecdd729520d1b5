"""Plain-Python brute force, written for clarity straight from the definitions.

This module is the test oracle of every negotiation engine. It enumerates every
package with :func:`itertools.product` and judges it with the model's own
:meth:`Problem.is_admissible` / :meth:`Problem.utility`; nothing is vectorised and
nothing is clever. Use it only on small problems (a few thousand packages).

Conventions shared with the engines
-----------------------------------
* ``TOL = UTILITY_TOLERANCE = 1e-9``. Two rule values ``v, w`` are equal when
  ``|v - w| <= TOL * max(1, |v|, |w|)`` (absolute near 0, relative above 1).
* Gains are ``g_p = max(0, u_p - d_p)``: an admissible package may fall short of
  ``d_p`` by at most ``TOL`` (the admissibility tolerance), which counts as 0.
* Rule values: nash ``prod g_p``; egalitarian ``min g_p``; welfare ``sum u_p``; ks
  ``min g_p / (ideal_p - d_p)`` where ``ideal_p`` is the best admissible ``u_p`` and a
  party whose ``ideal_p - d_p <= TOL`` has ratio 1.
* Ties are broken by welfare (equal within ``TOL``), then by the lexicographically
  smallest option-index vector.
* Utility vectors are compared on the grid ``round(u_p / TOL)`` (the "key"); the
  Pareto frontier is the set of keys of admissible packages not dominated by the
  key of another admissible package, each represented by the package the
  tie-break rule picks (largest welfare is equal within a key, so: the smallest
  option-index vector).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence

from backchannel.model.problem import UTILITY_TOLERANCE, Package, Problem
from backchannel.model.results import SettlementRule

TOL = UTILITY_TOLERANCE


def close(a: float, b: float) -> bool:
    """Whether two rule values are equal within the shared tolerance."""
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))


def key(utilities: Sequence[float]) -> tuple[int, ...]:
    """The grid key of a utility vector (the frontier compares keys)."""
    return tuple(round(u / TOL) for u in utilities)


def all_packages(problem: Problem) -> Iterator[Package]:
    """Every package, in lexicographic order of option indices."""
    return itertools.product(*(range(issue.size) for issue in problem.issues))


def admissible(problem: Problem) -> list[Package]:
    """Every admissible package, in lexicographic order."""
    return [x for x in all_packages(problem) if problem.is_admissible(x)]


def viable(problem: Problem) -> tuple[tuple[int, ...], ...]:
    """For each issue, the options used by at least one admissible package."""
    used: list[set[int]] = [set() for _ in problem.issues]
    for x in admissible(problem):
        for i, option in enumerate(x):
            used[i].add(option)
    return tuple(tuple(sorted(s)) for s in used)


def gains(problem: Problem, x: Package) -> list[float]:
    """``max(0, u_p - d_p)`` for every utility party."""
    return [max(0.0, u - d) for u, d in zip(problem.utility(x), problem.disagreement, strict=True)]


def ideals(problem: Problem) -> list[float]:
    """``ideal_p``: the best admissible utility of each party (needs a feasible problem)."""
    pool = admissible(problem)
    return [max(problem.utility(x)[p] for x in pool) for p in range(len(problem.utilities))]


def rule_value(problem: Problem, rule: SettlementRule, x: Package, ideal: Sequence[float]) -> float:
    """The objective of ``rule`` at package ``x`` (``ideal`` only matters for ks)."""
    g = gains(problem, x)
    if rule is SettlementRule.NASH:
        return math.prod(g)
    if rule is SettlementRule.EGALITARIAN:
        return min(g)
    if rule is SettlementRule.WELFARE:
        return sum(problem.utility(x))
    ratios = []
    for gp, top, d in zip(g, ideal, problem.disagreement, strict=True):
        span = max(0.0, top - d)
        ratios.append(1.0 if span <= TOL else gp / span)
    return min(ratios)


def optimum(problem: Problem, rule: SettlementRule) -> tuple[float, list[Package]] | None:
    """The optimal value of ``rule`` and every admissible package reaching it (None: infeasible)."""
    pool = admissible(problem)
    if not pool:
        return None
    ideal = ideals(problem)
    values = {x: rule_value(problem, rule, x, ideal) for x in pool}
    best = max(values.values())
    return best, [x for x in pool if close(values[x], best)]


def settlement(problem: Problem, rule: SettlementRule) -> tuple[float, Package, int] | None:
    """``(optimal value, tie-broken package, number of other optimal packages)``."""
    found = optimum(problem, rule)
    if found is None:
        return None
    best, optimal = found
    welfare = {x: sum(problem.utility(x)) for x in optimal}
    top = max(welfare.values())
    chosen = min(x for x in optimal if close(welfare[x], top))
    return best, chosen, len(optimal) - 1


def dominates(a: Sequence[int], b: Sequence[int]) -> bool:
    """Whether key ``a`` Pareto-dominates key ``b`` (>= everywhere, > somewhere)."""
    return all(x >= y for x, y in zip(a, b, strict=True)) and tuple(a) != tuple(b)


def frontier(problem: Problem) -> dict[tuple[int, ...], Package]:
    """The exact Pareto frontier of admissible packages: ``{key: representative package}``."""
    first: dict[tuple[int, ...], Package] = {}
    for x in admissible(problem):  # lexicographic order: the first one is the smallest
        first.setdefault(key(problem.utility(x)), x)
    return {k: x for k, x in first.items() if not any(dominates(other, k) for other in first)}


# ----------------------------------------------------------------- clashes
def _satisfying(problem: Problem) -> dict[str, int]:
    """For each constraint id, the bit set (as an int) of packages that respect it."""
    bits = {c.id: 0 for c in problem.constraints}
    for n, x in enumerate(all_packages(problem)):
        for c in problem.constraints:
            if problem.constraint_holds(c, x):
                bits[c.id] |= 1 << n
    return bits


def satisfiable(problem: Problem, ids: Sequence[str]) -> bool:
    """Whether some package respects every constraint in ``ids`` (and nothing else)."""
    kept = [problem.constraint(i) for i in ids]
    return any(not problem.violated(x, kept) for x in all_packages(problem))


def minimal_clash_sets(problem: Problem) -> list[frozenset[str]]:
    """Every minimal set of constraints that no package respects, by subset enumeration."""
    bits = _satisfying(problem)
    every = (1 << problem.n_packages) - 1
    ids = [c.id for c in problem.constraints]
    found: list[frozenset[str]] = []
    for size in range(1, len(ids) + 1):
        for subset in itertools.combinations(ids, size):
            chosen = frozenset(subset)
            if any(f <= chosen for f in found):
                continue
            together = every
            for i in subset:
                together &= bits[i]
            if together == 0:
                found.append(chosen)
    return found


def cheapest_relaxations(problem: Problem) -> tuple[float, list[frozenset[str]]]:
    """Minimum total firmness of constraints to drop for feasibility, and every set reaching it."""
    bits = _satisfying(problem)
    every = (1 << problem.n_packages) - 1
    ids = [c.id for c in problem.constraints]
    firmness = {c.id: c.firmness for c in problem.constraints}
    best = math.inf
    sets: list[frozenset[str]] = []
    for size in range(len(ids) + 1):
        for dropped in itertools.combinations(ids, size):
            together = every
            for i in ids:
                if i not in dropped:
                    together &= bits[i]
            if together == 0:
                continue
            cost = sum(firmness[i] for i in dropped)
            if cost < best - TOL:
                best, sets = cost, [frozenset(dropped)]
            elif close(cost, best):
                sets.append(frozenset(dropped))
    return best, sets
