"""The four rules for 3+ parties, additive: narrow by Lagrange, then enumerate.

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
   for the max-min rules (egalitarian, Kalai-Smorodinsky) and the ideals a paired
   search (:func:`_paired_search`, one or two changes among those of smallest
   Lagrangian loss) lifts tied lowest parties that one change cannot.
2. **The options a package at least as good can use**: every package whose value
   ties with or beats the incumbent's meets linear inequalities on the utilities
   (the utility red lines, walk-away levels included; for welfare, welfare at least
   the incumbent's; for egalitarian, every gain at least the incumbent's lowest; for
   Kalai-Smorodinsky every gain at least the incumbent's lowest ratio times the
   party's span ``ideal_p - d_p``; for
   Nash the tangent of ``sum_p ln g_p`` at the incumbent's gains
   ``a``, ``sum_p g_p / a_p >= p - delta``, because ``ln g <= ln a - 1 + g / a``).
   Lagrangian relaxation of those inequalities makes the bound separable by part, and
   reduced-cost fixing (:func:`~backchannel.solvers.cpsat.fixing.lagrange_arrays`)
   gives each option its loss against its part's best; every package sought has
   losses summing to at most the Lagrangian budget. The per-part best options for
   the Lagrangian weights found start one more local search, the packages of
   smallest loss (a small share of the budget: the roundings of the relaxation's
   optimum) are scored (:func:`_core`), and a better incumbent narrows again.
3. **Exact enumeration** (:func:`within`) of the packages whose options' losses sum
   to at most the Lagrangian budget, when they are few (:data:`LIMIT`), each scored
   in floats exactly as :meth:`Problem.utility` does: the same tolerance, welfare
   tie-break, smallest option vector and exact tie count as brute force over the
   whole agenda, since every package that ties with the optimum is among them (it
   is at least as good as the incumbent).

Kalai-Smorodinsky first needs every party's ideal, its best utility over the
admissible packages (:func:`ideals`): the same three steps with that utility as the
rule, where only a larger value matters (the ideal is a number, its ties do not),
so the listing also drops every package whose own loss for the party exceeds the
gap to the party's best per part.

When the packages left are too many, or a step does not apply (non-additive
utilities, a group of linked issues with more than :data:`GROUP_LIMIT` combinations,
no admissible incumbent, a Nash incumbent without a positive product, an ideal that
cannot be listed), the rule goes to CP-SAT as before.
"""

from __future__ import annotations

import dataclasses
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

RULES = (
    SettlementRule.NASH,
    SettlementRule.WELFARE,
    SettlementRule.EGALITARIAN,
    SettlementRule.KS,
)
"""The rules answered here (Kalai-Smorodinsky after every party's ideal, found the same way)."""

CANDIDATES = 200
"""Moves (part changes) of smallest Lagrangian loss that the paired search combines."""

LIMIT = 100_000
"""Most packages within the Lagrangian budget that are scored (else CP-SAT answers)."""

PASSES = 600
"""Most improving moves of one local search."""

ROUNDS = 5
"""Most Lagrangian bounds computed per rule (each after a better incumbent)."""

SLACK = 1e-11
"""Rounding margin of a sum of utilities (a few hundred floats of at most 1: below 10^-13)."""

CORE = 20_000
"""Most packages of smallest Lagrangian loss scored in one search for a better incumbent."""

CORE_STEPS = 12
"""Most quarterings of the budget in that search."""


class _Goal:
    """The rule one search maximises (one of :data:`RULES`).

    The max-min rules work on *scaled gains* ``g_p / span_p``: egalitarian on the gains
    (``span_p = 1``), Kalai-Smorodinsky on the gains over ``ideal_p - d_p`` (a party whose
    span is at most the tolerance counts 1, as the definition says, and gets no floor).
    """

    def __init__(
        self, problem: Problem, rule: SettlementRule, ideal: FloatArray | None = None
    ) -> None:
        self.rule = rule
        self.disagreement = np.asarray(problem.disagreement, dtype=np.float64)
        self.ideal = ideal
        self.span = np.ones(self.disagreement.size)
        self.flat = np.zeros(self.disagreement.size, dtype=bool)
        if rule is SettlementRule.KS:
            if ideal is None:
                raise ValueError("the Kalai-Smorodinsky rule needs the ideal utilities")
            span = np.maximum(ideal - self.disagreement, 0.0)
            self.flat = span <= TOL
            self.span = np.where(self.flat, 1.0, span)

    tie = 1e-3
    """Weight of welfare, in units of the tolerance, that breaks the local searches' ties."""

    @property
    def max_min(self) -> bool:
        """Whether the rule is the lowest scaled gain (egalitarian, Kalai-Smorodinsky)."""
        return self.rule in (SettlementRule.EGALITARIAN, SettlementRule.KS)

    def values(self, utilities: FloatArray) -> FloatArray:
        """The float value of packages given as columns ``(parties, packages)``."""
        return rule_values(self.rule, utilities, self.disagreement, self.ideal)

    def search(self, utilities: FloatArray) -> FloatArray:
        """What the local searches maximise: the value; for the max-min rules, the lowest
        scaled gain and, far lighter, the others (lifting one of two tied lowest parties
        is progress)."""
        if not self.max_min:
            return self.values(utilities)
        gains = np.maximum(utilities - self.disagreement[:, None], 0.0) / self.span[:, None]
        gains[self.flat] = 1.0
        gains = np.sort(gains, axis=0)
        total: FloatArray = gains[0] + 1e-3 * gains[1:].sum(axis=0)
        return total

    def value(self, utilities: Sequence[float]) -> float:
        """The float value of one package (the definition's own arithmetic)."""
        return rule_value(self.rule, utilities, self.disagreement, self.ideal)

    def floors(self, value: float) -> FloatArray:
        """A lower bound on each party's utility in every package tying with or beating
        ``value`` (``-inf``: none): the max-min rules give every party its lowest scaled
        gain (less a margin above the rounding of the division)."""
        low = lowest_tie(value)
        if self.max_min and low > 0:
            floor = self.disagreement + low * self.span * (1.0 - 1e-12) - 1e-12
            return np.where(self.flat, -np.inf, floor)
        return np.full(self.disagreement.size, -np.inf)

    def cut(self, t: _Parts, value: float) -> Cut | None:
        """A second condition every package tying with or beating ``value`` meets (none)."""
        return None

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


class _Utility(_Goal):
    """One party's utility, maximised over the admissible packages: its ideal.

    No welfare tie-break in its searches: the ideal is the largest float, and a
    package that gives up 10^-15 of it for welfare is not it."""

    tie = 0.0

    def __init__(self, problem: Problem, party: int) -> None:
        super().__init__(problem, SettlementRule.WELFARE)
        self.party = party

    def values(self, utilities: FloatArray) -> FloatArray:
        column: FloatArray = utilities[self.party]
        return column

    def search(self, utilities: FloatArray) -> FloatArray:
        return self.values(utilities)

    def value(self, utilities: Sequence[float]) -> float:
        return float(utilities[self.party])

    def floors(self, value: float) -> FloatArray:
        return np.full(self.disagreement.size, -np.inf)

    def rows(self, utilities: Sequence[float], value: float) -> list[Row]:
        # only a larger utility matters (the ideal is a value: its ties do not)
        weights = np.zeros(self.disagreement.size)
        weights[self.party] = 1.0
        return [(tuple(weights), value)]

    def cut(self, t: _Parts, value: float) -> Cut | None:
        """The party's own loss against its best combination per part: a package of
        utility at least ``value`` loses at most the best total less ``value`` (plus
        :data:`SLACK` for the rounding of the sums)."""
        u = np.where(t.usable, t.u[self.party], -np.inf)
        top = u.max(axis=1)
        loss: FloatArray = np.where(t.usable, top[:, None] - u, np.inf)
        return loss, float(top.sum()) - value + SLACK


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
        """Packages (option indices per issue) of rows of combination indices per part,
        column-major (scoring reads them issue by issue)."""
        wide = max(grid.max(initial=0) for grid in self.combos) >= 2**15
        kind = np.int32 if wide else np.int16
        if len(self.groups) == self.issues:  # every part one issue, in order: the same indices
            return rows.astype(kind, order="F")
        out = np.zeros((rows.shape[0], self.issues), dtype=kind, order="F")
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
            tie = goal.tie * TOL  # welfare breaks ties, in a far smaller unit
            value = goal.search(flat)
            score = np.where(short > 0, -np.inf, value + tie * flat.sum(axis=0))
            now = float(goal.search(u[:, None])[0]) + tie * float(u.sum())
        score = np.where(usable, score, -np.inf)
        k = int(np.argmax(score))
        if not score[k] > now + goal.tie * 1e-12:
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
    elif goal.rule is SettlementRule.KS:
        starts += [1.0 / goal.span]
    elif isinstance(goal, _Utility):
        starts = [np.eye(count)[goal.party] + 0.1, *starts]
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


def _scored(
    problem: Problem, goal: _Goal, t: _Parts, rows: IntArray
) -> tuple[list[int], float] | None:
    """The best admissible row (combinations per part) of ``rows`` and its value (None: none)."""
    if rows.shape[0] == 0:
        return None
    packages = t.packages(rows)
    utilities = evaluate(problem, cast(IntArray, packages))
    values = np.where(_admissible(problem, packages, utilities), goal.values(utilities.T), -np.inf)
    k = int(values.argmax())
    if not np.isfinite(values[k]):
        return None
    return [int(c) for c in rows[k]], goal.value(problem.utility(t.package(rows[k])))


def _core(
    problem: Problem, goal: _Goal, t: _Parts, dual: Lagrangian, cut: Cut | None
) -> tuple[list[int], float] | None:
    """The best admissible package among the few of smallest Lagrangian loss.

    The packages within a share of the budget (a quarter at a time, until at most
    :data:`CORE` are left) are those nearest the relaxation's optimum: its roundings,
    where a better package than the local searches' is most likely.
    """
    budget = dual.budget
    for _ in range(CORE_STEPS):
        budget /= 4
        rows = within(dual, budget, CORE, cut)
        if rows is not None:
            return _scored(problem, goal, t, rows)
    return None


def narrow(
    problem: Problem,
    goal: _Goal,
    t: _Parts,
    found: tuple[list[int], float] | None = None,
) -> NDArray[np.int64] | None:
    """Every package that may tie with or beat the best (as rows of combinations per
    part), a superset of the optimum's ties, or None when they are too many to list.

    An incumbent (``found``, else :func:`incumbent`'s) gives the Lagrangian bound of
    the packages tying with or beating it (:func:`narrowed_dual`). While the bound
    leaves a choice, a better incumbent is sought near the relaxation's optimum
    (:func:`_lifted`) and, found, narrows again; when the packages within the bound are
    too many to list, the packages of smallest loss are scored (:func:`_core`) for a
    better one. None when no incumbent was found, a Nash incumbent has no positive
    product (nothing to narrow with), or the packages stay too many.
    """
    if found is None:
        found = incumbent(problem, goal, t)
    for round_ in range(ROUNDS):
        if found is None:
            return None
        x, value = found
        dual = narrowed_dual(problem, goal, t, x, value)
        if dual is None:
            return None
        cut = goal.cut(t, value)
        last = round_ == ROUNDS - 1
        if not last and math.prod(len(row) for row in dual.left) > 1:
            better = _lifted(problem, goal, t, dual, found)
            if better is not None:  # a better incumbent narrows further: list later
                found = better
                continue
        rows = within(dual, cut=cut)
        if rows is not None or last:
            return rows
        better = _core(problem, goal, t, dual, cut)
        if better is None or better[1] <= value:
            return None
        found = better
    return None


def _lifted(
    problem: Problem,
    goal: _Goal,
    t: _Parts,
    dual: Lagrangian,
    found: tuple[list[int], float],
) -> tuple[list[int], float] | None:
    """A better incumbent than ``found`` from the per-part best combinations for the
    Lagrangian weights (a local search; for the max-min rules and the ideals also paired
    searches from there and from ``found``), or None."""
    top = t.argmax(dual.weights)
    starts = [_local_search(t, goal, top)]
    if goal.max_min or isinstance(goal, _Utility):
        starts = [_paired_search(t, goal, y, dual.loss) for y in (top, *starts, found[0])]
    best = None
    for y in starts:
        package = t.package(y)
        if problem.is_admissible(package):
            value = goal.value(problem.utility(package))
            if value > (found if best is None else best)[1]:
                best = (y, value)
    return best


def narrowed_dual(
    problem: Problem, goal: _Goal, t: _Parts, x: Sequence[int], value: float
) -> Lagrangian | None:
    """The Lagrangian bound of the packages tying with or beating the package ``x`` (on
    parts) of value ``value`` (None: nothing to narrow with, or ``x`` outside it)."""
    if value <= 0 and goal.rule is SettlementRule.NASH:
        return None
    rows = goal.rows(problem.utility(t.package(x)), value)
    dual = lagrange_arrays(t.u, t.usable, np.maximum(t.floor, goal.floors(value)), rows)
    if dual is None or any(o not in row for o, row in zip(x, dual.left, strict=True)):
        return None  # the incumbent is always inside; stay exact regardless
    return dual


Cut = tuple[FloatArray, float]
"""A second necessary condition beside the Lagrangian's: per part and combination a
loss (``inf``: unusable), and the budget their sum may not exceed."""


def within(
    dual: Lagrangian,
    budget: float | None = None,
    limit: int | None = None,
    cut: Cut | None = None,
) -> NDArray[np.int64] | None:
    """Every choice of one combination per part whose losses sum to at most ``budget``
    (the bound's by default), and whose ``cut`` losses to at most its budget, as rows
    of combination indices (None: more than ``limit``, by default :data:`LIMIT`).

    Parts are added one at a time, those with the cheapest second choice first (so that
    too many choices are seen early); a partial choice over a budget has no completion
    within it (losses are never negative, each part has one of loss 0 for each budget),
    so the partial choices are never more than the complete ones.
    """
    if budget is None:
        budget = dual.budget
    if limit is None:
        limit = LIMIT
    losses = [dual.loss] if cut is None else [dual.loss, cut[0]]
    budgets = np.asarray([budget] if cut is None else [budget, cut[1]])
    parts = len(dual.left)
    rows = np.zeros((1, parts), dtype=np.int64)
    open_parts = []
    for g, row in enumerate(dual.left):
        options = np.asarray(row, dtype=np.int64)
        for loss, most in zip(losses, budgets, strict=True):
            options = options[loss[g, options] <= most]
        if options.size == 1:
            rows[:, g] = options[0]
        elif options.size > 1:
            open_parts.append((float(np.sort(dual.loss[g, options])[1]), g, options))
        else:
            return rows[:0]
    open_parts.sort(key=lambda item: item[:2])
    spent = np.zeros((1, budgets.size))
    steps: list[tuple[int, IntArray, IntArray]] = []  # (part, parent row, its choice)
    for _, g, options in open_parts:
        added = np.stack([loss[g, options] for loss in losses], axis=1)  # (options, cuts)
        total = spent[:, None, :] + added[None, :, :]
        keep_rows, keep_cols = np.nonzero(np.all(total <= budgets, axis=2))
        if keep_rows.size > limit:
            return None
        steps.append((g, keep_rows, options[keep_cols]))
        spent = total[keep_rows, keep_cols]
    if spent.shape[0] > limit:
        return None
    # the choices, read back from the last part to the first (no copy of whole rows per part)
    rows = np.repeat(rows, spent.shape[0], axis=0)
    at = np.arange(spent.shape[0])
    for g, parent, choice in reversed(steps):
        rows[:, g] = choice[at]
        at = parent[at]
    return rows


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


def _best(problem: Problem, packages: Packages, goal: _Goal) -> Settlement | None:
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
    rule = goal.rule
    values = rule_values(rule, utilities.T, disagreement, goal.ideal)
    top = float(values.max())
    optimal = np.flatnonzero(values >= top - tolerance(top))
    welfare = utilities[optimal].sum(axis=1)
    most = float(welfare.max())
    final = optimal[welfare >= most - tolerance(most)]
    order = np.lexsort(tuple(packages[final, i] for i in reversed(range(packages.shape[1]))))
    package = tuple(int(o) for o in packages[final[order[0]]])
    chosen = problem.utility(package)
    value = rule_value(rule, chosen, problem.disagreement, goal.ideal)
    ties = int(optimal.size) - 1
    return Settlement(
        rule, Status.OPTIMAL, package, chosen, value, value, ties > 0, ties, METHOD, 0.0
    )


def _polish(
    problem: Problem, goal: _Utility, t: _Parts, found: tuple[list[int], float]
) -> tuple[list[int], float]:
    """The incumbent of an ideal with each part moved to the party's best combination
    where the package stays admissible and the float utility does not fall (the local
    search cannot see gains below the rounding of a long sum)."""
    u = np.where(t.usable, t.u[goal.party], -np.inf)
    x, value = list(found[0]), found[1]
    for g, c in enumerate(u.argmax(axis=1)):
        if x[g] == c:
            continue
        y = [*x[:g], int(c), *x[g + 1 :]]
        package = t.package(y)
        if problem.is_admissible(package):
            better = goal.value(problem.utility(package))
            if better >= value:
                x, value = y, better
    return x, value


def ideals(problem: Problem, t: _Parts) -> FloatArray | None:
    """Every party's ideal, its best utility over the admissible packages, exactly (None:
    a party's narrowing leaves too many packages, or finds no admissible incumbent).

    The same narrowing with the party's utility as the rule. An incumbent whose utility
    equals the sum, issue by issue in the order :meth:`Problem.utility` adds them, of
    the party's best allowed option is the ideal (rounded addition is monotone, so no
    package sums higher). Otherwise every package at least as good as the incumbent has
    ``u_p`` at least the incumbent's (one more row, and a cut on the party's own loss)
    and meets every red line, the other parties' walk-away levels among them; those
    packages are listed and the largest admissible ``u_p`` among them, in the floats of
    :meth:`Problem.utility`, is the ideal.
    """
    masks = single_issue_masks(problem)
    tops = np.empty(len(problem.utilities))
    for p, utility in enumerate(problem.utilities):
        assert isinstance(utility, AdditiveUtility)
        highest = 0.0
        for table, mask in zip(utility.tables, masks, strict=True):
            highest = highest + float(np.asarray(table)[mask].max())
        goal = _Utility(problem, p)
        found = incumbent(problem, goal, t)
        if found is not None:
            found = _polish(problem, goal, t, found)
        if found is not None and found[1] >= highest:
            tops[p] = found[1]
            continue
        rows = narrow(problem, goal, t, found)
        if rows is None:
            return None
        packages = t.packages(rows)
        utilities = evaluate(problem, cast(IntArray, packages))
        ok = _admissible(problem, packages, utilities)
        if not ok.any():  # cannot happen (the incumbent is among them)
            return None
        tops[p] = float(utilities[ok, p].max())
    return tops


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
    ideal = None
    if rule is SettlementRule.KS:
        ideal = ideals(problem, t)
        if ideal is None:
            return None
    goal = _Goal(problem, rule, ideal)
    rows = narrow(problem, goal, t)
    if rows is None:
        return None
    answer = _best(problem, t.packages(rows), goal)
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


def _weighted(problem: Problem, weights: Sequence[float]) -> Problem:
    """The problem with each party's utility (and its utility red lines) times its weight:
    its welfare is the weighted sum of the original utilities, over the same packages."""
    utilities = tuple(
        AdditiveUtility(tuple(np.asarray(t) * w for t in u.tables), u.weights)
        for u, w in zip(cast(Sequence[AdditiveUtility], problem.utilities), weights, strict=True)
    )
    constraints = tuple(
        dataclasses.replace(c, bound=c.bound * weights[c.utility_party])
        if c.utility_party is not None
        else c
        for c in problem.constraints
    )
    disagreement = tuple(d * w for d, w in zip(problem.disagreement, weights, strict=True))
    return dataclasses.replace(
        problem, utilities=utilities, disagreement=disagreement, constraints=constraints
    )


def weighted_best(problem: Problem, weights: Sequence[float]) -> Package | None:
    """An admissible package of the largest weighted sum of utilities (weights > 0), by
    narrowing, exactly; None where narrowing does not apply or leaves too many packages.
    A Pareto-efficient package for a representative frontier (its ties broken by
    welfare of the weighted problem, then the smallest option vector)."""
    if len(problem.utilities) < 3 or not all(
        isinstance(u, AdditiveUtility) for u in problem.utilities
    ):
        return None
    top = max(weights)
    found = narrowed_settlement(
        _weighted(problem, [w / top for w in weights]), SettlementRule.WELFARE
    )
    return None if found is None else found.package


def ideal_utilities(problem: Problem) -> list[float] | None:
    """Every party's best utility over the admissible packages, exactly, by narrowing
    (None where it does not apply; see :func:`ideals`)."""
    if len(problem.utilities) < 3 or not all(
        isinstance(u, AdditiveUtility) for u in problem.utilities
    ):
        return None
    t = _parts(problem)
    tops = None if t is None else ideals(problem, t)
    return None if tops is None else [float(v) for v in tops]
