"""Rule objectives, utility keys and Pareto filtering shared by the exact engines.

Conventions (the same in every engine, the validator and the test oracle)
-------------------------------------------------------------------------
* ``TOL`` is :data:`~backchannel.model.problem.UTILITY_TOLERANCE` (``1e-9``). Two rule
  values ``v <= w`` are equal when ``w - v <= TOL * max(1, |w|)``: absolute near 0,
  relative above 1 (welfare of several parties).
* The **gain** of party ``p`` is ``g_p = max(0, u_p - d_p)``: an admissible package
  may fall short of ``d_p`` by at most ``TOL`` (the admissibility tolerance of
  :meth:`Problem.constraint_holds`), and that shortfall counts as no gain.
* Rule values (definitions of :class:`~backchannel.model.results.SettlementRule`): nash
  ``prod_p g_p``; egalitarian ``min_p g_p``; welfare ``sum_p u_p``; ks
  ``min_p g_p / (ideal_p - d_p)``, a party with ``ideal_p - d_p <= TOL`` counting 1.
* Utility vectors are compared on the grid ``rint(u / TOL)`` (their **key**): the
  Pareto frontier holds one package per non-dominated key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backchannel.model.problem import UTILITY_TOLERANCE, AdditiveUtility, Constraint, Problem
from backchannel.model.results import Certificate, SettlementRule

TOL = UTILITY_TOLERANCE

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def tolerance(value: float) -> float:
    """How far below ``value`` another value may be and still tie with it."""
    return TOL * max(1.0, abs(value))


def lowest_tie(value: float) -> float:
    """A value below every one that ties with ``value`` (within :func:`tolerance`)."""
    return value - 2 * tolerance(value) - 1e-12


def rule_values(
    rule: SettlementRule, utilities: FloatArray, disagreement: FloatArray, ideal: FloatArray | None
) -> FloatArray:
    """The objective of ``rule`` for packages given as columns of ``utilities``.

    Parameters
    ----------
    utilities:
        Shape ``(parties, packages)``.
    disagreement:
        ``d_p``, shape ``(parties,)``.
    ideal:
        ``ideal_p``, the best admissible utility of each party; needed for ks only.
    """
    if rule is SettlementRule.WELFARE:
        total: FloatArray = utilities.sum(axis=0)
        return total
    gains = np.maximum(utilities - disagreement[:, None], 0.0)
    if rule is SettlementRule.NASH:
        product: FloatArray = np.prod(gains, axis=0)
        return product
    if rule is SettlementRule.EGALITARIAN:
        lowest: FloatArray = gains.min(axis=0)
        return lowest
    if ideal is None:
        raise ValueError("the Kalai-Smorodinsky value needs the ideal utilities")
    span = np.maximum(ideal - disagreement, 0.0)
    flat = span <= TOL
    ratios = gains / np.where(flat, 1.0, span)[:, None]
    ratios[flat, :] = 1.0
    worst: FloatArray = ratios.min(axis=0)
    return worst


def rule_value(
    rule: SettlementRule,
    utilities: Sequence[float] | FloatArray,
    disagreement: Sequence[float] | FloatArray,
    ideal: Sequence[float] | FloatArray | None,
) -> float:
    """The objective of ``rule`` for one package (see :func:`rule_values`)."""
    column = np.asarray(utilities, dtype=np.float64)[:, None]
    top = None if ideal is None else np.asarray(ideal, dtype=np.float64)
    return float(rule_values(rule, column, np.asarray(disagreement, dtype=np.float64), top)[0])


def single_issue_masks(problem: Problem) -> list[BoolArray]:
    """Per issue, a mask of the options that no single-issue red-line clause forbids."""
    return constraint_masks(tuple(issue.size for issue in problem.issues), problem.constraints)


def constraint_masks(sizes: tuple[int, ...], constraints: Iterable[Constraint]) -> list[BoolArray]:
    """Per issue (of ``sizes`` options each), a mask of the options that no single-issue
    clause of ``constraints`` forbids."""
    masks = [np.ones(size, dtype=bool) for size in sizes]
    for constraint in constraints:
        for clause in constraint.clauses:
            issues = {lit.issue for lit in clause}
            if len(issues) != 1:
                continue
            (issue,) = issues
            ok = np.zeros(sizes[issue], dtype=bool)
            for lit in clause:
                ok[sorted(lit.allowed)] = True
            masks[issue] &= ok
    return masks


def infeasibility_certificate(problem: Problem) -> Certificate:
    """The certificate an engine gives with "no package is admissible".

    A clash visible without search when there is one: a red line with an empty clause,
    or the red lines whose single-issue clauses together forbid every option of one
    issue. Otherwise every constraint: the engine's search found that they cannot all
    hold, and the validator proves it again without that engine.
    """
    for c in problem.constraints:
        if any(not clause for clause in c.clauses):
            return Certificate((c.id,))
    for issue, allowed in enumerate(single_issue_masks(problem)):
        if not allowed.any():
            on_issue = [
                c.id
                for c in problem.constraints
                if any({lit.issue for lit in clause} == {issue} for clause in c.clauses)
            ]
            return Certificate(tuple(on_issue))
    return Certificate(tuple(c.id for c in problem.constraints))


def utility_bounds(problem: Problem) -> FloatArray:
    """The tightest utility lower bound (min utility, reservation) of each party; -inf if none."""
    bounds = np.full(len(problem.utilities), -np.inf)
    for c in problem.constraints:
        if c.utility_party is not None:
            bounds[c.utility_party] = max(bounds[c.utility_party], c.bound)
    return bounds


def evaluate(problem: Problem, packages: IntArray) -> FloatArray:
    """Utilities of packages (rows of option indices), shape ``(packages, parties)``.

    Additive utilities are summed issue by issue from 0.0, exactly as
    :meth:`AdditiveUtility.value` does, so the floats are identical.
    """
    return evaluate_by_issue(problem, packages.T)


EVALUATE_BLOCK = 16_384
"""Packages summed together by :func:`evaluate_by_issue` (their sums stay in cache)."""


def evaluate_by_issue(problem: Problem, by_issue: NDArray[np.integer[Any]]) -> FloatArray:
    """:func:`evaluate` of packages given issue by issue, ``(issues, packages)``: the
    same floats, read row by row (fast when each issue's options are contiguous).

    Few packages: every table entry read at once (:func:`_gathered_sums`). Many: a block
    of packages at a time, each issue's options widened to indices once and read from the
    additive tables of two parties at once, as complex numbers (real part: one party,
    imaginary part: the other). Complex addition adds the two parts apart, so each
    party's sum still runs issue by issue from 0.0, float for float.
    """
    count = by_issue.shape[1]
    out = np.empty((count, len(problem.utilities)))
    additive = [p for p, u in enumerate(problem.utilities) if isinstance(u, AdditiveUtility)]
    if count * by_issue.shape[0] <= GATHER_LIMIT:
        for p in additive:
            utility = problem.utilities[p]
            assert isinstance(utility, AdditiveUtility)
            out[:, p] = _gathered_sums(utility.tables, by_issue)
    else:
        _paired_sums(problem, by_issue, additive, out)
    for p, utility in enumerate(problem.utilities):
        if not isinstance(utility, AdditiveUtility):
            out[:, p] = [utility.value(tuple(int(o) for o in row)) for row in by_issue.T]
    return out


def _paired_sums(
    problem: Problem, by_issue: NDArray[np.integer[Any]], additive: list[int], out: FloatArray
) -> None:
    """Fill ``out``'s columns of the ``additive`` parties, two at a time, block by block."""
    count = by_issue.shape[1]
    pairs = [additive[k : k + 2] for k in range(0, len(additive), 2)]
    tables = [[paired_table(problem, pair, i) for pair in pairs] for i in range(by_issue.shape[0])]
    for lo in range(0, count, EVALUATE_BLOCK):
        hi = min(lo + EVALUATE_BLOCK, count)
        totals = [np.zeros(hi - lo, dtype=np.complex128) for _ in pairs]
        for i in range(by_issue.shape[0]):
            options = by_issue[i, lo:hi].astype(np.intp)
            for total, table in zip(totals, tables[i], strict=True):
                np.add(total, table.take(options), out=total)
        for total, pair in zip(totals, pairs, strict=True):
            out[lo:hi, pair[0]] = total.real
            if len(pair) == 2:
                out[lo:hi, pair[1]] = total.imag


def paired_table(problem: Problem, parties: Sequence[int], issue: int) -> NDArray[np.complex128]:
    """The additive tables of one or two ``parties`` for ``issue``, as complex numbers.

    Real part: the first party's utilities; imaginary part: the second's (0.0 if none).
    """
    first = problem.utilities[parties[0]]
    assert isinstance(first, AdditiveUtility)
    table = np.zeros(first.tables[issue].size, dtype=np.complex128)
    table.real = first.tables[issue]
    if len(parties) == 2:
        second = problem.utilities[parties[1]]
        assert isinstance(second, AdditiveUtility)
        table.imag = second.tables[issue]
    return table


GATHER_LIMIT = 2**20
"""Packages x issues up to which :func:`evaluate_by_issue` reads every table entry at once."""


def _gathered_sums(tables: Sequence[FloatArray], by_issue: NDArray[np.integer[Any]]) -> FloatArray:
    """Each package's sum of its options' entries, added issue by issue from the first
    (``add.accumulate`` is sequential): the floats of the issue-by-issue loop, in a few
    array operations instead of one per issue."""
    sizes = np.array([table.size for table in tables])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    entries = np.concatenate(tables)[offsets[:, None] + by_issue]
    sums: FloatArray = np.add.accumulate(entries, axis=0)[-1]
    return sums


def keys(utilities: FloatArray) -> IntArray:
    """Grid keys ``rint(u / TOL)`` of utility vectors (any shape)."""
    return np.rint(utilities / TOL).astype(np.int64)


def dominated_within(values: FloatArray, weak: float, strict: float) -> BoolArray:
    """Which rows another row dominates within tolerances: at least every value - ``weak``
    and one beyond + ``strict``.

    ``weak = strict = TOL`` is how the validator reads "dominated" (utilities closer than
    TOL are equal). Rows are ``(points, parties)``.
    """
    n, parties = values.shape
    out = np.zeros(n, dtype=bool)
    if parties == 2:
        # m dominates n iff, for some party q, m beats n by more than ``strict`` on q and
        # is within ``weak`` of n (or better) on the other party r: a prefix maximum of r
        # over the rows sorted by q, cut where q exceeds n's value + ``strict``.
        for q, r in ((0, 1), (1, 0)):
            order = np.argsort(-values[:, q], kind="stable")
            sorted_q, sorted_r = values[order, q], values[order, r]
            best_r = np.maximum.accumulate(sorted_r)
            cut = np.searchsorted(-sorted_q, -(values[:, q] + strict), side="left")
            has = cut > 0
            rows = np.flatnonzero(has)
            out[rows] |= best_r[cut[rows] - 1] >= values[rows, r] - weak
        return out
    for lo in range(0, n, 512):
        block = values[lo : lo + 512]
        weakly = np.all(values[None, :, :] >= block[:, None, :] - weak, axis=2)
        strictly = np.any(values[None, :, :] > block[:, None, :] + strict, axis=2)
        out[lo : lo + 512] = (weakly & strictly).any(axis=1)
    return out


def within_tolerance_frontier(utilities: FloatArray) -> IntArray:
    """Rows to keep so that no kept row dominates another within :data:`TOL`.

    Two exactly non-dominated points can differ by less than TOL on one party and by more
    on the other (the grid keys of :func:`nondominated` tell them apart, while "closer
    than TOL is equal" makes one dominate the other). Such points are dropped; what is
    left is 1% stricter than the validator's reading, so float noise between two ways of
    summing the same utilities cannot bring a pair back. Dropping rows never makes
    another row dominated; if every row went, the one with the largest sum stays.
    """
    if utilities.shape[0] < 2:
        return np.arange(utilities.shape[0], dtype=np.int64)
    keep = np.flatnonzero(~dominated_within(utilities, 1.01 * TOL, 0.99 * TOL))
    if keep.size == 0:
        keep = np.array([int(np.argmax(utilities.sum(axis=1)))], dtype=np.int64)
    return keep.astype(np.int64)


def nondominated(points: IntArray, order: IntArray) -> IntArray:
    """Rows of ``points`` (keys) that no other row Pareto-dominates, one per distinct key.

    Among rows with equal keys the one with the smallest ``order`` is kept. Returns
    row indices, sorted by key lexicographically (first party first, ascending).

    Parameters
    ----------
    points:
        Shape ``(n, parties)`` integer keys.
    order:
        Shape ``(n,)``: the preference among equal keys (smaller wins).
    """
    n, p = points.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # Sort by key descending, party 0 first, then by order; keep the first of equal keys.
    by_key = np.lexsort((order, *(-points[:, q] for q in reversed(range(p)))))
    sorted_points = points[by_key]
    first = np.ones(n, dtype=bool)
    first[1:] = np.any(sorted_points[1:] != sorted_points[:-1], axis=1)
    rows = by_key[first]
    if p == 1:
        kept = rows[:1]
    elif p == 2:
        # Decreasing u0: a point survives when its u1 beats every earlier u1.
        second = points[rows, 1]
        best_before = np.maximum.accumulate(second)
        survive = np.ones(rows.size, dtype=bool)
        survive[1:] = second[1:] > best_before[:-1]
        kept = rows[survive]
    else:
        kept = _nondominated_many(points, rows)
    return kept[np.lexsort(tuple(points[kept, q] for q in reversed(range(p))))]


def _nondominated_many(points: IntArray, rows: IntArray) -> IntArray:
    """Block filter for 3+ parties over distinct keys ``points[rows]``.

    Rows are visited by decreasing key sum: a row can only be dominated by a row of
    larger sum (equal sums and weak dominance mean equal keys, already merged), and
    dominance is transitive, so comparing each block with the kept rows and with
    itself is exact. As keys are distinct, weak dominance by another row is strict.
    """
    sums = points[rows].sum(axis=1)
    rows = rows[np.argsort(-sums, kind="stable")]
    if rows.size > 4096:  # drop rows beaten by the best few: one cheap vectorised pass
        pivot_rows = _nondominated_many(points, rows[:64])
        rest, pivots = rows[64:], points[pivot_rows]
        beaten = np.concatenate(
            [
                _dominated_by(points[rest[lo : lo + 4096]], pivots).any(axis=1)
                for lo in range(0, rest.size, 4096)
            ]
        )
        rows = np.concatenate([pivot_rows, rest[~beaten]])
    kept: list[IntArray] = []
    front = np.zeros((0, points.shape[1]), dtype=np.int64)
    for start in range(0, rows.size, 256):
        block_rows = rows[start : start + 256]
        block = points[block_rows]
        for lo in range(0, front.shape[0], 256):
            if block_rows.size == 0:
                break
            alive = ~_dominated_by(block, front[lo : lo + 256]).any(axis=1)
            block_rows, block = block_rows[alive], block[alive]
        inside = _dominated_by(block, block)
        np.fill_diagonal(inside, False)
        survive = ~inside.any(axis=1)
        kept.append(block_rows[survive])
        front = np.concatenate([front, block[survive]])
    return np.concatenate(kept)


def _dominated_by(block: IntArray, others: IntArray) -> NDArray[np.bool_]:
    """``[i, j]``: row ``j`` of ``others`` is >= row ``i`` of ``block`` in every component."""
    weakly: NDArray[np.bool_] = others[None, :, 0] >= block[:, None, 0]
    for q in range(1, block.shape[1]):
        np.logical_and(weakly, others[None, :, q] >= block[:, None, q], out=weakly)
    return weakly
