"""What the window's programme looks for: regions of packages, and the targets that set them.

The four rules (Nash, Kalai-Smorodinsky, egalitarian, welfare) are increasing in both
utilities, so each one's optimum lies in the **region** ``{u >= floors, rule(u) >= V}``
for any ``V`` that an admissible package reaches; that region is convex and closed
upwards. A party's best utility (for the Kalai-Smorodinsky ideal point) lies in the box
``{u_p >= V, u >= floors}`` the same way. :class:`Region` gives each region's corner and
its lowest ``lam . u`` in closed form; :class:`Target` the value and region of a level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backchannel.model.results import SettlementRule
from backchannel.solvers.frontier_meet import Staircase, best_pairs
from backchannel.solvers.scoring import TOL, FloatArray, IntArray, rule_values

MARGIN = 1e-8
"""The region's level sits this far (relative) below the incumbent: ties stay inside.

A package ties with the optimum when its value is within ``TOL * max(1, |value|)``
(:func:`~backchannel.solvers.scoring.tolerance`, ``TOL = 1e-9``) of it: a tenth of the
margin, which leaves room for the float noise of partial sums (about ``1e-14``). Like the
whole programme, this one merges partial sums that share a key (``rint(u / TOL)``), so
where many packages lie within ``TOL`` of each other (the integrative family) the two
may keep different points within a key of each other (see ``docs/explanation/
performance.md``, issue 14 §2, 2026-12-08); no margin removes that (measured at 1e-6,
1e-7 and 1e-8)."""

SLACK = 1e-9
"""Float slack of every comparison with the region: partial sums in another order than
the exact utilities differ from them by about ``1e-14``."""


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
