"""2-party settlement rules without the whole frontier: supported points and a window.

The four rules (Nash, Kalai-Smorodinsky, egalitarian, welfare) are increasing in both
utilities, so each one's optimum lies in the **region** ``{u >= floors, rule(u) >= V}``
for any ``V`` that an admissible package reaches; that region is convex and closed
upwards. The method, exact and with the tie-break of
:func:`~backchannel.solvers.frontier_dp.dp_settlements`:

1. **Supported points.** The upper-right convex hull of the groups' sums (the frontier
   of the relaxation where each group may mix its options) is the Minkowski sum of the
   groups' own hulls: its edges are the groups' hull edges sorted by slope, and each
   vertex is a package (one combination per group), the optimum of a weighted sum
   ``lam . u`` for the weights between its two edges.
2. **An incumbent.** The best admissible vertex gives ``V`` (less a margin, so that
   every package tying with the optimum stays inside the region).
3. **The window.** For weights ``lam >= 0``, every package in the region has
   ``lam . u >= m(lam)`` (the region's lowest ``lam``-value, in closed form), while
   ``lam . u <= h(lam)`` (the sum of each group's best ``lam``-value). So a package in
   the region loses at most ``h(lam) - m(lam)`` of ``lam``-value against the greedy
   choice: the weights of the hull edges where that budget is smallest (the window
   around the relaxation's optimum) fix the choice of almost every group, and leave a
   **core** of the few combinations within budget.
4. **An exact search in the window.** The frontier programme
   (:func:`~backchannel.solvers.frontier_dp.frontier_within`) runs over the core,
   dropping after each fold the partial sums that cannot reach the region even with
   the best of every remaining group. It returns every frontier point of the region,
   with the "several packages" flags, and the rule is read off them as today.

Kalai-Smorodinsky needs the ideal point (each party's best admissible utility), itself
a constrained optimum: it is found first the same way (regions ``u_p >= best vertex``).
When no vertex is admissible the region is the floors' box, which is exact too (it is
today's programme with the floors' pruning).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

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
from backchannel.solvers.frontier_meet import Staircase, Suffixes, best_pairs, reaches
from backchannel.solvers.scoring import (
    TOL,
    BoolArray,
    FloatArray,
    IntArray,
    evaluate,
    rule_values,
    utility_bounds,
)

METHOD = "frontier-window"

MARGIN = 1e-8
"""The region's level sits this far (relative) below the incumbent: ties stay inside.

A package ties with the optimum when its value is within ``TOL * max(1, |value|)``
(:func:`~backchannel.solvers.scoring.tolerance`, ``TOL = 1e-9``) of it: a tenth of the
margin, which leaves room for the float noise of partial sums (about ``1e-14``)."""

SLACK = 1e-9
"""Float slack of every comparison with the region: partial sums in another order than
the exact utilities differ from them by about ``1e-14``."""

CUTS = 4
"""Edge weights per region, besides the two axes (those with the smallest budget)."""

CANDIDATES = 3
"""Vertices (best rule values first) re-evaluated exactly for the incumbent."""

CLIMB_STEPS = 10
"""The most single-group changes that climb from the best vertex to the incumbent."""


@dataclass(frozen=True)
class Hull:
    """The upper-right hull of the sum of the groups, from the best point for party 1.

    ``chains[g]`` lists group ``g``'s hull combinations (padded with the last one);
    after the first ``k`` edges, group ``g`` uses ``chains[g, count of its edges]``.
    """

    chains: IntArray  # (groups, longest chain)
    edge_group: IntArray  # (edges,), in slope order
    normals: FloatArray  # (edges, 2): the weights of each edge, summing to 1
    vertices: FloatArray  # (edges + 1, 2): approximate utilities of the vertices
    starts: FloatArray  # (groups, 2): each group's first hull point
    deltas: FloatArray  # (edges, 2): the edges, in slope order

    def after(self, g: int) -> FloatArray:
        """Vertices (``u0`` rising) of the hull of the groups after ``g``."""
        start = self.starts[g + 1 :].sum(axis=0)
        steps = np.cumsum(self.deltas[self.edge_group > g], axis=0)
        out: FloatArray = np.concatenate([start[None, :], start + steps])
        return out

    def before(self, g: int) -> FloatArray:
        """Vertices (``u0`` rising) of the hull of the groups before ``g``."""
        start = self.starts[:g].sum(axis=0)
        steps = np.cumsum(self.deltas[self.edge_group < g], axis=0)
        out: FloatArray = np.concatenate([start[None, :], start + steps])
        return out

    def choice(self, k: int) -> IntArray:
        """Each group's combination at vertex ``k``."""
        count = np.bincount(self.edge_group[:k], minlength=self.chains.shape[0])
        out: IntArray = self.chains[np.arange(self.chains.shape[0]), count]
        return out

    def package(self, groups: Sequence[Group], k: int, width: int) -> IntArray:
        """The package at vertex ``k``."""
        return _package(groups, self.choice(k), width)


def _chains(utilities: FloatArray) -> IntArray:
    """Upper-right hull vertices of each group of points ``(groups, c, 2)``, by gift wrapping.

    Each chain starts at the best point for party 1 (the best for party 0 among those)
    and goes right, each time to the point with the least steep descent (the farthest
    among equally steep ones), until the best point for party 0. Rows ``(groups,
    longest chain)``, each padded with its last vertex.
    """
    u0, u1 = utilities[..., 0], utilities[..., 1]
    top = u1.max(axis=1, keepdims=True)
    current = np.where(u1 == top, u0, -np.inf).argmax(axis=1)
    rows = np.arange(utilities.shape[0])
    columns = [current]
    active = np.ones(rows.size, dtype=bool)
    while True:
        du0 = u0 - u0[rows, current][:, None]
        du1 = u1 - u1[rows, current][:, None]
        right = du0 > 0
        active &= right.any(axis=1)
        if not active.any():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(right, du1 / np.where(right, du0, 1.0), -np.inf)
        steepest = slope.max(axis=1, keepdims=True)
        nearest = np.where(right & (slope == steepest), du0, -np.inf).argmax(axis=1)
        current = np.where(active, nearest, current)
        columns.append(current)
    out: IntArray = np.stack(columns, axis=1)
    return out


def hull(groups: Sequence[Group]) -> Hull:
    """The supported points of the sum of ``groups`` (see :class:`Hull`).

    Groups of the same size are wrapped together; the edges are sorted by slope, ties
    in the order of their groups and along each group's chain.
    """
    sizes = np.array([group.utilities.shape[0] for group in groups])
    batches = []
    for size in np.unique(sizes).tolist():
        members = np.flatnonzero(sizes == size)
        points = np.stack([groups[g].utilities for g in members.tolist()])
        batches.append((members, points, _chains(points)))
    longest = max(chain.shape[1] for _, _, chain in batches)
    padded = np.zeros((len(groups), longest), dtype=np.int64)
    starts = np.zeros((len(groups), 2))
    owner, place, steps = [], [], []
    for members, points, chain in batches:
        padded[members] = np.pad(chain, ((0, 0), (0, longest - chain.shape[1])), mode="edge")
        along = points[np.arange(members.size)[:, None], chain]  # (groups, chain, 2)
        starts[members] = along[:, 0]
        real = chain[:, 1:] != chain[:, :-1]
        row, at = np.nonzero(real)
        owner.append(members[row])
        place.append(at)
        steps.append(np.diff(along, axis=1)[row, at])
    edge_group, position = np.concatenate(owner), np.concatenate(place)
    delta = np.concatenate(steps).reshape(-1, 2)
    normals = np.stack([-delta[:, 1], delta[:, 0]], axis=1)
    normals /= normals.sum(axis=1, keepdims=True)
    order = np.lexsort((position, edge_group, normals[:, 0]))  # weight moves to party 0
    vertices = np.concatenate([starts.sum(axis=0)[None, :], delta[order]]).cumsum(axis=0)
    return Hull(padded, edge_group[order], normals[order], vertices, starts, delta[order])


@dataclass(frozen=True)
class Region:
    """``{u >= corner}``, and for ``nash`` gains' product >= level, for ``welfare`` sum >= level."""

    corner: FloatArray
    kind: str = "box"
    level: float = 0.0

    def box(self, upper: FloatArray, disagreement: FloatArray) -> FloatArray:
        """A corner below the region, when no package has ``u_p`` above ``upper_p``."""
        if self.kind == "box":
            return self.corner
        if self.kind == "welfare":
            out: FloatArray = np.maximum(self.corner, self.level - upper[::-1])
            return out
        room = (upper - disagreement)[::-1]
        with np.errstate(divide="ignore"):
            least = np.where(room > 0, self.level / np.where(room > 0, room, 1.0), np.inf)
        out = np.maximum(self.corner, disagreement + least)
        return out

    def lowest(self, weights: FloatArray, disagreement: FloatArray) -> FloatArray:
        """The smallest ``lam . u`` over the region for each row ``lam >= 0`` of ``weights``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "nash":
                return self._nash(weights, disagreement)
            if self.kind == "welfare":
                return self._welfare(weights)
            terms = np.where(weights > 0, weights * self.corner, 0.0)
        lowest: FloatArray = terms.sum(axis=1)
        return lowest

    def _nash(self, w: FloatArray, d: FloatArray) -> FloatArray:
        """On ``t = u - d >= a``, ``t0 t1 >= level``: the tangent point, clamped to the box."""
        a = np.maximum(self.corner - d, 0.0)  # gains' lower bounds (-inf corner: 0)
        w0, w1, v = w[:, 0], w[:, 1], self.level
        t0 = np.maximum(np.sqrt(v * w1 / np.where(w0 > 0, w0, 1.0)), a[0])
        if a[1] > 0:
            t0 = np.minimum(t0, v / a[1])
        curve = w0 * t0 + w1 * np.maximum(a[1], v / t0)
        corner = (w0 == 0) | (w1 == 0) | (a[0] * a[1] >= v)
        out: FloatArray = np.where(corner, w @ a, curve) + w @ d
        return out

    def _welfare(self, w: FloatArray) -> FloatArray:
        """On ``u0 + u1 >= level``, ``u >= corner``: an end of the line's part in the box."""
        (c0, c1), v = self.corner.tolist(), self.level
        w0, w1 = w[:, 0], w[:, 1]
        if np.isfinite(c0) and np.isfinite(c1) and v <= c0 + c1:
            out: FloatArray = w @ self.corner
            return out
        ends = np.full(w.shape[0], np.inf)
        if np.isfinite(c1):
            ends = np.minimum(ends, w0 * (v - c1) + w1 * c1)
        else:  # the line runs off to the right, where lam . u falls if w0 < w1
            ends = np.where(w0 < w1, -np.inf, ends)
        if np.isfinite(c0):
            ends = np.minimum(ends, w0 * c0 + w1 * (v - c0))
        else:
            ends = np.where(w1 < w0, -np.inf, ends)
        if not (np.isfinite(c0) or np.isfinite(c1)):
            ends = np.where(w0 == w1, w0 * v, -np.inf)
        return ends


@dataclass(frozen=True)
class Target:
    """What one region is for: a rule's optimum and ties, or party ``party``'s best utility.

    ``region(level)`` is where every admissible package of value at least ``level`` lies.
    """

    rule: SettlementRule | None
    party: int
    floors: FloatArray
    disagreement: FloatArray
    ideal: FloatArray

    def values(self, utilities: FloatArray) -> FloatArray:
        """The target's value of utility rows ``(n, 2)``; -inf where below the floors."""
        if self.rule is None:
            raw = utilities[:, self.party]
        else:
            raw = rule_values(self.rule, utilities.T, self.disagreement, self.ideal)
        ok = np.all(utilities >= self.floors + 2 * TOL + SLACK, axis=1)
        out: FloatArray = np.where(ok, raw, -np.inf)
        return out

    def level(self, best: float) -> float:
        """The region's level for the incumbent ``best``: :data:`MARGIN` below it (-inf
        when there is none)."""
        if not np.isfinite(best):
            return -np.inf
        return best - MARGIN * max(1.0, abs(best))

    @property
    def boxed(self) -> bool:
        """Whether every region of the target is a box (a max-min or one party's best)."""
        return self.rule in (None, SettlementRule.EGALITARIAN, SettlementRule.KS)

    def pairs(self, first: FloatArray, second: FloatArray, tail: Staircase) -> IntArray:
        """For each partial sum, the indices of ``tail`` where its best value lies."""
        low = self.floors + 2 * TOL + SLACK
        scale: FloatArray | None = None
        if self.rule is SettlementRule.EGALITARIAN:
            scale = np.ones(2)
        elif self.rule is SettlementRule.KS:
            span = np.maximum(self.ideal - self.disagreement, 0.0)
            scale = None if np.any(span <= TOL) else span  # else one term is constant
        return best_pairs(low, first, second, tail, self.disagreement, scale)

    def region(self, level: float) -> Region:
        """The region of the packages worth at least ``level`` (the floors' box at -inf)."""
        floors, d, rule = self.floors, self.disagreement, self.rule
        if rule is None:
            corner = floors.copy()
            corner[self.party] = max(corner[self.party], level)
            return Region(corner)
        if rule is SettlementRule.WELFARE and np.isfinite(level):
            return Region(floors, "welfare", level)
        if not level > 0:
            return Region(floors)
        if rule is SettlementRule.NASH:
            return Region(floors, "nash", level)
        if rule is SettlementRule.EGALITARIAN:
            return Region(np.maximum(floors, d + level))
        span = np.maximum(self.ideal - d, 0.0)
        return Region(np.where(span <= TOL, floors, np.maximum(floors, d + level * span)))


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

    def back(self, g: int, first: FloatArray, second: FloatArray, envelope: FloatArray) -> BoolArray:
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
    """Whether some point of the hull ``envelope`` (vertices, ``u0`` rising) is at least ``need``."""
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
    at = 0
    core: list[Group] = []
    for group in groups:
        mask = keep[at : at + group.utilities.shape[0]]
        at += group.utilities.shape[0]
        if not mask.any():
            return np.zeros((0, len(problem.issues)), np.int64), np.zeros((0, 2)), np.zeros(0, bool)
        core.append(
            Group(group.issues, group.options[mask], group.utilities[mask], group.twin[mask])
        )
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
    width = len(problem.issues)
    packages = [shape.package(groups, int(k), width) for k in ranked]
    packages.append(_package(groups, _climb(groups, shape.choice(int(ranked[0])), target), width))
    return float(target.values(evaluate(problem, np.stack(packages))).max())


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


def _package(groups: Sequence[Group], choice: IntArray, width: int) -> IntArray:
    """The package of each group's combination ``choice``."""
    package = np.zeros(width, dtype=np.int64)
    single = [g for g, group in enumerate(groups) if len(group.issues) == 1]
    if len(single) == len(groups):  # no clause links issues: one assignment
        issues = np.array([group.issues[0] for group in groups], dtype=np.int64)
        options = np.concatenate([group.options[:, 0] for group in groups])
        starts = np.cumsum([0] + [group.options.shape[0] for group in groups[:-1]])
        package[issues] = options[starts + choice]
        return package
    for group, c in zip(groups, choice.tolist(), strict=True):
        package[list(group.issues)] = group.options[c]
    return package


def window_settlements(
    problem: Problem, rules: Sequence[SettlementRule]
) -> dict[SettlementRule, Settlement]:
    """Each rule's optimum for 2 additive parties, without the whole frontier.

    The same answers as :func:`~backchannel.solvers.frontier_dp.dp_settlements`
    (package, value, ``has_ties``), found in the window of each rule (module docstring).
    One restricted frontier programme serves every rule asked for: it returns every
    frontier point of the union of their regions, and a point outside a rule's region
    is worse than its optimum by more than the tie tolerance, so each rule is read off
    these points as today. Kalai-Smorodinsky needs the ideal point first (one more
    restricted programme, on the regions of each party's best utility).

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
            _, utilities, _ = window_frontier(problem, groups, shape, [Target(None, p, floors, d, d)])
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
