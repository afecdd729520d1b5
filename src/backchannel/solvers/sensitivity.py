"""The smallest change of the ratings that changes a recommendation.

A perturbation of size ``e`` moves every rating by at most ``e`` points, clipped to
0-100 (see :mod:`backchannel.solvers.perturbation`): the table entry
``t = weight x rating / 100`` of an option can rise by ``min(e x weight / 100,
weight - t)`` and fall by ``min(e x weight / 100, t)``. The **threshold** of a
recommended package ``x`` is the largest ``e`` such that no perturbation of size at
most ``e`` makes the rule recommend another package; just above it some
perturbation does.

* **welfare** (``sum_p u_p``, linear in the ratings): the threshold is computed
  exactly. The answer changes when ``x`` loses admissibility (some party's utility of
  ``x``, every rating of ``x``'s options lowered, falls below its minimum or
  reservation) or when another package ``y`` that respects every red line becomes
  admissible and better (or equal, when ``y`` wins the tie-break): raising every
  party's ratings of ``y``'s options and lowering those of ``x``'s options (on the
  issues where they differ) is the best a perturbation can do for ``y`` against
  ``x``, and each condition is a sum of terms ``min(slope x e, room)``, concave and
  piecewise linear in ``e``, whose smallest root is found exactly (:func:`reach`).
  The threshold is the smallest root over every ``y`` and every party.
* **nash, egalitarian**: a proven lower bound, rival by rival (:func:`_pairwise`):
  the same push on the issues where ``x`` and ``y`` differ, the best common shift
  on the issues where they agree; it is the threshold itself except where a rival
  can tie ``x`` without getting ahead of it.
* **ks**: a proven lower bound. At size ``e`` every utility lies in an interval
  (each rating of a package at most ``e`` points off, clipped); the rule's value is
  monotone in the utilities and in the ideal point, so when the lowest value ``x``
  can take beats the highest value any other package can take, ``x`` stays the
  recommendation.

Bounds are found by bisection on ``e`` (each test being monotone in ``e``). A
perturbation that does change the answer (a sweep's sample, or a directed search,
:func:`backchannel.solvers.perturbation.directed_search`) bounds the threshold from
above; when the two meet, the threshold is known.

Both need every package that respects the red lines, so they run on agendas of at
most :data:`ANALYSIS_LIMIT` packages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backchannel.model.problem import UTILITY_TOLERANCE, AdditiveUtility, Package, Problem
from backchannel.model.results import SettlementRule
from backchannel.solvers.enumeration import admissible_packages
from backchannel.solvers.scoring import (
    TOL,
    FloatArray,
    IntArray,
    rule_values,
    tolerance,
    utility_bounds,
)

ANALYSIS_LIMIT = 200_000
"""The most packages an agenda may have for the threshold to be computed."""

BLOCK = 4096
"""Packages handled at once (memory: block x parties x issues floats)."""

BISECTION_STEPS = 40
"""Halvings of ``[0, 100]`` points for a lower bound: about 1e-10 points apart."""


@dataclass(frozen=True)
class Threshold:
    """How far the ratings may move before the recommendation changes.

    ``points`` is ``None`` when no perturbation within 0-100 can change it (``x`` is
    the only package that can ever be admissible). ``exact`` tells an exact threshold
    (welfare) from a proven lower bound (the other rules).
    """

    points: float | None
    exact: bool


@dataclass(frozen=True)
class _Rooms:
    """Per-party, per-issue slopes and rooms of a problem, for some packages."""

    slopes: FloatArray  # (parties, issues): table units per rating point
    up: FloatArray  # (packages, parties, issues): room to rise at each package's options
    down: FloatArray  # (packages, parties, issues): room to fall
    utilities: FloatArray  # (packages, parties)


def _rooms(problem: Problem, packages: IntArray) -> _Rooms:
    parties, issues = len(problem.utilities), len(problem.issues)
    slopes = np.zeros((parties, issues))
    up = np.zeros((packages.shape[0], parties, issues))
    down = np.zeros_like(up)
    for p, utility in enumerate(problem.utilities):
        assert isinstance(utility, AdditiveUtility)
        for i, table in enumerate(utility.tables):
            weight = float(utility.weights[i])
            if weight <= 0:
                continue
            slopes[p, i] = weight / 100.0
            values = table[packages[:, i]]
            up[:, p, i] = weight - values
            down[:, p, i] = values
    utilities = np.zeros((packages.shape[0], parties))
    for p, utility in enumerate(problem.utilities):
        assert isinstance(utility, AdditiveUtility)
        for i, table in enumerate(utility.tables):  # in issue order, as AdditiveUtility.value
            utilities[:, p] = utilities[:, p] + table[packages[:, i]]
    return _Rooms(slopes, np.maximum(up, 0.0), np.maximum(down, 0.0), utilities)


def reach(
    slopes: FloatArray, rooms: FloatArray, target: FloatArray, *, strict: bool | NDArray[np.bool_]
) -> FloatArray:
    """Per row, the smallest ``e >= 0`` with ``f(e) = sum_k min(slopes_k e, rooms_k) >= target``.

    With ``strict``, the infimum of the ``e`` with ``f(e) > target`` (the same number,
    ``f`` being concave and non-decreasing, except that it must exist). ``inf`` where
    the whole room ``f(100)`` falls short of the target (or only equals it, with
    ``strict``). Rows are independent; every
    room is at most ``100 x slope`` (a rating moves at most 100 points), so every
    breakpoint ``rooms_k / slopes_k`` lies in ``[0, 100]``.

    Parameters
    ----------
    slopes, rooms:
        Shape ``(rows, terms)``, non-negative.
    target:
        Shape ``(rows,)``.
    """
    rooms = np.where(slopes > 0, rooms, 0.0)
    safe = np.where(slopes > 0, slopes, 1.0)
    breaks = np.where(slopes > 0, np.minimum(rooms / safe, 100.0), 100.0)
    order = np.argsort(breaks, axis=1, kind="stable")
    breaks = np.take_along_axis(breaks, order, axis=1)
    slope = np.take_along_axis(slopes, order, axis=1)
    room = np.take_along_axis(rooms, order, axis=1)
    total = slope.sum(axis=1, keepdims=True)
    saturated = np.cumsum(room, axis=1)  # rooms of the terms up to each breakpoint
    rising = total - np.cumsum(slope, axis=1)  # slopes of the terms after it
    at_break = saturated + breaks * rising
    enough = at_break >= target[:, None]
    found = enough.any(axis=1)
    first = np.argmax(enough, axis=1)
    rows = np.arange(target.size)
    before_room = np.where(first > 0, saturated[rows, np.maximum(first - 1, 0)], 0.0)
    before_slope = np.where(first > 0, rising[rows, np.maximum(first - 1, 0)], total[:, 0])
    with np.errstate(all="ignore"):
        inside = (target - before_room) / before_slope
    inside = np.where(before_slope > 0, inside, breaks[rows, first])
    root = np.where(found, np.clip(inside, 0.0, 100.0), np.inf)
    whole = room.sum(axis=1)
    possible = np.where(strict, whole > target, whole >= target)
    out: FloatArray = np.where(possible, np.where(target <= 0, 0.0, root), np.inf)
    return out


def _competitors(problem: Problem, package: Package) -> IntArray:
    """Every package other than ``package`` that respects every red line (bounds aside)."""
    red_lines_only = problem.without(c.id for c in problem.constraints if c.is_utility)
    rows = admissible_packages(red_lines_only)
    keep = np.any(rows != np.asarray(package, dtype=np.int64)[None, :], axis=1)
    return rows[keep]


def threshold(problem: Problem, rule: SettlementRule, package: Package) -> Threshold | None:
    """The threshold of ``package``, recommended by ``rule`` (``None``: agenda too large).

    Exact for welfare, a proven lower bound for the other rules (see the module).
    """
    if problem.n_packages > ANALYSIS_LIMIT:
        return None
    others = _competitors(problem, package)
    mine = _rooms(problem, np.asarray([package], dtype=np.int64))
    if rule is SettlementRule.WELFARE:
        return Threshold(_welfare(problem, package, others, mine), exact=True)
    if rule in (SettlementRule.NASH, SettlementRule.EGALITARIAN):
        return Threshold(_pairwise(problem, rule, package, others, mine), exact=False)
    return Threshold(_bound(problem, rule, others, mine), exact=False)


def runner_ups(
    problem: Problem, rule: SettlementRule, package: Package, count: int
) -> list[Package]:
    """The ``count`` other packages with the best values of ``rule``, among those that
    respect every red line (bounds aside), best first; none when the agenda is too large."""
    if problem.n_packages > ANALYSIS_LIMIT:
        return []
    others = _competitors(problem, package)
    if others.shape[0] == 0:
        return []
    utilities = _rooms(problem, others).utilities
    disagreement = np.asarray(problem.disagreement, dtype=np.float64)
    values = _value(rule, utilities, disagreement, utilities.max(axis=0))
    best = np.argsort(-values, kind="stable")[:count]
    return [tuple(int(o) for o in others[k]) for k in best]


def _drop(problem: Problem, mine: _Rooms) -> float:
    """The smallest size at which ``x`` can fall below some party's minimum or reservation."""
    bounds = utility_bounds(problem)
    best = np.inf
    for p in np.flatnonzero(np.isfinite(bounds)):  # every rating of x's options lowered
        target = np.asarray([mine.utilities[0, p] - bounds[p]])
        drop = reach(mine.slopes[p][None, :], mine.down[0, p][None, :], target, strict=True)
        best = min(best, float(drop[0]))
    return float(best)


def _largest(safe: Callable[[float], bool]) -> float | None:
    """The largest size in ``[0, 100]`` at which ``safe`` holds (monotone), by bisection.

    ``None`` when it holds at 100 points (nothing can change the answer).
    """
    if not safe(0.0):
        return 0.0
    if safe(100.0):
        return None
    low, high = 0.0, 100.0
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        low, high = (middle, high) if safe(middle) else (low, middle)
    return low


def _pairwise(
    problem: Problem, rule: SettlementRule, package: Package, others: IntArray, mine: _Rooms
) -> float | None:
    """A lower bound for nash or egalitarian, rival by rival (tight but for ties).

    Against one rival ``y``, the best perturbation raises ``y``'s ratings and lowers
    ``x``'s on the issues where they differ (both rules are monotone in every
    utility), which gives gains ``A_p`` (of ``y``) and ``B_p`` (of ``x``); the ratings
    of the options they share move both by the same ``s_p``, within
    ``[-shared room down, shared room up]``, and ``y`` must stay admissible:
    ``A_p + s_p >= c_p = bound_p - d_p``. (Where ``B_p + s_p`` could fall below
    ``c_p``, ``x`` itself could be made inadmissible: :func:`_drop` covers that.)

    * nash: ``prod (A_p + s_p) >= prod (B_p + s_p)`` for some ``s``; each factor
      ``(A_p + s_p) / (B_p + s_p)`` depends on ``s_p`` alone and is monotone in it, so
      the best ratio ``R`` has ``s_p`` the lowest allowed when ``A_p > B_p`` and the
      highest otherwise; since the engine's ties are within an absolute tolerance,
      ``y`` counts as reaching ``x`` unless ``(1 - R)`` times ``x``'s smallest product
      exceeds it;
    * egalitarian: ``min (A + s) >= min (B + s)`` for some ``s`` exactly when, for some
      party ``q`` with ``A_q >= B_q``, every other party ``p`` has
      ``A_p + high_p >= B_q + low_q`` (``q`` the party at ``x``'s minimum).

    A rival that can only *tie* counts as changing the answer (the tie-break by
    welfare might favour it), so the size is a proven lower bound; it is the exact
    threshold whenever reaching a tie means getting strictly ahead just after.
    """
    theirs = _rooms(problem, others)
    bounds = utility_bounds(problem)
    disagreement = np.asarray(problem.disagreement, dtype=np.float64)
    # c_p; a rival counts as admissible within the problem's tolerance, as the engine does
    floor = np.where(np.isfinite(bounds), bounds - UTILITY_TOLERANCE - disagreement, -np.inf)
    differs = (others != np.asarray(package, dtype=np.int64)[None, :])[:, None, :]  # (n, 1, i)
    gain_y = theirs.utilities - disagreement[None, :]
    gain_x = (mine.utilities - disagreement[None, :])[0]
    dropped = _drop(problem, mine)

    def moved(size: float, rooms: FloatArray, where: NDArray[np.bool_]) -> FloatArray:
        change = np.minimum(mine.slopes[None, :, :] * size, rooms) * where
        total: FloatArray = change.sum(axis=2)
        return total

    def safe(size: float) -> bool:
        if size >= dropped:
            return False
        if others.shape[0] == 0:
            return True
        a = gain_y + moved(size, theirs.up, differs)
        b = gain_x[None, :] - moved(size, mine.down, differs)
        high = moved(size, mine.up, ~differs)
        low = np.maximum(-moved(size, mine.down, ~differs), floor[None, :] - a)
        possible = np.all(low <= high + TOL, axis=1)
        a, b, high, low = a[possible], b[possible], high[possible], low[possible]
        if rule is SettlementRule.NASH:
            shift = np.where(a > b, low, high)
            mine_value = np.prod(np.maximum(b + shift, 0.0), axis=1)
            theirs_value = np.prod(np.maximum(a + shift, 0.0), axis=1)
            # Every shift keeps theirs <= ratio x mine; a tie within the engine's absolute
            # tolerance comes easiest where x's product is smallest (every shift lowest).
            lowest = np.prod(np.maximum(b + low, 0.0), axis=1)
            highest = np.prod(np.maximum(b + high, 0.0), axis=1)
            short = 1.0 - theirs_value / np.where(mine_value > 0, mine_value, 1.0)
            close = short * lowest <= TOL * np.maximum(1.0, highest)
            return not bool(np.any((mine_value <= 0) | close))
        for q in range(a.shape[1]):
            level = b[:, q] + low[:, q] - TOL
            ahead = a[:, q] >= b[:, q] - TOL
            for p in range(a.shape[1]):
                if p != q:
                    ahead &= a[:, p] + high[:, p] >= level
            if np.any(ahead):
                return False
        return True

    return _largest(safe)


def _finite(value: float) -> float | None:
    return None if not np.isfinite(value) else value


def _welfare(problem: Problem, package: Package, others: IntArray, mine: _Rooms) -> float | None:
    bounds = utility_bounds(problem)
    limited = np.flatnonzero(np.isfinite(bounds))
    issues = mine.slopes.shape[1]
    best = _drop(problem, mine)
    mine_welfare = float(mine.utilities[0].sum())
    x = np.asarray(package, dtype=np.int64)
    for start in range(0, others.shape[0], BLOCK):
        rows = others[start : start + BLOCK]
        theirs = _rooms(problem, rows)
        differs = (rows != x[None, :])[:, None, :]  # (n, 1, issues)
        slopes = np.broadcast_to(mine.slopes, theirs.up.shape) * differs
        gain_slopes = np.concatenate([slopes, slopes], axis=1).reshape(rows.shape[0], -1)
        down = np.broadcast_to(mine.down, theirs.up.shape)
        gain_rooms = np.concatenate([theirs.up, down], axis=1).reshape(rows.shape[0], -1)
        gap = mine_welfare - theirs.utilities.sum(axis=1)
        differing = rows != x[None, :]
        first = np.argmax(differing, axis=1)
        earlier = rows[np.arange(rows.shape[0]), first] < x[first]  # y wins a welfare tie
        root = reach(gain_slopes, gain_rooms, gap, strict=~earlier)
        for p in limited:  # y rises to every bound
            need = bounds[p] - UTILITY_TOLERANCE - theirs.utilities[:, p]
            lift_slopes = np.broadcast_to(mine.slopes[p], (rows.shape[0], issues))
            lift = reach(lift_slopes, theirs.up[:, p, :], need, strict=False)
            root = np.maximum(root, lift)
        if root.size:
            best = min(best, float(root.min()))
    return _finite(best)


def _bound(problem: Problem, rule: SettlementRule, others: IntArray, mine: _Rooms) -> float | None:
    theirs = _rooms(problem, others)
    bounds = utility_bounds(problem)
    disagreement = np.asarray(problem.disagreement, dtype=np.float64)

    def moved(size: float, rooms: FloatArray) -> FloatArray:
        change: FloatArray = np.minimum(mine.slopes[None, :, :] * size, rooms).sum(axis=2)
        return change

    def safe(size: float) -> bool:
        low_x = mine.utilities - moved(size, mine.down)  # (1, parties)
        if np.any(low_x[0] < bounds):
            return False
        high = theirs.utilities + moved(size, theirs.up)  # (n, parties)
        low = theirs.utilities - moved(size, theirs.down)
        possible = np.all(high >= bounds[None, :] - UTILITY_TOLERANCE, axis=1)
        if not possible.any():
            return True
        high = high[possible]
        ideal_high = np.maximum(high.max(axis=0), (mine.utilities + moved(size, mine.up))[0])
        sure = np.all(low >= bounds[None, :], axis=1)
        ideal_low = np.maximum(low[sure].max(axis=0, initial=-np.inf), low_x[0])
        if rule is SettlementRule.KS and np.any(ideal_low - disagreement <= tolerance(0.0)):
            return False
        worst = _value(rule, low_x, disagreement, ideal_high)[0]
        rivals = _value(rule, high, disagreement, ideal_low)
        return bool(rivals.max() < worst - tolerance(worst))

    return _largest(safe)


def _value(
    rule: SettlementRule, utilities: FloatArray, disagreement: FloatArray, ideal: FloatArray
) -> FloatArray:
    """Rule values of packages given as rows (``rule_values`` takes columns)."""
    return rule_values(rule, utilities.T, disagreement, ideal)
