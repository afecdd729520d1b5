"""Which options a tied optimum can still use: Lagrangian reduced-cost fixing.

The tie-break (:func:`~backchannel.solvers.cpsat.search.tie_break`) looks for the
lexicographically smallest *final* package: admissible, within the tolerance of the
rule's optimum, and within the tolerance of the best welfare among those. It does so
issue-chunk by issue-chunk, one CP-SAT solve per chunk; most of the issues of a long
agenda, however, have one option that every final package uses, and a chunk of such
issues costs a full solve for nothing. This module finds, without any solve, a set of
options per issue that contains every final package's option, so that the chunks
cover only the issues with a real choice.

Every final package ``x`` of an additive problem satisfies linear inequalities:

* welfare ``W(x) = sum_p u_p(x) >= w_floor`` (within the tolerance of the best welfare);
* ``u_p(x) >= f_p`` for every party: the utility red lines and, from the rule's value,
  a floor per party (:meth:`floors` of the objective classes);
* no option that a single-issue red line forbids.

For any weights ``mu, lambda_p >= 0`` they give ``Phi(x) = mu (W(x) - w_floor) +
sum_p lambda_p (u_p(x) - f_p) >= 0``. ``Phi`` is a sum over issues of ``c_i(x_i) =
sum_p (mu + lambda_p) u_p[i][x_i]`` minus a constant, so with ``B = max_x Phi(x)``
(the best option of every issue) each issue gives up at most ``B``: an option with
``max_j c_i(j) - c_i(o) > B`` is used by no final package. The weights that make
``B`` smallest are those of the linear relaxation's dual; a projected subgradient
descent over the simplex finds good ones in a few hundred NumPy steps, and *any*
weights give a valid answer, so the result is sound however well the descent does.
Floats are compared with a margin far above their rounding noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backchannel.model.problem import UTILITY_TOLERANCE, AdditiveUtility, Problem
from backchannel.solvers.scoring import single_issue_masks, utility_bounds

MARGIN = 1e-7
"""Slack added to every comparison (utilities are sums of a few hundred floats)."""

STEPS = 300
"""Subgradient steps of the weight search."""


Row = tuple[Sequence[float], float]
"""A linear inequality ``sum_p weight_p * u_p(x) >= rhs`` that every package sought meets."""


def final_domains(
    problem: Problem, floors: Sequence[float], welfare_floor: float
) -> list[list[int]] | None:
    """Per issue, the options a final package may use (None: not an additive problem).

    ``floors`` are lower bounds on each party's utility (``-inf`` for none) and
    ``welfare_floor`` one on the welfare, each holding for every final package; the
    utility red lines are added here. An issue with one option left is decided.
    """
    if not math.isfinite(welfare_floor):
        return None
    return domains(problem, floors, [((1.0,) * len(problem.utilities), welfare_floor)])


def domains(
    problem: Problem, floors: Sequence[float], rows: Sequence[Row] = ()
) -> list[list[int]] | None:
    """Per issue, the options that a package meeting every row and floor may use.

    ``rows`` are linear inequalities on the utilities (weights per party, right-hand
    side) and ``floors`` lower bounds on each party's utility (``-inf`` for none), each
    holding for every package sought; the utility red lines are added here. None: not
    an additive problem, or nothing to bound with.
    """
    found = lagrange(problem, floors, rows)
    return None if found is None else found.left


@dataclass(frozen=True)
class Lagrangian:
    """The best Lagrangian bound found: every package sought has ``sum_i loss[i, x_i] <= budget``.

    ``loss[i, j]`` is what option ``j`` of issue ``i`` gives up against the issue's best
    (``inf`` where the option does not exist or a single-issue red line forbids it),
    ``budget`` is ``B`` plus :data:`MARGIN`, ``left`` the options within it alone and
    ``weights`` the parties' weights (the per-issue best options for them are a good
    place to look for packages).
    """

    left: list[list[int]]
    weights: np.ndarray
    loss: np.ndarray
    budget: float


def lagrange(
    problem: Problem, floors: Sequence[float], rows: Sequence[Row] = ()
) -> Lagrangian | None:
    """:func:`domains`, with the bound that gave them (see :class:`Lagrangian`)."""
    tables = [u.tables for u in problem.utilities if isinstance(u, AdditiveUtility)]
    if len(tables) != len(problem.utilities) or not problem.issues:
        return None
    masks = single_issue_masks(problem)
    if any(not m.any() for m in masks):
        return None
    sizes = [issue.size for issue in problem.issues]
    width = max(sizes)
    u = np.zeros((len(tables), len(sizes), width))
    usable = np.zeros((len(sizes), width), dtype=bool)
    for i, mask in enumerate(masks):
        usable[i, : sizes[i]] = mask
    for p, party in enumerate(tables):
        for i, table in enumerate(party):
            u[p, i, : sizes[i]] = table
    floor = np.maximum(
        np.asarray(floors, dtype=np.float64), utility_bounds(problem) - UTILITY_TOLERANCE
    )
    return lagrange_arrays(u, usable, floor, rows)


def lagrange_arrays(
    tables: np.ndarray, usable: np.ndarray, floor: np.ndarray, rows: Sequence[Row] = ()
) -> Lagrangian | None:
    """:func:`lagrange` on ``tables[p, i, j]`` (party ``p``'s value of option ``j`` of
    part ``i``: an issue, or a group of issues and ``j`` one of its combinations),
    ``usable[i, j]`` and the utility floors (``-inf``: none)."""
    u = np.where(usable[None, :, :], tables, 0.0)  # unusable options never win a maximum
    parts = usable.shape[0]
    count = u.shape[0]
    # Every inequality as weights over the parties and a right-hand side; each row is
    # scaled to a largest weight of 1 (any weights are valid; this only helps the descent).
    bounded = np.flatnonzero(np.isfinite(floor))
    matrix = [np.eye(count)[p] for p in bounded]
    rhs = [float(floor[p]) for p in bounded]
    for weights, right in rows:
        w = np.asarray(weights, dtype=np.float64)
        top = float(np.abs(w).max()) if w.size else 0.0
        if not math.isfinite(right) or top <= 0.0 or not np.all(np.isfinite(w)):
            continue
        matrix.append(w / top)
        rhs.append(right / top)
    if not rhs:
        return None
    a_rows, b_rows = np.array(matrix), np.array(rhs)

    def budget(y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """``B`` for weights ``y``, its subgradient and the option scores."""
        a = y @ a_rows
        scores = np.where(usable, np.tensordot(a, u, axes=1), -np.inf)
        best = scores.argmax(axis=1)
        picked = u[:, np.arange(parts), best].sum(axis=1)  # u_p of the best package
        lhs = a_rows @ picked
        return float(np.dot(y, lhs - b_rows)), lhs - b_rows, scores

    best_b, best_scores, best_y = math.inf, np.zeros(0), np.zeros(0)
    # Two descents from the centre of the simplex: diminishing steps, then Polyak's steps
    # towards 0 (every row holds at some package, so ``B >= 0``; the best ``B`` is often
    # near 0, where Polyak's rule converges fast).
    for polyak in (False, True):
        y = np.full(b_rows.size, 1.0 / b_rows.size)
        for step in range(1, STEPS + 1):
            b, gradient, scores = budget(y)
            if b < best_b:
                best_b, best_scores, best_y = b, scores, y
            norm = float(np.linalg.norm(gradient))
            if norm == 0.0 or (polyak and b <= 0.0):
                break
            size = max(b, 0.0) / norm**2 if polyak else 1.0 / (norm * math.sqrt(step))
            y = _onto_simplex(y - size * gradient)
    loss = best_scores.max(axis=1, keepdims=True) - best_scores
    budget_left = max(best_b, 0.0) + MARGIN
    keep = loss <= budget_left
    left = [[int(j) for j in np.flatnonzero(keep[i])] for i in range(parts)]
    return Lagrangian(left, best_y @ a_rows, loss, budget_left)


def _onto_simplex(v: np.ndarray) -> np.ndarray:
    """The Euclidean projection of ``v`` onto ``{y >= 0, sum y = 1}``."""
    s = np.sort(v)[::-1]
    cumulative = np.cumsum(s) - 1.0
    k = np.flatnonzero(s - cumulative / np.arange(1, v.size + 1) > 0)[-1]
    projected: np.ndarray = np.maximum(v - cumulative[k] / (k + 1), 0.0)
    return projected
