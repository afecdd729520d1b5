"""The supported points of a sum of groups: the upper-right convex hull, and cores.

The upper-right convex hull of the groups' sums (the frontier of the relaxation where
each group may mix its options) is the Minkowski sum of the groups' own hulls: its
edges are the groups' hull edges sorted by slope, and each vertex is a package (one
combination per group), the optimum of a weighted sum ``lam . u`` for the weights
between its two edges. :mod:`~backchannel.solvers.frontier_window` reads windows and
cores off it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backchannel.solvers.frontier_dp import Group
from backchannel.solvers.scoring import BoolArray, FloatArray, IntArray


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
    for size in sorted(set(sizes.tolist())):
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


def package_of(groups: Sequence[Group], choices: IntArray, width: int) -> IntArray:
    """The packages of each row of ``choices`` (each group's combination), ``(rows, width)``.

    Every group's options are laid out once, issue by issue, and each row reads them in
    one gather (a loop over the groups per package costs a millisecond at 320 groups).
    """
    rows = np.atleast_2d(choices)
    width_of = np.array([len(group.issues) for group in groups])
    entries = np.array([group.options.size for group in groups])
    first = np.cumsum(entries) - entries  # where each group's options start, flattened
    issues = np.concatenate([np.asarray(group.issues, dtype=np.int64) for group in groups])
    owner = np.repeat(np.arange(len(groups)), width_of)
    column = np.arange(issues.size) - np.repeat(np.cumsum(width_of) - width_of, width_of)
    options = np.concatenate([group.options.reshape(-1) for group in groups])
    at = first[owner] + rows[:, owner] * width_of[owner] + column  # (rows, issues)
    packages = np.zeros((rows.shape[0], width), dtype=np.int64)
    packages[:, issues] = options[at]
    return packages


def restrict(groups: Sequence[Group], keep: BoolArray) -> list[Group] | None:
    """The groups with only the combinations ``keep`` marks (all groups' in a row).

    None when a group keeps none. A group that keeps every combination is itself; the
    others are cut from the concatenated arrays at once (a loop of masks costs more).
    """
    sizes = np.array([group.utilities.shape[0] for group in groups])
    starts = np.cumsum(sizes) - sizes
    counts = np.add.reduceat(keep.astype(np.int64), starts)
    if not counts.all():
        return None
    chosen = np.flatnonzero(keep)
    utilities = np.concatenate([group.utilities for group in groups])[chosen]
    twin = np.concatenate([group.twin for group in groups])[chosen]
    local = chosen - np.repeat(starts, counts)
    ends = np.cumsum(counts)
    whole = (counts == sizes).tolist()
    return [
        group
        if all_kept
        else Group(group.issues, group.options[local[b:e]], utilities[b:e], twin[b:e])
        for group, b, e, all_kept in zip(
            groups, (ends - counts).tolist(), ends.tolist(), whole, strict=True
        )
    ]
