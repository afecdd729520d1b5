"""2-party settlement rules without the whole frontier: supported points and a window.

Each rule's optimum lies in a region closed upwards (:mod:`.frontier_region`). The
method, exact and with the tie-break of
:func:`~backchannel.solvers.frontier_dp.dp_settlements`:

1. **Supported points.** The upper-right convex hull of the groups' sums
   (:mod:`.frontier_hull`); each vertex is a package.
2. **An incumbent.** The best admissible vertex, improved one group's change at a time
   while that raises the rule's value, gives ``V`` (less a margin, so that every
   package tying with the optimum stays inside the region).
3. **The window.** For weights ``lam >= 0``, every package in the region has
   ``lam . u >= m(lam)`` (the region's lowest ``lam``-value, in closed form), while
   ``lam . u <= h(lam)`` (the sum of each group's best ``lam``-value). So a package in
   the region loses at most ``h(lam) - m(lam)`` of ``lam``-value against the greedy
   choice: the weights of the hull edges where that budget is smallest (the window
   around the relaxation's optimum) fix the choice of almost every group, and leave a
   **core** of the few combinations within budget.
4. **An exact search in the window.** The frontier programme
   (:func:`~backchannel.solvers.frontier_dp.frontier_within`) runs over the core in
   issue order, dropping after each fold the partial sums that cannot reach the region:
   first with the hull of the remaining groups, then, once a backward pass over the
   last groups meets it, with their exact frontier (:mod:`.frontier_meet`), which
   also lifts the incumbent to the optimum. It returns every frontier point of the
   region, with the "several packages" flags, and the rule is read off them as today.

Kalai-Smorodinsky needs the ideal point (each party's best admissible utility), itself
a constrained optimum: it is found first the same way, one programme per party (regions
``u_p >= incumbent``), each with its own core: together their cores would hold both
parties' best combinations of almost every group. When no vertex is admissible the
region is the floors' box, which is exact too (it is today's programme with the floors'
pruning).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from backchannel.model.problem import Problem
from backchannel.model.results import Settlement, SettlementRule
from backchannel.solvers.frontier_dp import (
    Group,
    Optimum,
    best_point,
    frontier_within,
    groups_of,
    pareto_groups,
    require_two_additive,
    settlements,
)
from backchannel.solvers.frontier_hull import Hull, hull, package_of, restrict
from backchannel.solvers.frontier_meet import Staircase, Suffixes, reaches
from backchannel.solvers.frontier_region import SLACK, Region, Target
from backchannel.solvers.scoring import (
    TOL,
    BoolArray,
    FloatArray,
    IntArray,
    evaluate,
    utility_bounds,
)

METHOD = "frontier-window"

CUTS = 4
"""Edge weights per region, besides the two axes (those with the smallest budget)."""

CANDIDATES = 3
"""Vertices (best rule values first) re-evaluated exactly for the incumbent."""

CLIMB_STEPS = 10
"""The most single-group changes that climb from the best vertex to the incumbent."""


class Plan:
    """One target's weights, bounds and incumbent during the restricted programme.

    Until the backward pass meets the forward one (:mod:`.frontier_meet`), a partial
    sum is kept when the hull of the remaining groups reaches the region, and for a
    region that is not a box (Nash, welfare) every weight's bound too; the partial sums
    complete greedily (the best remaining combination of each group for each weight)
    and admissible completions raise the incumbent, hence the level, so the region
    shrinks while the programme runs. Once they meet, a partial sum is kept when some
    sum of the remaining groups puts it in the region's box, and for a box region the
    best such sum raises the incumbent (to the optimum, at the first meeting).
    """

    def __init__(
        self, target: Target, weights: FloatArray, best: float, core: list[Group], upper: FloatArray
    ):
        self.target, self.weights, self.best, self.upper = target, weights, best, upper
        self.boxed = target.boxed
        flat, top, owner = _values(core, weights)
        self.rest = _after(top)
        self.prefix = np.concatenate([np.zeros((1, top.shape[1])), np.cumsum(top, axis=0)])
        if not self.boxed:
            chosen = np.empty_like(top, dtype=np.int64)  # (groups, k): flat index of the best
            for j in range(weights.shape[0]):
                at_top = np.flatnonzero(flat[:, j] == top[owner, j])
                chosen[:, j] = at_top[np.unique(owner[at_top], return_index=True)[1]]
            utilities = np.concatenate([g.utilities for g in core])[chosen]  # (groups, k, 2)
            self.completion = _after(utilities.reshape(len(core), -1)).reshape(len(core), -1, 2)
        self.lowest = self._lowest()

    def _lowest(self) -> FloatArray:
        region = self.target.region(self.target.level(self.best))
        self.corner = region.box(self.upper, self.target.disagreement) - SLACK
        return region.lowest(self.weights, self.target.disagreement) - SLACK

    def _raise(self, ends: FloatArray) -> None:
        """Raise the incumbent to the best admissible value among the sums ``ends``."""
        found = float(self.target.values(ends.reshape(-1, 2)).max(initial=-np.inf))
        if found > self.best:
            self.best = found
            self.lowest = self._lowest()

    def reach(
        self,
        g: int,
        first: FloatArray,
        second: FloatArray,
        envelope: FloatArray | None,
        tail: Staircase | None,
    ) -> BoolArray:
        """Raise the incumbent, then the mask of the hopeful sums of groups ``..g``.

        ``tail`` is the frontier of the sums of the remaining groups when the backward
        pass has come this far, else ``envelope`` their upper-right hull.
        """
        points = np.stack([first, second], axis=1)
        if not self.boxed:
            self._raise(points[:, None, :] + self.completion[g][None, :, :])
        elif tail is not None and tail.t0.size:
            picks = self.target.pairs(first, second, tail)
            self._raise(points[:, None, :] + np.stack([tail.t0[picks], tail.t1[picks]], axis=2))
        need0, need1 = self.corner[0] - first, self.corner[1] - second
        if tail is not None:
            inside = reaches(need0, need1, tail)
        else:
            assert envelope is not None
            inside = _under(need0, need1, envelope)
        if self.boxed:  # the box test implies every weight's bound
            return inside
        return inside & self._bounds(first, second, self.rest[g])

    def back(
        self, g: int, first: FloatArray, second: FloatArray, envelope: FloatArray
    ) -> BoolArray:
        """The mask of the sums of groups ``g..`` that may reach the region with those before."""
        inside = _under(self.corner[0] - first, self.corner[1] - second, envelope)
        if self.boxed:
            return inside
        return inside & self._bounds(first, second, self.prefix[g])

    def _bounds(self, first: FloatArray, second: FloatArray, rest: FloatArray) -> BoolArray:
        """Whether each sum, with ``rest`` (the other groups' best per weight), meets every
        weight's bound."""
        inside = np.ones(first.size, dtype=bool)
        for (w0, w1), more, low in zip(
            self.weights.tolist(), rest.tolist(), self.lowest.tolist(), strict=True
        ):
            if np.isfinite(low):
                inside &= w0 * first + w1 * second + more >= low
        return inside


def _under(need0: FloatArray, need1: FloatArray, envelope: FloatArray) -> BoolArray:
    """Whether some point of the hull ``envelope`` (vertices, ``u0`` rising) is at least
    ``need``."""
    inside: BoolArray = need0 <= envelope[-1, 0]
    inside &= need1 <= np.interp(need0, envelope[:, 0], envelope[:, 1])
    return inside


def _after(per_group: FloatArray) -> FloatArray:
    """Row ``g``: the sum of the rows after ``g``."""
    out: FloatArray = np.concatenate(
        [np.cumsum(per_group[::-1], axis=0)[::-1][1:], np.zeros((1, *per_group.shape[1:]))]
    )
    return out


def _values(
    groups: Sequence[Group], weights: FloatArray
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Each combination's ``lam``-values (rows), each group's best, the combinations' groups."""
    sizes = np.array([g.utilities.shape[0] for g in groups])
    flat = np.concatenate([g.utilities for g in groups]) @ weights.T
    best = np.maximum.reduceat(flat, np.concatenate([[0], np.cumsum(sizes)[:-1]]), axis=0)
    return flat, best, np.repeat(np.arange(len(groups)), sizes)


def _weights(
    region: Region, shape: Hull, disagreement: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The axes and the :data:`CUTS` edge weights with the least budget ``h - m``."""
    axes = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    if shape.normals.shape[0]:
        h = np.einsum("ij,ij->i", shape.normals, shape.vertices[:-1])
        budget = h - region.lowest(shape.normals, disagreement)
        budget[~np.isfinite(budget)] = np.inf
        best = np.argsort(budget, kind="stable")[:CUTS]
        axes = np.concatenate([axes, shape.normals[best[np.isfinite(budget[best])]]])
    lowest = region.lowest(axes, disagreement)
    finite = np.isfinite(lowest)
    return axes[finite], lowest[finite]


def window_frontier(
    problem: Problem, groups: list[Group], shape: Hull, targets: Sequence[Target]
) -> tuple[IntArray, FloatArray, BoolArray]:
    """Every frontier point inside the union of the targets' regions (perhaps a few more).

    Each target starts from its best admissible vertex. Combinations whose
    ``lam``-loss exceeds a region's budget for some weight are dropped for that
    region; partial sums are kept when they can reach some region.
    """
    disagreement = np.asarray(problem.disagreement, dtype=np.float64)
    keep = np.zeros(sum(g.utilities.shape[0] for g in groups), dtype=bool)
    live = []
    for target in targets:
        best = _incumbent(problem, groups, shape, target)
        region = target.region(target.level(best))
        weights, lowest = _weights(region, shape, disagreement)
        flat, top, owner = _values(groups, weights)
        budget = top.sum(axis=0) - lowest
        if np.any(budget < -SLACK):
            continue  # no package reaches this region
        keep |= np.all(top[owner] - flat <= budget + SLACK, axis=1)
        live.append((target, weights, best))
    core = restrict(groups, keep)
    if core is None:
        return np.zeros((0, len(problem.issues)), np.int64), np.zeros((0, 2)), np.zeros(0, bool)
    shape = hull(core)
    upper = np.array([shape.vertices[-1, 0], shape.vertices[0, 1]]) + SLACK
    plans = [Plan(target, weights, best, core, upper) for target, weights, best in live]

    def back(g: int, first: FloatArray, second: FloatArray) -> BoolArray:
        out = np.zeros(first.size, dtype=bool)
        envelope = shape.before(g)
        for plan in plans:
            out |= plan.back(g, first, second, envelope)
        return out

    suffixes = Suffixes(core, back)

    def reach(g: int, first: FloatArray, second: FloatArray) -> BoolArray:
        out = np.zeros(first.size, dtype=bool)
        tail = suffixes.at(g + 1, first.size)
        envelope = None if tail is not None else shape.after(g)
        for plan in plans:
            out |= plan.reach(g, first, second, envelope, tail)
        return out

    return frontier_within(problem, core, reach)


def _incumbent(problem: Problem, groups: list[Group], shape: Hull, target: Target) -> float:
    """The best value of an admissible package among the best few vertices and the
    package one swap at a time climbs to from the best of them; -inf if none."""
    score = target.values(shape.vertices)
    ranked = np.argsort(-score, kind="stable")[:CANDIDATES]
    ranked = ranked[np.isfinite(score[ranked])]
    if ranked.size == 0:
        return -np.inf
    choices = [shape.choice(int(k)) for k in ranked]
    choices.append(_climb(groups, choices[0], target))
    packages = package_of(groups, np.stack(choices), len(problem.issues))
    return float(target.values(evaluate(problem, packages)).max())


def _climb(groups: Sequence[Group], choice: IntArray, target: Target) -> IntArray:
    """Change one group's combination at a time, the best change first, while the
    target's value rises: a local optimum near the vertex ``choice`` (each group's)."""
    sizes = np.array([g.utilities.shape[0] for g in groups])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    owner = np.repeat(np.arange(len(groups)), sizes)
    flat = np.concatenate([g.utilities for g in groups])
    current = offsets + choice
    total = flat[current].sum(axis=0)
    value = float(target.values(total[None, :])[0])
    for _ in range(CLIMB_STEPS):
        moved = total + flat - flat[current][owner]
        values = target.values(moved)
        best = int(np.argmax(values))
        if not values[best] > value:
            break
        current[owner[best]], total, value = best, moved[best], float(values[best])
    out: IntArray = current - offsets
    return out


def window_settlements(
    problem: Problem, rules: Sequence[SettlementRule]
) -> dict[SettlementRule, Settlement]:
    """Each rule's optimum for 2 additive parties, without the whole frontier.

    The same answers as :func:`~backchannel.solvers.frontier_dp.dp_settlements`
    (package, value, ``has_ties``), found in the window of each rule (module docstring),
    up to the keys both programmes merge: where many packages lie within ``TOL`` of each
    other, the ideal point may differ by less than a key, and the Kalai-Smorodinsky value
    by a few ``TOL`` (:data:`~backchannel.solvers.frontier_region.MARGIN`).
    One restricted frontier programme serves every rule asked for: it returns every
    frontier point of the union of their regions, and a point outside a rule's region
    is worse than its optimum by more than the tie tolerance, so each rule is read off
    these points as today. Kalai-Smorodinsky needs the ideal point first (two more
    restricted programmes, one on the region of each party's best utility).

    Raises
    ------
    NotApplicable
        Not exactly two additive utilities, or a super-issue too large.
    """
    start = time.perf_counter()
    require_two_additive(problem)
    wanted = list(dict.fromkeys(rules))
    full = groups_of(problem)
    if full is None:
        return settlements(wanted, {}, METHOD, time.perf_counter() - start)
    groups = pareto_groups(full)
    shape = hull(groups)
    d = np.asarray(problem.disagreement, dtype=np.float64)
    floors = utility_bounds(problem) - 2 * TOL
    ideal = d
    if SettlementRule.KS in wanted:
        ideal = np.zeros(2)
        for p in range(2):  # one programme each: each party's core is small
            _, utilities, _ = window_frontier(
                problem, groups, shape, [Target(None, p, floors, d, d)]
            )
            if utilities.shape[0] == 0:  # nothing is admissible
                return settlements(wanted, {}, METHOD, time.perf_counter() - start)
            ideal[p] = utilities[:, p].max()
    targets = [Target(rule, 0, floors, d, ideal) for rule in wanted]
    packages, utilities, multi = window_frontier(problem, groups, shape, targets)
    found: dict[SettlementRule, Optimum] = {}
    if packages.shape[0]:
        for rule in wanted:
            chosen, value, has_ties = best_point(rule, utilities, packages, multi, d, ideal)
            found[rule] = (packages[chosen], utilities[chosen], value, has_ties)
    return settlements(wanted, found, METHOD, time.perf_counter() - start)
