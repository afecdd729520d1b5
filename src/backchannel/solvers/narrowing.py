"""Nash and welfare for 3+ parties on long additive agendas: narrow by Lagrange, enumerate.

Why CP-SAT alone is slow here (measured in docs/explanation/performance.md): its
integer model rounds every utility to ``1/S``, so on float utilities its proven
optimum is only known to within the summed rounding error (about ``0.5/S`` per
issue and party, some ``10^-4`` on 160 issues), far above the tolerance ``10^-9``;
the certified search must then visit, one solve each, every package whose integer
value lies in that band, and on opposed agendas there are thousands. The walk-away
constraints make even welfare a multi-dimensional knapsack, so no issue can be
decided alone.

What this module does instead, for one rule at a time, all in NumPy:

1. **An incumbent** (:func:`incumbent`): the best package of a local search (red lines
   across issues repaired greedily, then one issue changed at a time, best improvement
   first; admissibility first, then the rule's value, welfare breaking its ties)
   started from the per-issue best options of a few weightings of the parties. It only
   needs to be good.
2. **The options a package at least as good can use**: every package whose value
   ties with or beats the incumbent's meets linear inequalities on the utilities
   (the utility red lines, walk-away levels included; for welfare, welfare at least
   the incumbent's; for Nash the tangent of ``sum_p ln g_p`` at the incumbent's gains
   ``a``, ``sum_p g_p / a_p >= p - delta``, because ``ln g <= ln a - 1 + g / a``).
   Lagrangian relaxation of those inequalities makes the bound separable by issue,
   and reduced-cost fixing (:func:`~backchannel.solvers.cpsat.fixing.lagrange`) drops
   every option that alone would cost more than the whole Lagrangian budget. The
   per-issue best options for the Lagrangian weights found start one more local
   search, and a better incumbent narrows again.
3. **Exact enumeration** (:func:`~backchannel.solvers.enumeration.enumerate_settlements`)
   of the packages left, when they are few (:data:`LIMIT`): the same float arithmetic,
   tolerance, welfare tie-break, smallest option vector and exact tie count as brute
   force over the whole agenda, since every package that ties with the optimum is
   inside (it is at least as good as the incumbent, which is inside).

When the packages left are too many, or a step does not apply (non-additive
utilities, no admissible incumbent, a Nash incumbent without a positive product), or
the rule is another (:data:`RULES`), the rule goes to CP-SAT as before.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from backchannel.model.problem import (
    AdditiveUtility,
    Constraint,
    IssueDomain,
    Literal,
    Package,
    Problem,
)
from backchannel.model.results import Settlement, SettlementRule, Status
from backchannel.solvers.cpsat.fixing import Row, lagrange
from backchannel.solvers.enumeration import enumerate_settlements
from backchannel.solvers.scoring import (
    TOL,
    FloatArray,
    rule_value,
    rule_values,
    single_issue_masks,
    tolerance,
    utility_bounds,
)

METHOD = "lagrange+enumeration"

RULES = (SettlementRule.NASH, SettlementRule.WELFARE)
"""The rules answered here. Egalitarian and Kalai-Smorodinsky are not yet: single-issue
moves leave their incumbents about 3·10^-4 below the optimum on opposed agendas
(160×6), and the options within that of the Lagrangian bound leave 10^20 or more
packages (docs/explanation/performance.md)."""

LIMIT = 400_000
"""Most packages left after narrowing that are enumerated (else CP-SAT answers)."""

PASSES = 600
"""Most improving moves of one local search."""

TRIES = 8
"""Improving moves tried in turn when the best one breaks a red line across issues."""


def lowest_tie(value: float) -> float:
    """A value below every one that ties with ``value``."""
    return value - 2 * tolerance(value) - 1e-12


class _Goal:
    """The rule one search maximises (one of :data:`RULES`)."""

    def __init__(self, problem: Problem, rule: SettlementRule) -> None:
        self.rule = rule
        self.disagreement = np.asarray(problem.disagreement, dtype=np.float64)

    def values(self, utilities: FloatArray) -> FloatArray:
        """The float value of packages given as columns ``(parties, packages)``."""
        return rule_values(self.rule, utilities, self.disagreement, None)

    def value(self, utilities: Sequence[float]) -> float:
        """The float value of one package (the definition's own arithmetic)."""
        return rule_value(self.rule, utilities, self.disagreement, None)

    def rows(self, utilities: Sequence[float], value: float) -> list[Row]:
        """Linear inequalities every package tying with or beating a package of these
        utilities and this value meets (the utility red lines are added by the caller)."""
        count = self.disagreement.size
        low = lowest_tie(value)
        if self.rule is SettlementRule.WELFARE:
            return [((1.0,) * count, low)]
        if low <= 0:
            return []
        # Nash: ln g <= ln a - 1 + g / a at a = the incumbent's gains, so a product of at
        # least ``low`` needs sum_p g_p / a_p >= p - ln(value / low).
        a = [u - float(d) for u, d in zip(utilities, self.disagreement, strict=True)]
        if min(a) <= 0:
            return []
        delta = math.log(value) - math.log(low) + 1e-12
        shift = sum(float(d) / g for d, g in zip(self.disagreement, a, strict=True))
        return [([1.0 / g for g in a], count - delta + shift)]


class _Tables:
    """The additive tables as one array ``u[p, i, j]``, the usable options and bounds."""

    def __init__(self, problem: Problem) -> None:
        tables = [u.tables for u in problem.utilities if isinstance(u, AdditiveUtility)]
        sizes = [issue.size for issue in problem.issues]
        width = max(sizes)
        self.u = np.zeros((len(tables), len(sizes), width))
        self.usable = np.zeros((len(sizes), width), dtype=bool)
        for i, mask in enumerate(single_issue_masks(problem)):
            self.usable[i, : sizes[i]] = mask
        for p, party in enumerate(tables):
            for i, table in enumerate(party):
                self.u[p, i, : sizes[i]] = table
        self.floor = utility_bounds(problem) - TOL
        self.clauses = [c for c in problem.constraints if not c.is_utility and _spans(c)]

    def argmax(self, weights: FloatArray) -> list[int]:
        """The per-issue best usable options for a weighting of the parties."""
        scores = np.where(self.usable, np.tensordot(weights, self.u, axes=1), -np.inf)
        return [int(j) for j in scores.argmax(axis=1)]


def _spans(constraint: Constraint) -> bool:
    """Whether a clause constraint names more than one issue (single-issue ones are masks)."""
    return any(len({lit.issue for lit in clause}) > 1 for clause in constraint.clauses)


def _shortfall(utilities: FloatArray, floor: FloatArray) -> FloatArray:
    gap: FloatArray = np.maximum(floor[:, None] - utilities, 0.0).sum(axis=0)
    return gap


def _local_search(problem: Problem, t: _Tables, goal: _Goal, start: list[int]) -> Package:
    """Best-improvement search over single-issue changes (see the module doc)."""
    n, width = t.usable.shape
    issues = np.arange(n)
    usable = t.usable.reshape(-1)
    current = _repair(problem, t, list(start))
    for _ in range(PASSES):
        base = t.u[:, issues, current]  # (parties, n)
        u = base.sum(axis=1)
        flat = (u[:, None, None] - base[:, :, None] + t.u).reshape(len(u), -1)
        short = _shortfall(flat, t.floor)
        now_short = float(_shortfall(u[:, None], t.floor)[0])
        if now_short > 0:
            score, now = -short, -now_short
        else:
            tie = 1e-3 * TOL  # welfare breaks ties, in a far smaller unit
            value = goal.values(flat)
            score = np.where(short > 0, -np.inf, value + tie * flat.sum(axis=0))
            now = float(goal.values(u[:, None])[0]) + tie * float(u.sum())
        score = np.where(usable, score, -np.inf)
        moved = None
        for k in np.argsort(-score, kind="stable")[:TRIES]:
            if not score[k] > now + 1e-15:
                break
            i, j = divmod(int(k), width)
            candidate = current.copy()
            candidate[i] = j
            if all(problem.constraint_holds(c, tuple(candidate)) for c in t.clauses):
                moved = candidate
                break
        if moved is None:
            break
        current = moved
    return tuple(current)


def _repair(problem: Problem, t: _Tables, x: list[int]) -> list[int]:
    """Satisfy the red lines across issues, greedily: for a broken clause, the allowed
    option of one of its literals that leaves the fewest clauses broken (a few rounds)."""

    def broken(y: list[int]) -> list[Constraint]:
        package = tuple(y)
        return [c for c in t.clauses if not problem.constraint_holds(c, package)]

    now = broken(x)
    for _ in range(2 * len(t.clauses)):
        if not now:
            break
        best: tuple[int, list[int], list[Constraint]] | None = None
        for clause in now[0].clauses:
            for lit in clause:
                for j in sorted(lit.allowed):
                    if not t.usable[lit.issue, j]:
                        continue
                    y = x.copy()
                    y[lit.issue] = j
                    left = broken(y)
                    if best is None or len(left) < best[0]:
                        best = (len(left), y, left)
        if best is None or best[0] >= len(now):
            break
        _, x, now = best
    return x


def incumbent(problem: Problem, goal: _Goal, t: _Tables) -> tuple[Package, float] | None:
    """A good admissible package for ``goal`` and its value (None if none was found)."""
    count = t.u.shape[0]
    starts = [np.ones(count)]
    if goal.rule is SettlementRule.NASH:
        starts += list(np.eye(count) + 0.5)
    best: tuple[Package, float] | None = None
    for weights in starts:
        x = _local_search(problem, t, goal, t.argmax(weights))
        if problem.is_admissible(x):
            value = goal.value(problem.utility(x))
            if best is None or value > best[1]:
                best = (x, value)
    if goal.rule is SettlementRule.NASH and best is not None and best[1] > 0:
        # the best options for the tangent's weights 1 / g_p, then the local search again
        gains = np.asarray(problem.utility(best[0])) - goal.disagreement
        x = _local_search(problem, t, goal, t.argmax(1.0 / np.maximum(gains, 1e-9)))
        if problem.is_admissible(x):
            value = goal.value(problem.utility(x))
            if value > best[1]:
                best = (x, value)
    return best


def narrowed(problem: Problem, goal: _Goal, t: _Tables) -> list[list[int]] | None:
    """Per issue, the options every package tying with or beating an incumbent may use.

    The incumbent's Lagrangian weights start one more local search (the per-issue
    best options for them lie near the relaxation's optimum), and a better package
    found there narrows again. None when no incumbent was found, the rule's value is
    not positive (a product or max-min rule: nothing to narrow with), or too many
    packages are left.
    """
    found = incumbent(problem, goal, t)
    left: list[list[int]] | None = None
    for again in (True, False):
        if found is None:
            return None
        x, value = found
        if value <= 0 and goal.rule is SettlementRule.NASH:
            return None
        floors = [-math.inf] * len(problem.utilities)
        dual = lagrange(problem, floors, goal.rows(problem.utility(x), value))
        if dual is None:
            return None
        left, weights = dual
        if not again or math.prod(len(row) for row in left) <= 1:
            break
        y = _local_search(problem, t, goal, t.argmax(weights))
        if not problem.is_admissible(y):
            break
        better = goal.value(problem.utility(y))
        if better <= value:
            break
        found = (y, better)
    assert left is not None
    if any(o not in row for o, row in zip(x, left, strict=True)):
        return None  # the incumbent is always inside; stay exact regardless
    if math.prod(len(row) for row in left) > LIMIT:
        return None
    return left


class _Restricted:
    """The problem on the options ``left`` of each issue (see :func:`restrict`)."""

    def __init__(self, problem: Problem, left: Sequence[Sequence[int]]) -> None:
        self.left = [list(row) for row in left]
        self.free = [i for i, row in enumerate(left) if len(row) > 1]
        self.problem = restrict(problem, self.left, self.free)

    def package(self, small: Package) -> Package:
        """The original package of a package of the restricted problem."""
        out = [row[0] for row in self.left]
        for i, k in zip(self.free, small[1:], strict=True):
            out[i] = self.left[i][k]
        return tuple(out)


def restrict(problem: Problem, left: Sequence[Sequence[int]], free: Sequence[int]) -> Problem:
    """The problem on the options ``left`` of each issue; ``free`` the issues with several.

    Issue 0 of the result is one option that stands for every decided issue (each
    party's table holds the sum of their values, in issue order); issue ``1 + k`` is
    issue ``free[k]``, its option ``m`` option ``left[free[k]][m]``. A clause that a
    decided issue satisfies is dropped, and literals keep the options left, so the
    admissible packages are those of ``problem`` inside ``left``, in the same
    lexicographic order.
    """
    where = {i: 1 + k for k, i in enumerate(free)}
    position = [{j: k for k, j in enumerate(row)} for row in left]
    decided = [i for i, row in enumerate(left) if len(row) == 1]
    anchor = problem.issues[decided[0]] if decided else problem.issues[0]
    issues = (
        IssueDomain("(decided issues)", anchor.kind, ("decided",), (anchor.values[0],)),
        *(
            IssueDomain(
                problem.issues[i].name,
                problem.issues[i].kind,
                tuple(problem.issues[i].labels[j] for j in left[i]),
                tuple(problem.issues[i].values[j] for j in left[i]),
                problem.issues[i].unit,
            )
            for i in free
        ),
    )
    utilities = []
    for u in problem.utilities:
        assert isinstance(u, AdditiveUtility)
        constant = 0.0
        for i in decided:
            constant += float(u.tables[i][left[i][0]])
        tables = (
            np.array([constant]),
            *(np.asarray(u.tables[i], dtype=np.float64)[left[i]] for i in free),
        )
        utilities.append(AdditiveUtility(tables, np.ones(len(tables))))
    constraints = []
    for c in problem.constraints:
        clauses = []
        for clause in c.clauses:
            if any(
                len(left[lit.issue]) == 1 and left[lit.issue][0] in lit.allowed for lit in clause
            ):
                continue  # a decided issue satisfies it
            kept = []
            for lit in clause:
                if lit.issue not in where:
                    continue
                allowed = frozenset(
                    position[lit.issue][j] for j in lit.allowed if j in position[lit.issue]
                )
                if allowed:
                    kept.append(Literal(where[lit.issue], allowed))
            clauses.append(tuple(kept))
        if c.is_utility or clauses:
            constraints.append(
                Constraint(
                    c.id,
                    c.party,
                    c.kind,
                    c.firmness,
                    c.stated,
                    c.text,
                    tuple(clauses),
                    c.utility_party,
                    c.bound,
                )
            )
    return Problem(
        title=problem.title,
        issues=issues,
        parties=problem.parties,
        utility_parties=problem.utility_parties,
        utilities=tuple(utilities),
        disagreement=problem.disagreement,
        constraints=tuple(constraints),
    )


def _enumerate(problem: Problem, left: list[list[int]], rule: SettlementRule) -> Settlement:
    """The rule's exact answer among the packages of ``left`` (original option numbers)."""
    small = _Restricted(problem, left)
    answer = enumerate_settlements(small.problem, [rule])[rule]
    assert answer.package is not None
    package = small.package(answer.package)
    utilities = problem.utility(package)
    value = rule_value(rule, utilities, problem.disagreement, None)
    return Settlement(
        rule,
        Status.OPTIMAL,
        package,
        utilities,
        value,
        value,
        answer.has_ties,
        answer.ties,
        METHOD,
        0.0,
    )


def narrowed_settlement(problem: Problem, rule: SettlementRule) -> Settlement | None:
    """The rule's exact answer by narrowing and enumeration, or None (see the module doc).

    Applies to additive problems of 3 or more parties; the answer is proven
    (``OPTIMAL``), with the exact number of ties.
    """
    if (
        rule not in RULES
        or len(problem.utilities) < 3
        or not problem.issues
        or not all(isinstance(u, AdditiveUtility) for u in problem.utilities)
    ):
        return None
    start = time.perf_counter()
    t = _Tables(problem)
    if not t.usable.any(axis=1).all():
        return None
    left = narrowed(problem, _Goal(problem, rule), t)
    if left is None:
        return None
    answer = _enumerate(problem, left, rule)
    return Settlement(
        answer.rule,
        answer.status,
        answer.package,
        answer.utilities,
        answer.value,
        answer.bound,
        answer.has_ties,
        answer.ties,
        METHOD,
        time.perf_counter() - start,
    )
