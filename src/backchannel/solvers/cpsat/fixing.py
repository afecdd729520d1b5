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

import numpy as np

from backchannel.model.problem import UTILITY_TOLERANCE, AdditiveUtility, Problem
from backchannel.solvers.scoring import single_issue_masks, utility_bounds

MARGIN = 1e-7
"""Slack added to every comparison (utilities are sums of a few hundred floats)."""

STEPS = 300
"""Subgradient steps of the weight search."""


def final_domains(
    problem: Problem, floors: Sequence[float], welfare_floor: float
) -> list[list[int]] | None:
    """Per issue, the options a final package may use (None: not an additive problem).

    ``floors`` are lower bounds on each party's utility (``-inf`` for none) and
    ``welfare_floor`` one on the welfare, each holding for every final package; the
    utility red lines are added here. An issue with one option left is decided.
    """
    tables = [u.tables for u in problem.utilities if isinstance(u, AdditiveUtility)]
    if len(tables) != len(problem.utilities) or not problem.issues:
        return None
    masks = single_issue_masks(problem)
    if any(not m.any() for m in masks):
        return None
    floor = np.maximum(
        np.asarray(floors, dtype=np.float64), utility_bounds(problem) - UTILITY_TOLERANCE
    )
    sizes = [issue.size for issue in problem.issues]
    width = max(sizes)
    # u[p, i, j] (0 where the issue lacks the option or a red line forbids it); such
    # options never win a maximum.
    u = np.zeros((len(tables), len(sizes), width))
    usable = np.zeros((len(sizes), width), dtype=bool)
    for i, mask in enumerate(masks):
        usable[i, : sizes[i]] = mask
    for p, party in enumerate(tables):
        for i, table in enumerate(party):
            u[p, i, : sizes[i]] = table
    u[:, ~usable] = 0.0
    bounded = np.flatnonzero(np.isfinite(floor))
    rows = np.concatenate([[welfare_floor], floor[bounded]])  # constraint right-hand sides
    if not np.isfinite(rows[0]):
        return None

    def budget(y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """``B`` for weights ``y`` (welfare first), the best options and their scores."""
        a = np.full(len(tables), y[0])
        a[bounded] += y[1:]
        scores = np.where(usable, np.tensordot(a, u, axes=1), -np.inf)
        best = scores.argmax(axis=1)
        picked = u[:, np.arange(len(sizes)), best].sum(axis=1)  # u_p of the best package
        lhs = np.concatenate([[picked.sum()], picked[bounded]])
        return float(np.dot(y, lhs - rows)), lhs - rows, scores

    y = np.full(rows.size, 1.0 / rows.size)
    best_b, best_scores = math.inf, np.zeros(0)
    for step in range(1, STEPS + 1):
        b, gradient, scores = budget(y)
        if b < best_b:
            best_b, best_scores = b, scores
        norm = float(np.linalg.norm(gradient))
        if norm == 0.0:
            break
        y = _onto_simplex(y - gradient / (norm * math.sqrt(step)))
    loss = best_scores.max(axis=1, keepdims=True) - best_scores
    keep = loss <= max(best_b, 0.0) + MARGIN
    return [[int(j) for j in np.flatnonzero(keep[i, : sizes[i]])] for i in range(len(sizes))]


def _onto_simplex(v: np.ndarray) -> np.ndarray:
    """The Euclidean projection of ``v`` onto ``{y >= 0, sum y = 1}``."""
    s = np.sort(v)[::-1]
    cumulative = np.cumsum(s) - 1.0
    k = np.flatnonzero(s - cumulative / np.arange(1, v.size + 1) > 0)[-1]
    projected: np.ndarray = np.maximum(v - cumulative[k] / (k + 1), 0.0)
    return projected
