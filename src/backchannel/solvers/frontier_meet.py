"""Exact reach tests for the window's programme: the frontiers of the last groups.

The window's programme (:mod:`~backchannel.solvers.frontier_window`) folds the core's
groups in issue order and drops a partial sum when no completion by the remaining
groups can reach a rule's region. The upper-right hull of the remaining groups (their
relaxation) is a weak test where many combinations differ by little (integrative
agendas): most partial sums pass it and the programme keeps tens of thousands of them
where a few hundred lead into the region.

The exact test needs the remaining groups' own frontier, so these are folded
**backwards** as well, from the last group, each level pruned by the hull of the groups
before it (:class:`Suffixes`). The two passes meet in the middle: the backward pass
starts once the forward pass holds :data:`MEET_FROM` sums and advances while it holds no
more sums than the forward pass (measured at 320 x 6: letting it hold twice as many, or
half, costs more in all). From there on a partial sum
``s`` is kept only if some suffix sum ``t`` puts ``s + t`` in the region's box (a
staircase search, :func:`reaches`), and the best ``s + t`` of each partial sum raises
the incumbent to the optimum at once (:func:`best_pairs`).

A suffix sum dropped as dominated on the keys (``rint(u / TOL)``) leaves one at most
``TOL`` below it per fold, so each level carries a slack of ``2 TOL`` per fold behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from backchannel.solvers.frontier_dp import Group, fold_sums
from backchannel.solvers.scoring import TOL, BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class Staircase:
    """The frontier of the sums of the last groups: ``t0`` falling, ``t1`` rising.

    ``slack`` is how far below a sum that was dropped as dominated its dominator may lie.
    """

    t0: FloatArray
    t1: FloatArray
    slack: float


MEET_FROM = 256
"""The backward pass starts once the forward pass holds this many sums: below that a
fold costs its fixed overhead, whatever the pruning (measured at 320 x 6: 10 % less
time over grid, integrative, mixed and opposed seeds than starting at once)."""

Prune = Callable[[int, FloatArray, FloatArray], BoolArray]
"""Which sums of the groups ``level..`` may reach a region with the groups before ``level``."""


class Suffixes:
    """The frontiers of the sums of the core's last groups, folded backwards on demand.

    Level ``L`` is the sums of groups ``L, L+1, ...`` that ``prune`` keeps (the last
    level, past every group, is the sum 0). Only the groups of several combinations are
    folded; those of one combination are a shift, added when a level is asked for.
    """

    def __init__(self, groups: Sequence[Group], prune: Prune):
        self.groups, self.prune = groups, prune
        sizes = np.array([group.utilities.shape[0] for group in groups])
        self.moving = np.flatnonzero(sizes > 1)
        # stored[L]: the first group of several combinations from L on (past the last: G)
        ahead = np.append(self.moving, len(groups))
        self.stored = ahead[np.searchsorted(self.moving, np.arange(len(groups) + 1))]
        fixed = np.array(
            [
                group.utilities[0] if group.utilities.shape[0] == 1 else (0.0, 0.0)
                for group in groups
            ]
        ).reshape(-1, 2)
        self.fixed = np.concatenate([np.cumsum(fixed[::-1], axis=0)[::-1], np.zeros((1, 2))])
        self.level = len(groups)  # the last level folded
        self.folds = 0
        self.levels = {self.level: Staircase(np.zeros(1), np.zeros(1), 0.0)}  # moving groups only

    def at(self, level: int, size: int) -> Staircase | None:
        """Level ``level``, folding back to it while the last level holds at most ``size``.

        None when the backward pass stops before (it holds more sums than ``size``), or
        has not started (``size`` is below :data:`MEET_FROM`). Levels below ``level`` are
        forgotten: the forward pass asks for rising levels.
        """
        if size < MEET_FROM and self.level == len(self.groups):
            return None
        stored = int(self.stored[level])
        while self.level > stored and self.levels[self.level].t0.size <= size:
            self._advance()
        for old in [k for k in self.levels if self.level != k < stored]:
            del self.levels[old]
        found = self.levels.get(stored)
        if found is None:
            return None
        shift = self.fixed[level]
        return Staircase(found.t0 + shift[0], found.t1 + shift[1], found.slack)

    def _advance(self) -> None:
        last = self.levels[self.level]
        level = int(self.moving[self.moving < self.level][-1])
        t0, t1 = fold_sums(last.t0, last.t1, self.groups[level])
        shift = self.fixed[level]
        keep = self.prune(level, t0 + shift[0], t1 + shift[1])
        t0, t1 = t0[keep], t1[keep]
        self.folds += 1
        self.level = level
        rising = np.maximum.accumulate(t1) if t1.size else t1
        self.levels[level] = Staircase(t0, rising, 2 * TOL * self.folds)


def reaches(need0: FloatArray, need1: FloatArray, tail: Staircase) -> BoolArray:
    """Whether some sum ``t`` of ``tail`` has ``t >= need`` (less the tail's slack)."""
    if tail.t0.size == 0:
        return np.zeros(need0.size, dtype=bool)
    count = np.searchsorted(-tail.t0, -(need0 - tail.slack), side="right")
    best1 = tail.t1[np.maximum(count - 1, 0)]
    out: BoolArray = (count > 0) & (best1 >= need1 - tail.slack)
    return out


def best_pairs(
    low: FloatArray,
    first: FloatArray,
    second: FloatArray,
    tail: Staircase,
    origin: FloatArray,
    scale: FloatArray | None,
) -> IntArray:
    """For each partial sum, the few indices of ``tail`` where its best box value lies.

    ``low`` is the lowest admissible utilities. Along the staircase ``t0`` falls and
    ``t1`` rises, so the admissible ``t`` of a sum ``s`` form one run of indices, a
    party's best utility lies at an end of that run, and a max-min of the terms
    ``(u_p - origin_p) / scale_p`` (egalitarian, Kalai-Smorodinsky; ``scale`` None for
    a party's best utility) at the index where party 1's term overtakes party 0's, or
    just before it, or at an end. Shape ``(sums, 4)``.
    """
    t0, t1 = tail.t0, tail.t1
    last = t0.size - 1
    start = np.searchsorted(t1, low[1] - second, side="left")  # first t with u1 >= low1
    end = np.searchsorted(-t0, -(low[0] - first), side="right") - 1  # last with u0 >= low0
    if scale is None:
        cross = start
    else:
        key = t1 / scale[1] - t0 / scale[0]  # rising
        level = (first - origin[0]) / scale[0] - (second - origin[1]) / scale[1]
        cross = np.searchsorted(key, level, side="left")
    picks: IntArray = np.clip(np.stack([start, end, cross - 1, cross], axis=1), 0, last)
    return picks
