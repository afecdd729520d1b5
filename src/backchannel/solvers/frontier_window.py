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

MARGIN = 1e-6
"""The region's level sits this far (relative) below the incumbent: ties stay inside."""

SLACK = 1e-7
"""Float slack of every comparison with the region (partial sums are inexact)."""

CUTS = 4
"""Edge weights per region, besides the two axes (those with the smallest budget)."""

CANDIDATES = 3
"""Vertices (best rule values first) re-evaluated exactly for the incumbent."""


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

    def package(self, groups: Sequence[Group], k: int, width: int) -> IntArray:
        """The package at vertex ``k``."""
        count = np.bincount(self.edge_group[:k], minlength=len(groups))
        combination = self.chains[np.arange(len(groups)), count]
        package = np.zeros(width, dtype=np.int64)
        for group, c in zip(groups, combination.tolist(), strict=True):
            package[list(group.issues)] = group.options[c]
        return package


def _chains(utilities: FloatArray) -> list[list[int]]:
    """Upper-right hull vertices of each group of points ``(groups, c, 2)``, by gift wrapping.

    Each chain starts at the best point for party 1 (the best for party 0 among those)
    and goes right, each time to the point with the least steep descent (the farthest
    among equally steep ones), until the best point for party 0.
    """
    count = utilities.shape[0]
    u0, u1 = utilities[..., 0], utilities[..., 1]
    top = u1.max(axis=1, keepdims=True)
    current = np.where(u1 == top, u0, -np.inf).argmax(axis=1)
    rows = np.arange(count)
    chains = [[int(c)] for c in current]
    active = np.ones(count, dtype=bool)
    while active.any():
        du0 = u0 - u0[rows, current][:, None]
        du1 = u1 - u1[rows, current][:, None]
        right = du0 > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(right, du1 / np.where(right, du0, 1.0), -np.inf)
        steepest = slope.max(axis=1, keepdims=True)
        nearest = np.where(right & (slope == steepest), du0, -np.inf).argmax(axis=1)
        active &= right.any(axis=1)
        for g in np.flatnonzero(active).tolist():
            chains[g].append(int(nearest[g]))
        current = np.where(active, nearest, current)
    return chains


def hull(groups: Sequence[Group]) -> Hull:
    """The supported points of the sum of ``groups`` (see :class:`Hull`)."""
    chains: list[list[int]] = [[] for _ in groups]
    by_size: dict[int, list[int]] = {}
    for g, group in enumerate(groups):
        by_size.setdefault(group.utilities.shape[0], []).append(g)
    for members in by_size.values():
        batch = np.stack([groups[g].utilities for g in members])
        for g, chain in zip(members, _chains(batch), strict=True):
            chains[g] = chain
    longest = max(len(c) for c in chains)
    padded = np.array([c + [c[-1]] * (longest - len(c)) for c in chains], dtype=np.int64)
    steps = [
        (g, np.diff(group.utilities[chain], axis=0))
        for g, (group, chain) in enumerate(zip(groups, chains, strict=True))
        if len(chain) > 1
    ]
    if steps:
        edge_group = np.concatenate([np.full(d.shape[0], g, dtype=np.int64) for g, d in steps])
        delta = np.concatenate([d for _, d in steps])
    else:
        edge_group, delta = np.zeros(0, dtype=np.int64), np.zeros((0, 2))
    normals = np.stack([-delta[:, 1], delta[:, 0]], axis=1)
    normals /= normals.sum(axis=1, keepdims=True)
    order = np.argsort(normals[:, 0], kind="stable")  # weight moves from party 1 to party 0
    start = sum(group.utilities[chain[0]] for group, chain in zip(groups, chains, strict=True))
    vertices = np.concatenate([np.asarray(start)[None, :], delta[order]]).cumsum(axis=0)
    return Hull(padded, edge_group[order], normals[order], vertices)


@dataclass(frozen=True)
class Region:
    """``{u >= corner}``, and for ``nash`` gains' product >= level, for ``welfare`` sum >= level."""

    corner: FloatArray
    kind: str = "box"
    level: float = 0.0

    def lowest(self, weights: FloatArray, disagreement: FloatArray) -> FloatArray:
        """The smallest ``lam . u`` over the region for each row ``lam >= 0`` of ``weights``."""
        if self.kind == "nash":
            return np.array([self._nash(w, disagreement) for w in weights])
        if self.kind == "welfare":
            return np.array([self._welfare(w) for w in weights])
        with np.errstate(invalid="ignore"):
            terms = np.where(weights > 0, weights * self.corner, 0.0)
        lowest: FloatArray = terms.sum(axis=1)
        return lowest

    def _nash(self, w: FloatArray, d: FloatArray) -> float:
        a = np.maximum(self.corner - d, 0.0)  # gains' lower bounds (-inf corner: 0)
        v = self.level
        if w[0] == 0 or w[1] == 0:
            return float(w @ a + w @ d)
        if a[0] * a[1] >= v:
            return float(w @ a + w @ d)
        t0 = float(np.sqrt(v * w[1] / w[0]))
        t0 = max(t0, float(a[0]))
        if a[1] > 0:
            t0 = min(t0, v / float(a[1]))
        return float(w[0] * t0 + w[1] * max(float(a[1]), v / t0) + w @ d)

    def _welfare(self, w: FloatArray) -> float:
        (c0, c1), v = self.corner.tolist(), self.level
        low0, low1 = np.isfinite(c0), np.isfinite(c1)
        if low0 and low1 and v <= c0 + c1:
            return float(w[0] * c0 + w[1] * c1)
        if not low0 and not low1:
            return float(w[0] * v) if w[0] == w[1] else -np.inf
        if (not low1 and w[0] < w[1]) or (not low0 and w[1] < w[0]):
            return -np.inf  # the line x0 + x1 = level runs off to where lam . u falls
        ends = ([(v - c1, c1)] if low1 else []) + ([(c0, v - c0)] if low0 else [])
        return min(float(w[0] * x + w[1] * y) for x, y in ends)


@dataclass(frozen=True)
class Cut:
    """One region's weights, its lowest values there, and per group the best values."""

    weights: FloatArray  # (k, 2)
    lowest: FloatArray  # (k,)
    rest: FloatArray  # (groups, k): best value of the groups after g


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
    problem: Problem, groups: list[Group], shape: Hull, regions: Sequence[Region]
) -> tuple[IntArray, FloatArray, BoolArray]:
    """Every frontier point inside the union of ``regions`` (perhaps a few more).

    Combinations whose ``lam``-loss exceeds a region's budget for some weight are
    dropped for that region; partial sums are kept when they can reach some region.
    """
    disagreement = np.asarray(problem.disagreement, dtype=np.float64)
    plans = [(r, *_weights(r, shape, disagreement)) for r in regions]
    keep = np.zeros(sum(g.utilities.shape[0] for g in groups), dtype=bool)
    live = []
    for _, weights, lowest in plans:
        flat, best, owner = _values(groups, weights)
        budget = best.sum(axis=0) - lowest
        if np.any(budget < -SLACK):
            continue  # no package reaches this region
        keep |= np.all(best[owner] - flat <= budget + SLACK, axis=1)
        live.append((weights, lowest))
    cuts = []
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
    for weights, lowest in live:
        _, best, _ = _values(core, weights)
        rest = np.concatenate(
            [np.cumsum(best[::-1], axis=0)[::-1][1:], np.zeros((1, best.shape[1]))]
        )
        cuts.append(Cut(weights, lowest - SLACK, rest))

    def reach(g: int, first: FloatArray, second: FloatArray) -> BoolArray:
        out = np.zeros(first.size, dtype=bool)
        for cut in cuts:
            inside = np.ones(first.size, dtype=bool)
            for (w0, w1), rest, low in zip(
                cut.weights.tolist(), cut.rest[g], cut.lowest, strict=True
            ):
                inside &= w0 * first + w1 * second + rest >= low
            out |= inside
        return out

    return frontier_within(problem, core, reach)


def _incumbent(
    problem: Problem,
    groups: list[Group],
    shape: Hull,
    floors: FloatArray,
    score: FloatArray,
) -> FloatArray | None:
    """Exact utilities of the admissible vertices among the best few by ``score``; None if none."""
    admissible = np.all(shape.vertices >= floors - SLACK, axis=1)
    ranked = np.flatnonzero(admissible)[np.argsort(-score[admissible], kind="stable")]
    if ranked.size == 0:
        return None
    width = len(problem.issues)
    packages = np.stack([shape.package(groups, int(k), width) for k in ranked[:CANDIDATES]])
    utilities = evaluate(problem, packages)
    ok = np.all(utilities >= utility_bounds(problem) - TOL, axis=1)
    return utilities[ok] if ok.any() else None


def _level(best: float) -> float:
    return best - MARGIN * max(1.0, abs(best))


def _rule_region(
    rule: SettlementRule,
    floors: FloatArray,
    disagreement: FloatArray,
    ideal: FloatArray | None,
    incumbent: FloatArray | None,
) -> Region:
    """The region where ``rule``'s optimum and its ties lie, given incumbent utilities."""
    if incumbent is None:
        return Region(floors)
    value = _level(float(rule_values(rule, incumbent.T, disagreement, ideal).max()))
    if rule is SettlementRule.WELFARE:
        return Region(floors, "welfare", value)
    if value <= 0:
        return Region(floors)
    if rule is SettlementRule.NASH:
        return Region(floors, "nash", value)
    if rule is SettlementRule.EGALITARIAN:
        return Region(np.maximum(floors, disagreement + value))
    assert ideal is not None
    span = np.maximum(ideal - disagreement, 0.0)
    corner = np.where(span <= TOL, floors, np.maximum(floors, disagreement + value * span))
    return Region(corner)


def window_settlements(
    problem: Problem, rules: Sequence[SettlementRule]
) -> dict[SettlementRule, Settlement]:
    """Each rule's optimum for 2 additive parties, without the whole frontier.

    The same answers as :func:`~backchannel.solvers.frontier_dp.dp_settlements`
    (package, value, ``has_ties``), found in the window of each rule (module docstring).

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
    disagreement = np.asarray(problem.disagreement, dtype=np.float64)
    floors = utility_bounds(problem) - 2 * TOL
    found: dict[SettlementRule, Optimum] = {}
    ideal: FloatArray | None = None
    if SettlementRule.KS in wanted:  # the ideal point first: each party's constrained best
        regions = []
        for p in range(2):
            top = _incumbent(problem, groups, shape, floors, shape.vertices[:, p])
            corner = floors.copy()
            if top is not None:
                corner[p] = max(corner[p], _level(float(top[:, p].max())))
            regions.append(Region(corner))
        _, utilities, _ = window_frontier(problem, groups, shape, regions)
        if utilities.shape[0] == 0:  # nothing is admissible
            return settlements(wanted, {}, METHOD, time.perf_counter() - start)
        ideal = utilities.max(axis=0)
    for rule in wanted:
        score = rule_values(rule, shape.vertices.T, disagreement, ideal)
        top = _incumbent(problem, groups, shape, floors, score)
        region = _rule_region(rule, floors, disagreement, ideal, top)
        packages, utilities, multi = window_frontier(problem, groups, shape, [region])
        if packages.shape[0] == 0:  # nothing is admissible
            return settlements(wanted, {}, METHOD, time.perf_counter() - start)
        chosen, value, has_ties = best_point(
            rule, utilities, packages, multi, disagreement, disagreement if ideal is None else ideal
        )
        found[rule] = (packages[chosen], utilities[chosen], value, has_ties)
    return settlements(wanted, found, METHOD, time.perf_counter() - start)
