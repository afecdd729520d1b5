"""Nash, welfare, egalitarian for 3+ parties, additive: narrow by Lagrange, then enumerate.

Why CP-SAT alone is slow here (measured in docs/explanation/performance.md): its
integer model rounds every utility to ``1/S``, so on float utilities its proven
optimum is only known to within the summed rounding error (about ``0.5/S`` per
issue and party, some ``10^-4`` on 160 issues), far above the tolerance ``10^-9``;
the certified search must then visit, one solve each, every package whose integer
value lies in that band, and on opposed agendas there are thousands. The walk-away
constraints are not the cause (without them welfare proves no faster), nor is the
tie-break (never reached).

What this module does instead, for one rule at a time, all in NumPy:

1. **An incumbent** (:func:`incumbent`): the best package of a local search (one *part*
   changed at a time: an issue, or a group of issues that red lines link, whose options
   are its combinations that respect them; best improvement first; the walk-away
   shortfall first, then the rule's value, welfare breaking its ties) started from the
   per-part best options of a few weightings of the parties. It only needs to be good;
   for egalitarian a paired search (:func:`_paired_search`, one or two changes among
   those of smallest Lagrangian loss) lifts tied lowest parties that one change cannot.
2. **The options a package at least as good can use**: every package whose value
   ties with or beats the incumbent's meets linear inequalities on the utilities
   (the utility red lines, walk-away levels included; for welfare, welfare at least
   the incumbent's; for egalitarian, every gain at least the incumbent's lowest; for
   Nash the tangent of ``sum_p ln g_p`` at the incumbent's gains
   ``a``, ``sum_p g_p / a_p >= p - delta``, because ``ln g <= ln a - 1 + g / a``).
   Lagrangian relaxation of those inequalities makes the bound separable by part, and
   reduced-cost fixing (:func:`~backchannel.solvers.cpsat.fixing.lagrange_arrays`)
   gives each option its loss against its part's best; every package sought has
   losses summing to at most the Lagrangian budget. The per-part best options for
   the Lagrangian weights found start one more local search, and a better incumbent
   narrows again.
3. **Exact enumeration** (:func:`within`) of the packages whose options' losses sum
   to at most the Lagrangian budget, when they are few (:data:`LIMIT`), each scored
   in floats exactly as :meth:`Problem.utility` does: the same tolerance, welfare
   tie-break, smallest option vector and exact tie count as brute force over the
   whole agenda, since every package that ties with the optimum is among them (it
   is at least as good as the incumbent).

When the packages left are too many, or a step does not apply (non-additive
utilities, a group of linked issues with more than :data:`GROUP_LIMIT` combinations,
no admissible incumbent, a Nash incumbent without a positive product), or the rule
is another (:data:`RULES`), the rule goes to CP-SAT as before.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from backchannel.model.problem import (
    UTILITY_TOLERANCE,
    AdditiveUtility,
    Package,
    Problem,
)
from backchannel.model.results import Settlement, SettlementRule, Status
from backchannel.solvers.cpsat.fixing import Lagrangian, Row, lagrange_arrays
from backchannel.solvers.scoring import (
    TOL,
    BoolArray,
    FloatArray,
    IntArray,
    evaluate,
    lowest_tie,
    rule_value,
    rule_values,
    single_issue_masks,
    tolerance,
    utility_bounds,
)

METHOD = "lagrange+enumeration"

Packages = NDArray[np.integer[Any]]
"""Packages as rows of option indices (int16, or int32 on issues of 2^15 options or more)."""

RULES = (SettlementRule.NASH, SettlementRule.WELFARE, SettlementRule.EGALITARIAN)
"""The rules answered here. Kalai-Smorodinsky is not yet (it needs every party's ideal
first, a knapsack of the same kind; docs/explanation/performance.md)."""

CANDIDATES = 200
"""Moves (part changes) of smallest Lagrangian loss that the paired search combines."""

LIMIT = 100_000
"""Most packages within the Lagrangian budget that are scored (else CP-SAT answers)."""

PASSES = 600
"""Most improving moves of one local search."""

ROUNDS = 3
"""Most Lagrangian bounds computed per rule (each after a better incumbent)."""


class _Goal:
    """The rule one search maximises (one of :data:`RULES`)."""

    def __init__(self, problem: Problem, rule: SettlementRule) -> None:
        self.rule = rule
        self.disagreement = np.asarray(problem.disagreement, dtype=np.float64)

    def values(self, utilities: FloatArray) -> FloatArray:
        """The float value of packages given as columns ``(parties, packages)``."""
        return rule_values(self.rule, utilities, self.disagreement, None)

    def search(self, utilities: FloatArray) -> FloatArray:
        """What the local searches maximise: the value; for egalitarian, the lowest gain
        and, far lighter, the others (lifting one of two tied lowest parties is progress)."""
        if self.rule is not SettlementRule.EGALITARIAN:
            return self.values(utilities)
        gains = np.sort(np.maximum(utilities - self.disagreement[:, None], 0.0), axis=0)
        total: FloatArray = gains[0] + 1e-3 * gains[1:].sum(axis=0)
        return total

    def value(self, utilities: Sequence[float]) -> float:
        """The float value of one package (the definition's own arithmetic)."""
        return rule_value(self.rule, utilities, self.disagreement, None)

    def floors(self, value: float) -> FloatArray:
        """A lower bound on each party's utility in every package tying with or beating
        ``value`` (``-inf``: none): egalitarian gives every party its lowest gain."""
        low = lowest_tie(value)
        if self.rule is SettlementRule.EGALITARIAN and low > 0:
            return self.disagreement + low
        return np.full(self.disagreement.size, -np.inf)

    def rows(self, utilities: Sequence[float], value: float) -> list[Row]:
        """Linear inequalities every package tying with or beating a package of these
        utilities and this value meets (the utility red lines are added by the caller)."""
        count = self.disagreement.size
        low = lowest_tie(value)
        if self.rule is SettlementRule.WELFARE:
            return [((1.0,) * count, low)]
        if low <= 0 or self.rule is not SettlementRule.NASH:
            return []
        # Nash: ln g <= ln a - 1 + g / a at a = the incumbent's gains, so a product of at
        # least ``low`` needs sum_p g_p / a_p >= p - ln(value / low).
        a = [u - float(d) for u, d in zip(utilities, self.disagreement, strict=True)]
        if min(a) <= 0:
            return []
        delta = math.log(value) - math.log(low) + 1e-12
        shift = sum(float(d) / g for d, g in zip(self.disagreement, a, strict=True))
        return [([1.0 / g for g in a], count - delta + shift)]


GROUP_LIMIT = 1296
"""Most option combinations of one group of issues that red lines link (else CP-SAT)."""


def _groups(problem: Problem) -> list[list[int]]:
    """The issues in groups that no red line crosses (issues a clause names together
    are in one group), each sorted, groups in the order of their first issue."""
    parent = list(range(len(problem.issues)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for c in problem.constraints:
        for clause in c.clauses:
            issues = sorted({lit.issue for lit in clause})
            for other in issues[1:]:
                parent[root(other)] = root(issues[0])
    groups: dict[int, list[int]] = {}
    for i in range(len(problem.issues)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


class _Parts:
    """The agenda as parts: single issues, or groups of issues that red lines link.

    A part's options are its combinations of options (``combos[g]``, rows in
    lexicographic order); ``u[p, g, c]`` is party ``p``'s value of combination ``c``
    and ``usable[g, c]`` whether every red line on the part's issues allows it, so a
    package of usable combinations respects every red line. ``floor`` are the utility
    red lines (less the tolerance).
    """

    def __init__(self, problem: Problem, groups: list[list[int]]) -> None:
        tables = [u.tables for u in problem.utilities if isinstance(u, AdditiveUtility)]
        masks = single_issue_masks(problem)
        self.groups = groups
        self.combos: list[IntArray] = []
        usable_rows: list[BoolArray] = []
        for members in groups:
            grid = np.array(
                list(itertools.product(*(range(problem.issues[i].size) for i in members))),
                dtype=np.int64,
            ).reshape(-1, len(members))
            ok = np.all([masks[i][grid[:, k]] for k, i in enumerate(members)], axis=0)
            for c in problem.constraints:
                for clause in c.clauses:
                    if not {lit.issue for lit in clause} <= set(members) or len(members) == 1:
                        continue
                    holds = np.zeros(grid.shape[0], dtype=bool)
                    for lit in clause:
                        column = grid[:, members.index(lit.issue)]
                        holds |= np.isin(column, sorted(lit.allowed))
                    ok &= holds
            self.combos.append(grid)
            usable_rows.append(ok)
        width = max(grid.shape[0] for grid in self.combos)
        self.u = np.zeros((len(tables), len(groups), width))
        self.usable = np.zeros((len(groups), width), dtype=bool)
        for g, (members, grid) in enumerate(zip(groups, self.combos, strict=True)):
            self.usable[g, : grid.shape[0]] = usable_rows[g]
            for p, party in enumerate(tables):
                self.u[p, g, : grid.shape[0]] = sum(
                    np.asarray(party[i])[grid[:, k]] for k, i in enumerate(members)
                )
        self.floor = utility_bounds(problem) - TOL
        self.issues = len(problem.issues)

    def argmax(self, weights: FloatArray) -> list[int]:
        """The per-part best usable combinations for a weighting of the parties."""
        scores = np.where(self.usable, np.tensordot(weights, self.u, axes=1), -np.inf)
        return [int(j) for j in scores.argmax(axis=1)]

    def packages(self, rows: NDArray[np.integer[Any]]) -> Packages:
        """Packages (option indices per issue) of rows of combination indices per part."""
        wide = max(grid.max(initial=0) for grid in self.combos) >= 2**15
        out = np.zeros((rows.shape[0], self.issues), dtype=np.int32 if wide else np.int16)
        for g, (members, grid) in enumerate(zip(self.groups, self.combos, strict=True)):
            out[:, members] = grid[rows[:, g]]
        return out

    def package(self, row: Sequence[int]) -> Package:
        """The package of one row of combination indices."""
        return tuple(int(o) for o in self.packages(np.asarray([row]))[0])


def _parts(problem: Problem) -> _Parts | None:
    """The parts of an additive problem (None: not additive, or a group too large)."""
    if not problem.issues or not all(isinstance(u, AdditiveUtility) for u in problem.utilities):
        return None
    groups = _groups(problem)
    sizes = [math.prod(problem.issues[i].size for i in g) for g in groups]
    if max(sizes) > GROUP_LIMIT:
        return None
    t = _Parts(problem, groups)
    if not t.usable.any(axis=1).all():
        return None  # no package respects the red lines
    return t


def _shortfall(utilities: FloatArray, floor: FloatArray) -> FloatArray:
    gap: FloatArray = np.maximum(floor[:, None] - utilities, 0.0).sum(axis=0)
    return gap


def _local_search(t: _Parts, goal: _Goal, start: list[int]) -> list[int]:
    """Best-improvement search over single-part changes (see the module doc)."""
    parts, width = t.usable.shape
    index = np.arange(parts)
    usable = t.usable.reshape(-1)
    current = list(start)
    for _ in range(PASSES):
        base = t.u[:, index, current]  # (parties, parts)
        u = base.sum(axis=1)
        flat = (u[:, None, None] - base[:, :, None] + t.u).reshape(len(u), -1)
        short = _shortfall(flat, t.floor)
        now_short = float(_shortfall(u[:, None], t.floor)[0])
        if now_short > 0:
            score, now = -short, -now_short
        else:
            tie = 1e-3 * TOL  # welfare breaks ties, in a far smaller unit
            value = goal.search(flat)
            score = np.where(short > 0, -np.inf, value + tie * flat.sum(axis=0))
            now = float(goal.search(u[:, None])[0]) + tie * float(u.sum())
        score = np.where(usable, score, -np.inf)
        k = int(np.argmax(score))
        if not score[k] > now + 1e-15:
            break
        g, c = divmod(k, width)
        current[g] = c
    return current


def _paired_search(t: _Parts, goal: _Goal, start: list[int], loss: FloatArray) -> list[int]:
    """Best improvement over one or two part changes at a time, among the
    :data:`CANDIDATES` changes of smallest Lagrangian loss against the current choice
    (a max-min rule often needs two: one lifts the lowest party, one pays for it).
    Only packages that keep every utility red line are moved to."""
    parts, width = t.usable.shape
    index = np.arange(parts)
    current = list(start)
    flat_loss = np.where(t.usable, loss, np.inf)
    for _ in range(PASSES):
        base = t.u[:, index, current]
        u = base.sum(axis=1)
        if float(_shortfall(u[:, None], t.floor)[0]) > 0:
            break
        relative = (flat_loss - flat_loss[index, current][:, None]).reshape(-1)
        moves = np.argsort(relative, kind="stable")[:CANDIDATES]
        moves = moves[np.isfinite(relative[moves])]
        delta = (t.u - base[:, :, None]).reshape(len(u), -1)[:, moves]  # (parties, moves)
        one = u[:, None] + delta
        two = (one[:, :, None] + delta[:, None, :]).reshape(len(u), -1)
        part = moves // width
        scores = []
        for after, bad in ((one, None), (two, (part[:, None] == part[None, :]).reshape(-1))):
            score = np.where(_shortfall(after, t.floor) > 0, -np.inf, goal.search(after))
            if bad is not None:
                score[bad] = -np.inf
            scores.append(score)
        now = float(goal.search(u[:, None])[0])
        single, paired = (float(score.max(initial=-np.inf)) for score in scores)
        if max(single, paired) <= now + 1e-15:
            break
        if single >= paired:
            chosen = [int(moves[int(scores[0].argmax())])]
        else:
            i, j = divmod(int(scores[1].argmax()), moves.size)
            chosen = [int(moves[i]), int(moves[j])]
        for k in chosen:
            g, c = divmod(k, width)
            current[g] = c
    return current


def incumbent(problem: Problem, goal: _Goal, t: _Parts) -> tuple[list[int], float] | None:
    """A good admissible package for ``goal`` (as combinations per part) and its value."""
    count = t.u.shape[0]
    starts = [np.ones(count)]
    if goal.rule is SettlementRule.NASH:
        starts += list(np.eye(count) + 0.5)
    best: tuple[list[int], float] | None = None
    for weights in starts:
        x = _local_search(t, goal, t.argmax(weights))
        package = t.package(x)
        if problem.is_admissible(package):
            value = goal.value(problem.utility(package))
            if best is None or value > best[1]:
                best = (x, value)
    if goal.rule is SettlementRule.NASH and best is not None and best[1] > 0:
        # the best options for the tangent's weights 1 / g_p, then the local search again
        gains = np.asarray(problem.utility(t.package(best[0]))) - goal.disagreement
        x = _local_search(t, goal, t.argmax(1.0 / np.maximum(gains, 1e-9)))
        package = t.package(x)
        if problem.is_admissible(package):
            value = goal.value(problem.utility(package))
            if value > best[1]:
                best = (x, value)
    return best


def narrowed(problem: Problem, goal: _Goal, t: _Parts) -> Lagrangian | None:
    """The Lagrangian bound of the packages tying with or beating an incumbent (on parts).

    The incumbent's Lagrangian weights start one more local search (the per-part best
    combinations for them lie near the relaxation's optimum), and a better package
    found there narrows again. None when no incumbent was found or a Nash incumbent
    has no positive product (nothing to narrow with).
    """
    found = incumbent(problem, goal, t)
    dual: Lagrangian | None = None
    for round_ in range(ROUNDS):
        if found is None:
            return None
        x, value = found
        if value <= 0 and goal.rule is SettlementRule.NASH:
            return None
        rows = goal.rows(problem.utility(t.package(x)), value)
        dual = lagrange_arrays(t.u, t.usable, np.maximum(t.floor, goal.floors(value)), rows)
        if dual is None:
            return None
        if round_ == ROUNDS - 1 or math.prod(len(row) for row in dual.left) <= 1:
            break
        top = t.argmax(dual.weights)
        starts = [_local_search(t, goal, top)]
        if goal.rule is SettlementRule.EGALITARIAN:
            starts = [_paired_search(t, goal, y, dual.loss) for y in (top, *starts, x)]
        improved = False
        for y in starts:
            package = t.package(y)
            if problem.is_admissible(package):
                better = goal.value(problem.utility(package))
                if better > found[1]:
                    found, improved = (y, better), True
        if not improved:
            break
    assert dual is not None
    if any(o not in row for o, row in zip(x, dual.left, strict=True)):
        return None  # the incumbent is always inside; stay exact regardless
    return dual


def within(dual: Lagrangian) -> NDArray[np.int64] | None:
    """Every choice of one combination per part whose losses sum to at most the budget,
    as rows of combination indices (None: more than :data:`LIMIT`).

    Parts are added one at a time; a partial choice over the budget has no completion
    within it (losses are never negative), so the partial choices are never more than
    the complete ones.
    """
    rows = np.zeros((1, len(dual.left)), dtype=np.int64)
    spent = np.zeros(1)
    for g, row in enumerate(dual.left):
        options = np.asarray(row, dtype=np.int64)
        if options.size == 1:
            rows[:, g] = options[0]
            continue
        total = spent[:, None] + dual.loss[g, options][None, :]
        keep_rows, keep_cols = np.nonzero(total <= dual.budget)
        if keep_rows.size > LIMIT:
            return None
        rows = rows[keep_rows]
        rows[:, g] = options[keep_cols]
        spent = total[keep_rows, keep_cols]
    return rows if rows.shape[0] <= LIMIT else None


def _admissible(problem: Problem, packages: Packages, utilities: FloatArray) -> BoolArray:
    """Which packages respect every constraint (utilities: shape ``(packages, parties)``)."""
    ok = np.ones(packages.shape[0], dtype=bool)
    for c in problem.constraints:
        if c.utility_party is not None:
            ok &= utilities[:, c.utility_party] >= c.bound - UTILITY_TOLERANCE
            continue
        for clause in c.clauses:
            holds = np.zeros(packages.shape[0], dtype=bool)
            for lit in clause:
                holds |= np.isin(packages[:, lit.issue], sorted(lit.allowed))
            ok &= holds
    return ok


def _best(problem: Problem, packages: Packages, rule: SettlementRule) -> Settlement | None:
    """The rule's answer among ``packages`` by the reference definition (None: none admissible).

    The optimum, the packages within the tolerance of it (their number less one is the
    tie count), the largest welfare among them, then the smallest option vector among
    those within the tolerance of that welfare.
    """
    # exactly the floats of Problem.utility (evaluate only indexes with the rows)
    utilities = evaluate(problem, cast(IntArray, packages))
    ok = _admissible(problem, packages, utilities)
    if not ok.any():
        return None
    packages, utilities = packages[ok], utilities[ok]
    disagreement = np.asarray(problem.disagreement, dtype=np.float64)
    values = rule_values(rule, utilities.T, disagreement, None)
    top = float(values.max())
    optimal = np.flatnonzero(values >= top - tolerance(top))
    welfare = utilities[optimal].sum(axis=1)
    most = float(welfare.max())
    final = optimal[welfare >= most - tolerance(most)]
    order = np.lexsort(tuple(packages[final, i] for i in reversed(range(packages.shape[1]))))
    package = tuple(int(o) for o in packages[final[order[0]]])
    chosen = problem.utility(package)
    value = rule_value(rule, chosen, problem.disagreement, None)
    ties = int(optimal.size) - 1
    return Settlement(
        rule, Status.OPTIMAL, package, chosen, value, value, ties > 0, ties, METHOD, 0.0
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
    t = _parts(problem)
    if t is None:
        return None
    dual = narrowed(problem, _Goal(problem, rule), t)
    rows = None if dual is None else within(dual)
    if rows is None:
        return None
    answer = _best(problem, t.packages(rows), rule)
    if answer is None:  # cannot happen (the incumbent is among them); CP-SAT decides
        return None
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
