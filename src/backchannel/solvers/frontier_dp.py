"""The exact 2-party Pareto frontier by a sparse dynamic programme over issues.

Nemhauser-Ullmann: fold the issues in one at a time, keeping only the non-dominated
partial sums ``(u_0, u_1)``; a dominated partial sum stays dominated whatever the
remaining issues add, so the last fold holds exactly the frontier of every package
that respects the clauses. For additive utilities with exactly two delegations.

* Single-issue clauses (forbid, require, at least, at most) delete options.
* Issues linked by multi-issue clauses (conditional rules, of any party, absent
  stakeholders included) are merged into a **super-issue**: the product of their
  options, filtered by those clauses. A super-issue of more than
  :data:`MAX_COMBINATIONS` combinations raises :class:`NotApplicable`.
* Utility bounds (minimum utility, reservation) are applied at the end: they are
  lower bounds on ``u_p``, so whatever dominates a package meeting them meets them
  too; a package meeting them is therefore dominated by an admissible package iff
  it is dominated at all, and the admissible frontier is the frontier of all
  packages cut by the bounds. During the folds, a partial sum that cannot meet a
  bound even with the best option of every remaining group is dropped at once.
* Before the folds, a combination that another one of its group beats for both
  parties can never reach the frontier and is dropped (:func:`pareto_groups`).
* The whole frontier (no "several packages" flags asked) folds the narrowest groups
  first (:func:`fold_order`), drops before each large fold the blocks of sums that a
  coarse envelope beats (:func:`_unbeaten`) and sorts the rest by one integer key
  (:func:`_sorted_once`); the packages come back in the smallest integer type that
  holds the options (:func:`option_type`), one row per point.
* A fold compares every partial sum with every combination of the next group; one
  that would compare more than :data:`MAX_FOLD_SUMS` raises :class:`NotApplicable`
  before it allocates anything (the frontier can have as many points as the packages
  of the issues folded so far).

Partial sums are compared on the utility keys of :mod:`~backchannel.solvers.scoring`
(equal keys are one point, and the point remembers that several packages reach it);
back-pointers per fold recover one package per point, and the reported utilities
are re-evaluated exactly. Nash, Kalai-Smorodinsky, egalitarian and welfare optima of
two parties lie on this frontier, so :func:`dp_settlements` scans it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

from backchannel.errors import AnalysisError
from backchannel.model.frontier import FrontierPoints
from backchannel.model.problem import AdditiveUtility, Clause, Problem
from backchannel.model.results import (
    FrontierResult,
    Settlement,
    SettlementRule,
    Status,
)
from backchannel.solvers.scoring import (
    TOL,
    BoolArray,
    FloatArray,
    IntArray,
    evaluate_by_issue,
    keys,
    nondominated,
    rule_value,
    rule_values,
    single_issue_masks,
    tolerance,
    utility_bounds,
)

METHOD = "frontier-dp"
MAX_COMBINATIONS = 100_000
"""Largest super-issue (product of the options of clause-linked issues)."""

MAX_FOLD_SUMS = 10_000_000
"""The most candidate sums one fold (or one swap test) may compare: about 60 bytes each."""

FOLD_BYTES = 64
"""The memory one candidate sum of a fold takes, about (measured peak: 61 bytes)."""


Packages = NDArray[np.integer[Any]]
"""Packages as rows of option indices, of the smallest integer type that fits."""


class NotApplicable(AnalysisError):
    """The frontier programme cannot answer this problem; another engine must."""


def check_sums(count: int, what: str) -> None:
    """Refuse a step of the programme that would compare more than :data:`MAX_FOLD_SUMS`.

    Raises
    ------
    NotApplicable
        With the estimate: how many sums and about how much memory.
    """
    if count > MAX_FOLD_SUMS:
        raise NotApplicable(
            f"the frontier programme would compare {count:,} {what} in one step "
            f"(about {count * FOLD_BYTES / 2**30:,.1f} GiB); it compares at most "
            f"{MAX_FOLD_SUMS:,}"
        )


@dataclass(frozen=True)
class Group:
    """A (super-)issue: its issues, its allowed option combinations and their utilities.

    ``twin[c]`` is True when combination ``c`` stands for several combinations with
    the very same utilities (see :func:`pareto_groups`).
    """

    issues: tuple[int, ...]
    options: IntArray  # (combinations, issues)
    utilities: FloatArray  # (combinations, 2)
    twin: BoolArray


PRUNE_LIMIT = 64
"""Groups with at most this many combinations lose their dominated ones before the fold."""


def require_two_additive(problem: Problem) -> None:
    """Raise :class:`NotApplicable` unless the problem has exactly two additive utilities."""
    if len(problem.utilities) != 2 or not problem.is_additive:
        raise NotApplicable("the frontier programme needs exactly two additive utilities")


def groups_of(problem: Problem) -> list[Group] | None:
    """Issues grouped by multi-issue clauses, options filtered; None when a clause is empty."""
    linked = _linked_issues(problem)
    if linked is None:
        return None
    members, links = linked
    allowed = single_issue_masks(problem)
    tables = [u.tables for u in problem.utilities if isinstance(u, AdditiveUtility)]
    by_first: dict[int, list[Clause]] = {}  # each group reads only its own clauses
    for clause in links:
        by_first.setdefault(clause[0].issue, []).append(clause)
    groups = []
    for issues in members:
        own = [clause for i in issues for clause in by_first.get(i, [])]
        group = _group(issues, allowed, own, tables)
        if group is None:
            return None
        groups.append(group)
    return groups


def _linked_issues(problem: Problem) -> tuple[list[list[int]], list[Clause]] | None:
    """The issues in groups linked by multi-issue clauses (sorted), and those clauses.

    None when some clause has no literal at all (it can never hold).
    """
    root = list(range(len(problem.issues)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    links: list[Clause] = []
    for constraint in problem.constraints:
        for clause in constraint.clauses:
            issues = sorted({lit.issue for lit in clause})
            if not issues:
                return None
            if len(issues) > 1:
                links.append(clause)
                for i in issues[1:]:
                    root[find(i)] = find(issues[0])
    members: dict[int, list[int]] = {}
    for i in range(len(root)):
        members.setdefault(find(i), []).append(i)
    return sorted(members.values()), links


def _group(
    issues: list[int],
    allowed: list[BoolArray],
    links: list[Clause],
    tables: list[tuple[FloatArray, ...]],
) -> Group | None:
    """The group of ``issues``: their allowed combinations under ``links``; None if none."""
    if len(issues) == 1:  # the common case, without the product machinery
        only = np.flatnonzero(allowed[issues[0]])
        if only.size == 0:
            return None
        utilities = np.stack([tables[p][issues[0]][only] for p in range(2)], axis=1)
        twin = np.zeros(only.size, dtype=bool)
        return Group((issues[0],), only[:, None].astype(np.int64), utilities, twin)
    choices = [np.flatnonzero(allowed[i]) for i in issues]
    if int(np.prod([c.size for c in choices])) > MAX_COMBINATIONS:
        raise NotApplicable(
            f"conditional red lines link {len(issues)} issues into more than "
            f"{MAX_COMBINATIONS} option combinations"
        )
    grid = np.meshgrid(*choices, indexing="ij")
    options = np.stack([g.reshape(-1) for g in grid], axis=1).astype(np.int64)
    column = {issue: j for j, issue in enumerate(issues)}
    keep = np.ones(options.shape[0], dtype=bool)
    for clause in links:
        if clause[0].issue in column:
            holds = np.zeros(options.shape[0], dtype=bool)
            for lit in clause:
                table = np.zeros(allowed[lit.issue].size, dtype=bool)  # option -> allowed
                table[sorted(lit.allowed)] = True
                holds |= table[options[:, column[lit.issue]]]
            keep &= holds
    options = options[keep]
    if options.shape[0] == 0:
        return None
    utilities = np.zeros((options.shape[0], 2))
    for p in range(2):
        for j, issue in enumerate(issues):
            utilities[:, p] += tables[p][issue][options[:, j]]
    twin = np.zeros(options.shape[0], dtype=bool)
    return Group(tuple(issues), options, utilities, twin)


def pareto_groups(groups: list[Group]) -> list[Group]:
    """The groups without the combinations that cannot reach the frontier.

    A combination is dropped when another one of its group is at least as good for
    both parties and better by ``2 * TOL`` for one of them (then every package using
    it is dominated by a package with a different key), or when an earlier
    combination has exactly its utilities (that one keeps ``twin`` set, so ties are
    still reported). Groups of the same size are compared together in one batch.
    """
    out = list(groups)
    by_size: dict[int, list[int]] = {}
    for g, group in enumerate(groups):
        if 1 < group.options.shape[0] <= PRUNE_LIMIT:
            by_size.setdefault(group.options.shape[0], []).append(g)
    for size, members in by_size.items():
        u = np.stack([groups[g].utilities for g in members])  # (G, C, 2): [g, other, party]
        at_least = (u[:, :, None, 0] >= u[:, None, :, 0]) & (u[:, :, None, 1] >= u[:, None, :, 1])
        gap = u[:, :, None, :] - u[:, None, :, :]
        strictly = at_least & ((gap[..., 0] >= 2 * TOL) | (gap[..., 1] >= 2 * TOL))
        same = (gap[..., 0] == 0) & (gap[..., 1] == 0)
        earlier = np.tri(size, size, -1, dtype=bool).T  # [other, c]: other < c
        dropped = strictly.any(axis=1) | (same & earlier).any(axis=1)
        twin = (same & ~np.eye(size, dtype=bool)).any(axis=1)
        for row, g in enumerate(members):
            keep = ~dropped[row]
            if keep.all() and not twin[row].any():
                continue
            group = groups[g]
            out[g] = Group(
                group.issues,
                group.options[keep],
                group.utilities[keep],
                group.twin[keep] | twin[row][keep],
            )
    return out


BLOCK_BITS = 5
BLOCK = 2**BLOCK_BITS
"""Consecutive partial sums judged together by :func:`_unbeaten` before a fold."""

BLOCKS_FROM = 16_384
"""The fewest candidate sums of a fold that :func:`_unbeaten` filters (smaller folds
cost less than the filter's own steps)."""


def _unbeaten(first: FloatArray, second: FloatArray, group: Group) -> tuple[IntArray, IntArray]:
    """The blocks of candidate sums of a fold worth comparing: their options and numbers.

    Each option's copy of the points is cut into blocks of :data:`BLOCK` consecutive
    sums; a block spans ``u_0`` from its last sum to its first, ``u_1`` from its first
    to its last. The first and last sums of every block are put in buckets of ``u_0``
    (a bucket index never decreases as ``u_0`` grows), and a whole block is dropped
    when one of them lies in a later bucket than the block's largest ``u_0`` (so has a
    larger ``u_0`` than every sum of the block) with at least the block's largest
    ``u_1``: each sum of the block is then dominated on the keys by that one, or has its
    key, and whatever beats or equals that one stays. So the fold's result (one sum
    per non-dominated key) is unchanged. Returns the blocks kept, by option then point
    (on opposed agendas, about a fifth of the sums, nearly all of them non-dominated);
    block ``b`` holds the points ``b * BLOCK`` to ``b * BLOCK + BLOCK - 1``.
    """
    count, options = first.size, group.options.shape[0]
    starts = np.arange(0, count, BLOCK)
    ends = np.minimum(starts + BLOCK, count) - 1
    u0, u1 = group.utilities[:, 0, None], group.utilities[:, 1, None]
    high0, low1 = (u0 + first[starts]).reshape(-1), (u1 + second[starts]).reshape(-1)
    low0, high1 = (u0 + first[ends]).reshape(-1), (u1 + second[ends]).reshape(-1)
    lowest, highest = float(low0.min()), float(high0.max())
    if not highest > lowest:
        alive = np.arange(options * starts.size)
    else:
        buckets = 2 * starts.size
        scale = (buckets - 1) / (highest - lowest)
        at_high = _bucket(high0, lowest, scale, buckets)
        at_low = _bucket(low0, lowest, scale, buckets)
        top = np.full(buckets + 1, -np.inf)
        np.maximum.at(top, at_high, low1)
        np.maximum.at(top, at_low, high1)
        # beyond[buckets - 1 - b]: the best u_1 of the buckets after b
        beyond = np.maximum.accumulate(top[::-1])
        alive = np.flatnonzero(beyond[buckets - 1 - at_high] < high1)
    option, block = np.divmod(alive, starts.size)
    return option, block


def _bucket(values: FloatArray, lowest: float, scale: float, buckets: int) -> IntArray:
    """``values``' buckets, ``(values - lowest) * scale`` rounded down and kept below
    ``buckets`` (a bucket never decreases as the value grows; ``values >= lowest``)."""
    scaled = np.subtract(values, lowest)
    scaled *= scale
    bucket = scaled.astype(np.int64)
    np.minimum(bucket, buckets - 1, out=bucket)
    return bucket


class Folded(NamedTuple):
    """The partial sums a fold keeps, by decreasing ``u_0`` key: each one's point of the
    previous fold, its combination of the group, and its sums."""

    parent: IntArray
    choice: IntArray
    first: FloatArray
    second: FloatArray


def _in_blocks(values: FloatArray) -> FloatArray:
    """``values`` as rows of :data:`BLOCK`, the last row filled up with the last value.

    A filler's sums equal those of the last point, which comes first: the fold never
    keeps them (the first candidate of a key is kept).
    """
    rows = -(-values.size // BLOCK)
    padded = np.empty(rows * BLOCK)
    padded[: values.size] = values
    padded[values.size :] = values[-1]
    return padded.reshape(rows, BLOCK)


def fold_whole(first: FloatArray, second: FloatArray, group: Group) -> Folded:
    """The non-dominated sums of the points ``(first, second)`` and ``group``'s options.

    The same sums as :func:`_fold` without ``multi`` (one per non-dominated key, the
    first candidate of a key kept). A large fold first drops the blocks of sums that a
    coarse envelope beats (:func:`_unbeaten`) and sorts the rest once
    (:func:`_sorted_once`); its sums are computed once, for the candidates left.
    """
    count, options = first.size, group.options.shape[0]
    check_sums(count * options, "partial sums")
    if options > 1 and count * options >= BLOCKS_FROM:
        option, block = _unbeaten(first, second, group)
        sum0 = np.take(_in_blocks(first), block, axis=0)  # rows of BLOCK sums, copied whole
        sum0 += group.utilities[option, 0, None]
        sum1 = np.take(_in_blocks(second), block, axis=0)
        sum1 += group.utilities[option, 1, None]
        sorted_ = _sorted_once(sum0.reshape(-1), sum1.reshape(-1))
        if sorted_ is not None:
            kept, second_kept = sorted_
            row = kept >> BLOCK_BITS  # candidate row * BLOCK + k is point block[row] * BLOCK + k
            parent = kept + ((block - np.arange(block.size)) << BLOCK_BITS)[row]
            return Folded(parent, option[row], sum0.reshape(-1)[kept], second_kept)
    kept, _ = _fold(first, second, None, group)
    choice, parent = np.divmod(kept, count)
    return Folded(
        parent,
        choice,
        group.utilities[choice, 0] + first[parent],
        group.utilities[choice, 1] + second[parent],
    )


def _fold(
    first: FloatArray, second: FloatArray, multi: BoolArray | None, group: Group
) -> tuple[IntArray, BoolArray | None]:
    """Non-dominated sums of the points ``(first, second)`` and ``group``'s options.

    The points come sorted by decreasing ``u_0`` key (so increasing ``u_1`` key).
    Returns the kept candidates (numbered ``option * len(points) + point``), in the
    same order, and, when ``multi`` is given, whether several packages reach each.
    Every sum is compared (the repeats of a key count); :func:`fold_whole` is the
    faster fold of the whole frontier.
    """
    count = first.size
    options = group.options.shape[0]
    check_sums(count * options, "partial sums")
    key0 = keys((group.utilities[:, 0, None] + first[None, :]).reshape(-1))
    key1 = keys((group.utilities[:, 1, None] + second[None, :]).reshape(-1))
    # The candidates come in runs (one per option) sorted by falling key0 and rising key1.
    low0, high0 = key0.min(), key0.max()
    low1, high1 = key1.min(), key1.max()
    if max(high0 - low0, high1 - low1) < 2**31:
        # One sortable key; the runs are sorted, which timsort merges quickly.
        order = np.argsort((high0 - key0) * 2**31 + (high1 - key1), kind="stable")
    else:
        order = np.lexsort((-key1, -key0))
    key0, key1 = key0[order], key1[order]
    best_before = np.maximum.accumulate(key1)
    survive = np.ones(order.size, dtype=bool)
    survive[1:] = key1[1:] > best_before[:-1]  # also drops the repeats of a key
    kept = order[survive]
    if multi is None:
        return kept, None
    # A survivor starts a run of equal keys (its repeats come right after it).
    new = np.ones(order.size + 1, dtype=bool)
    new[1:-1] = (key0[1:] != key0[:-1]) | (key1[1:] != key1[:-1])
    starts = np.flatnonzero(new)
    several = multi[order % count] | group.twin[order // count]
    shared = (np.diff(starts) > 1) | np.logical_or.reduceat(several, starts[:-1])
    run_of = np.cumsum(new[:-1]) - 1
    return kept, shared[run_of[survive]]


INDEX_BITS = 24
"""Bits of a candidate's number in :func:`_sorted_once`'s sort key (2^24 > the
:data:`MAX_FOLD_SUMS` of a fold)."""


def _sorted_once(sum0: FloatArray, sum1: FloatArray) -> tuple[IntArray, FloatArray] | None:
    """The non-dominated candidates, one per key, by one sort of integers; their ``u_1``.

    The candidates come in runs (one per option) of falling ``u_0`` and rising ``u_1``.
    The sort key is the fall of the ``u_0`` key from its largest, then the candidate's
    number, in one integer (integers sort fast, unlike pairs; timsort merges the runs).
    Runs of equal ``u_0`` keys are then ordered by falling ``u_1`` key (the first of a
    run is kept, if any). None when the keys span too much for the sort key.
    """
    packed = _keys(sum0)
    high = int(packed.max())
    if high - int(packed.min()) >= 2 ** (62 - INDEX_BITS) or packed.size >= 2**INDEX_BITS:
        return None
    np.subtract(high, packed, out=packed)
    packed <<= INDEX_BITS
    packed |= np.arange(packed.size)
    packed.sort(kind="stable")
    order = packed & (2**INDEX_BITS - 1)
    fall = packed
    fall >>= INDEX_BITS
    repeats = np.flatnonzero(fall[1:] == fall[:-1]) + 1  # few: the rest are one per key0
    if repeats.size:  # order each run of equal key0 by falling key1 (a small sort)
        members = _with_previous(repeats)
        within = _by_falling_second(fall[members], _keys(sum1[order[members]]))
        order[members] = order[members][within]
    ranked = sum1[order]
    key1 = _keys(ranked)
    best_before = np.maximum.accumulate(key1)
    survive = np.empty(order.size, dtype=bool)
    survive[0] = True
    np.greater(key1[1:], best_before[:-1], out=survive[1:])  # also drops the rest of a run
    at = np.flatnonzero(survive)
    kept: IntArray = order[at]
    return kept, ranked[at]


def _by_falling_second(fall: IntArray, second: IntArray) -> IntArray:
    """The order that sorts by ``fall`` (non-decreasing already), then by falling ``second``,
    then by position: ``np.lexsort((-second, fall))``, by one stable sort of integers
    (the grid family repeats most ``u_0`` keys: lexsort took 0.08 s of 0.16 s there)."""
    segment = np.zeros(fall.size, dtype=np.int64)
    np.cumsum(fall[1:] != fall[:-1], out=segment[1:])
    drop = second.max() - second
    if drop.size and int(drop.max()) < 2 ** (63 - INDEX_BITS):  # segments < 2^INDEX_BITS
        order: IntArray = np.argsort((segment << (63 - INDEX_BITS)) | drop, kind="stable")
        return order
    return np.lexsort((-second, fall))


def _with_previous(rising: IntArray) -> IntArray:
    """The positions ``rising`` and the ones just before them, increasing, each once.

    Without a sort (``np.union1d`` sorts, by hashing in NumPy 2, 0.15 s for the repeats of
    one fold on a grid of utilities).
    """
    both = np.empty(2 * rising.size, dtype=np.int64)
    both[0::2], both[1::2] = rising - 1, rising  # non-decreasing: rising[k] <= rising[k + 1] - 1
    new = np.ones(both.size, dtype=bool)
    new[1:] = both[1:] != both[:-1]
    members: IntArray = both[new]
    return members


def _keys(utilities: FloatArray) -> IntArray:
    """:func:`~backchannel.solvers.scoring.keys` of a long vector, with one temporary."""
    scaled = np.divide(utilities, TOL)
    np.rint(scaled, out=scaled)
    return scaled.astype(np.int64)


def fold_sums(first: FloatArray, second: FloatArray, group: Group) -> tuple[FloatArray, FloatArray]:
    """The frontier of the points ``(first, second)`` plus ``group``, in the same order."""
    folded = fold_whole(first, second, group)
    return folded.first, folded.second


def fold_order(groups: Sequence[Group]) -> IntArray:
    """The order in which to fold ``groups``: the narrowest first (the frontier is the same).

    A group's width is the sum of its utilities' ranges. Narrow groups folded first
    keep the partial sums close together, so that many share a key or dominate one
    another and the frontier of the first folds stays small; it grows in the last folds,
    with the wide groups. Measured at 320 x 6 (seconds of the programme, one seed each):
    integrative 6.7 against 18.8 in issue order and 85.6 widest first; opposed 1.7
    against 2.3 widest first.
    """
    width = np.array([float(np.ptp(g.utilities, axis=0).sum()) for g in groups])
    order: IntArray = np.argsort(width, kind="stable")
    return order


def option_type(problem: Problem) -> type[np.integer[Any]]:
    """The smallest integer type that holds every option index of ``problem``."""
    widest = max((issue.size for issue in problem.issues), default=1)
    return np.int8 if widest <= 127 else np.int16 if widest <= 32767 else np.int64


def admissible_frontier(problem: Problem, full: list[Group]) -> tuple[IntArray, FloatArray]:
    """Packages and exact utilities of the admissible frontier, from the problem's groups."""
    packages, utilities, _ = _frontier(problem, track=False, full=full)
    return np.ascontiguousarray(packages, dtype=np.int64), utilities


class Reach(Protocol):
    """Which partial sums may still reach a region of interest (see :func:`_frontier`)."""

    def __call__(self, g: int, first: FloatArray, second: FloatArray) -> BoolArray:
        """Mask of the partial sums ``(first, second)`` of groups ``0..g`` worth keeping."""
        ...


_NOTHING = np.zeros(1, dtype=np.int64)
"""What :data:`History` keeps of a fixed choice (never read: the group has one combination)."""

History = list[tuple[IntArray | None, NDArray[np.integer[Any]]]]
"""Per fold, each partial sum's parent (None: the same as before, after a fixed choice)
and its option (a group of one issue) or combination (of several issues)."""


def _frontier(
    problem: Problem, track: bool, full: list[Group] | None = None, reach: Reach | None = None
) -> tuple[Packages, FloatArray, BoolArray]:
    """Packages, exact utilities and "several packages" flags of the admissible frontier.

    The flags are only computed when ``track`` is set (else all False). ``full`` are
    the problem's groups when the caller already has them. ``reach``, when given,
    drops after each fold the partial sums whose every completion lies outside an
    upward-closed region: the result is then the frontier inside that region (plus
    perhaps some points outside it). With ``reach``, a group of one combination is
    added to every partial sum without a fold (the order of the sums cannot change),
    and ``full`` must already be Pareto groups (see :func:`frontier_within`).
    """
    require_two_additive(problem)
    n = len(problem.issues)
    if full is None:
        full = groups_of(problem)
    if full is None:
        return np.zeros((0, n), dtype=np.int64), np.zeros((0, 2)), np.zeros(0, dtype=bool)
    groups = full if reach is not None else pareto_groups(full)  # see frontier_within
    if reach is None and not track:  # free order (the rules keep the issue order's ties)
        groups = [groups[g] for g in fold_order(groups)]
    # Partial sums that cannot reach a utility bound even with the best of every
    # remaining group lead to no admissible package: they are dropped as they appear.
    limits = utility_bounds(problem)
    bounds = limits - 2 * TOL  # slack for the float noise of partial sums
    bounded = bool(np.isfinite(bounds).any())
    best = np.array([g.utilities.max(axis=0) for g in groups]).reshape(-1, 2)
    rest = np.concatenate([np.cumsum(best[::-1], axis=0)[::-1][1:], np.zeros((1, 2))])
    first, second = np.zeros(1), np.zeros(1)
    multi: BoolArray | None = np.zeros(1, dtype=bool) if track else None
    history: History = []
    small = option_type(problem)
    for g, group in enumerate(groups):
        if reach is not None and group.options.shape[0] == 1:  # a fixed choice: a shift
            first, second = first + group.utilities[0, 0], second + group.utilities[0, 1]
            if multi is not None and group.twin[0]:
                multi = np.ones(first.size, dtype=bool)
            history.append((None, _NOTHING))
            continue
        if multi is None:
            parent, choice, first, second = fold_whole(first, second, group)
        else:
            kept, multi = _fold(first, second, multi, group)
            choice, parent = np.divmod(kept, first.size)
            first = group.utilities[choice, 0] + first[parent]
            second = group.utilities[choice, 1] + second[parent]
        keep = _kept(g, first, second, rest[g], bounds if bounded else None, reach)
        parent, choice, first, second = parent[keep], choice[keep], first[keep], second[keep]
        multi = None if multi is None else multi[keep]
        history.append((parent, _picked(group, choice, small)))
        if first.size == 0:
            return np.zeros((0, n), dtype=np.int64), np.zeros((0, 2)), np.zeros(0, dtype=bool)
    by_issue = _by_issue(problem, groups, history, first.size)
    return _admissible(problem, by_issue, limits, multi)


def _kept(
    g: int,
    first: FloatArray,
    second: FloatArray,
    rest: FloatArray,
    bounds: FloatArray | None,
    reach: Reach | None,
) -> slice | BoolArray:
    """The partial sums of fold ``g`` that may still meet the ``bounds`` (with ``rest``,
    the best of the groups left) and, with ``reach``, its region.

    Without ``reach`` the sums are sorted, and those that may meet the bounds are a
    range (:func:`_within`): a slice, so nothing is copied.
    """
    if reach is None:
        return slice(None) if bounds is None else slice(*_within(first, second, rest, bounds))
    keep = reach(g, first, second)
    if bounds is not None:
        keep = keep & (first + rest[0] >= bounds[0]) & (second + rest[1] >= bounds[1])
    return slice(None) if keep.all() else keep


def _within(
    first: FloatArray, second: FloatArray, rest: FloatArray, bounds: FloatArray
) -> tuple[int, int]:
    """The range of the sums with ``first + rest[0] >= bounds[0]`` and ``second + rest[1]
    >= bounds[1]`` (the test of the other folds, float for float), found by bisection.

    The sums come by strictly falling ``u_0`` key and rising ``u_1`` key, so their floats
    fall and rise strictly: the first test holds on a prefix, the second on a suffix.
    """
    count = first.size
    prefix = _leading(count, lambda k: bool(first[k] + rest[0] >= bounds[0]))
    suffix = _leading(count, lambda k: bool(second[count - 1 - k] + rest[1] >= bounds[1]))
    return count - suffix, max(count - suffix, prefix)


def _leading(count: int, holds: Callable[[int], bool]) -> int:
    """How many of ``0, 1, ..., count - 1`` hold, when those that hold come first."""
    low, high = 0, count
    while low < high:
        middle = (low + high) // 2
        if holds(middle):
            low = middle + 1
        else:
            high = middle
    return low


def _picked(
    group: Group, choice: IntArray, small: type[np.integer[Any]]
) -> NDArray[np.integer[Any]]:
    """What :data:`History` keeps of a fold's choices: options of one issue, in few bytes."""
    if len(group.issues) == 1:
        picked: NDArray[np.integer[Any]] = group.options[:, 0].astype(small)[choice]
        return picked
    return choice


def _admissible(
    problem: Problem, by_issue: Packages, limits: FloatArray, multi: BoolArray | None
) -> tuple[Packages, FloatArray, BoolArray]:
    """The admissible non-dominated packages among ``by_issue``'s, with exact utilities.

    One package per key (the smallest when several share it), sorted by key. The folds
    usually leave the keys strictly monotone (nothing to drop, nothing to sort).
    """
    utilities = evaluate_by_issue(problem, by_issue)
    columns = np.flatnonzero(np.all(utilities >= limits - TOL, axis=1))  # the admissible
    flags = np.zeros(by_issue.shape[1], dtype=bool) if multi is None else multi
    utilities, flags = utilities[columns], flags[columns]
    point_keys = keys(utilities)
    rising = point_keys[::-1]  # the folds leave them last first
    if np.all(rising[1:, 0] > rising[:-1, 0]) and np.all(rising[1:, 1] < rising[:-1, 1]):
        chosen: IntArray = np.arange(columns.size - 1, -1, -1)  # (nondominated's answer)
        return rows_of(by_issue, columns[chosen]), utilities[chosen], flags[chosen]
    rank = np.arange(columns.size)
    by_key = np.lexsort((point_keys[:, 1], point_keys[:, 0]))
    if np.any(np.all(np.diff(point_keys[by_key], axis=0) == 0, axis=1)):  # equal keys
        rank = np.lexsort(by_issue[::-1][:, columns]).argsort()  # the smaller package wins
    chosen = nondominated(point_keys, rank)
    return rows_of(by_issue, columns[chosen]), utilities[chosen], flags[chosen]


def _by_issue(problem: Problem, groups: Sequence[Group], history: History, size: int) -> Packages:
    """The packages of the last fold's ``size`` partial sums, issue by issue.

    ``(issues, size)``, of :func:`option_type`, filled row by row by following the
    back-pointers from the last fold to the first (:func:`_fill`).
    """
    by_issue = np.empty((len(problem.issues), size), dtype=option_type(problem))
    fixed = [group for group, (link, _) in zip(groups, history, strict=True) if link is None]
    if fixed:  # fixed choices (their only combination), all at once
        issues = [i for group in fixed for i in group.issues]
        by_issue[issues] = np.concatenate([group.options[0] for group in fixed])[:, None]
    _fill(by_issue, groups, history, np.arange(size))
    return by_issue


SPREAD_FROM = 4
"""How many times more packages than partial sums a fold must have for :func:`_fill` to
rebuild the packages of those partial sums first and then copy them out."""


def _fill(by_issue: Packages, groups: Sequence[Group], history: History, at: IntArray) -> None:
    """Fill the rows of ``groups``' issues but those of fixed choices: column ``k`` for
    the last fold's sum ``at[k]``.

    Back from the last fold, each fold reads each package's option and the partial sum
    it came from. Once the partial sums of a fold are :data:`SPREAD_FROM` times fewer
    than the packages (the early folds, with the narrow groups), the packages of those
    sums are rebuilt first (the same way) and each of their issues copied out: one read
    per issue instead of two per fold.
    """
    before = np.empty(at.size, dtype=np.int64)
    for g in range(len(groups) - 1, -1, -1):
        group, (link, picked) = groups[g], history[g]
        if link is None:  # a fixed choice: filled by the caller
            continue
        if g and picked.size * SPREAD_FROM <= at.size:
            head = np.empty((by_issue.shape[0], picked.size), dtype=by_issue.dtype)
            _fill(head, groups[: g + 1], history[: g + 1], np.arange(picked.size))
            for earlier, (linked, _) in zip(groups[: g + 1], history[: g + 1], strict=True):
                for issue in earlier.issues if linked is not None else ():
                    np.take(head[issue], at, out=by_issue[issue], mode="clip")
            return
        if len(group.issues) == 1:  # (every index is in range: no bounds checks)
            np.take(picked, at, out=by_issue[group.issues[0]], mode="clip")
        else:  # issue by issue: a whole row of combinations would take 8 bytes an option
            combination = picked[at].astype(np.intp)
            for column, issue in enumerate(group.issues):
                by_issue[issue] = group.options[:, column].astype(by_issue.dtype)[combination]
        np.take(link, at, out=before, mode="clip")
        at, before = before, at


def rows_of(by_issue: Packages, columns: IntArray) -> Packages:
    """Packages ``(points, issues)``: the columns ``columns`` of ``by_issue``, transposed.

    A view when ``columns`` are all of them, last first (as the frontier's points come
    from the folds); else a copy. Either way each package's options are a row, and
    each issue's options lie contiguous in memory (Fortran order).
    """
    count = by_issue.shape[1]
    if columns.size == count and np.array_equal(columns, np.arange(count - 1, -1, -1)):
        return by_issue[:, ::-1].T
    return np.take(by_issue, columns, axis=1).T


def dp_frontier(problem: Problem) -> FrontierResult:
    """The exact Pareto frontier of the admissible packages of a 2-party additive problem.

    Raises
    ------
    NotApplicable
        Not exactly two additive utilities, or a super-issue too large.
    """
    start = time.perf_counter()
    packages, utilities, _ = _frontier(problem, track=False)
    points = FrontierPoints(packages, utilities)
    return FrontierResult(
        points=points,
        exact=True,
        status=Status.OPTIMAL if points else Status.INFEASIBLE,
        method=METHOD,
        seconds=time.perf_counter() - start,
    )


def dp_settlements(
    problem: Problem, rules: Sequence[SettlementRule]
) -> dict[SettlementRule, Settlement]:
    """Each rule's optimum, found by scanning the exact 2-party frontier.

    Ties are broken by welfare, then by the smallest option-index vector, among the
    frontier points. ``ties`` is not counted (None). ``has_ties`` is True when two
    frontier points tie or several packages reach the chosen point; False when no
    package off the frontier can tie (see :func:`_ties_only_on_frontier`); else None.

    Raises
    ------
    NotApplicable
        Not exactly two additive utilities, or a super-issue too large.
    """
    start = time.perf_counter()
    small, utilities, multi = _frontier(problem, track=True)
    packages = np.ascontiguousarray(small, dtype=np.int64)
    disagreement = np.asarray(problem.disagreement, dtype=np.float64)
    found: dict[SettlementRule, Optimum] = {}
    ideal = utilities.max(axis=0) if packages.shape[0] else disagreement
    for rule in dict.fromkeys(rules):
        if packages.shape[0]:
            chosen, value, has_ties = best_point(
                rule, utilities, packages, multi, disagreement, ideal
            )
            found[rule] = (packages[chosen], utilities[chosen], value, has_ties)
    return settlements(rules, found, METHOD, time.perf_counter() - start)


def best_point(
    rule: SettlementRule,
    utilities: FloatArray,
    packages: IntArray,
    multi: BoolArray,
    disagreement: FloatArray,
    ideal: FloatArray,
) -> tuple[int, float, bool | None]:
    """The frontier point ``rule`` chooses among ``packages``, its value and ``has_ties``.

    Ties are broken by welfare, then by the smallest option-index vector. ``has_ties``
    is True when two points tie or several packages reach the chosen point (``multi``);
    False when no package off these points can tie; else None.
    """
    values = rule_values(rule, utilities.T, disagreement, ideal)
    best = float(values.max())
    tied = np.flatnonzero(values >= best - tolerance(best))
    welfare = utilities[tied].sum(axis=1)
    top = float(welfare.max())
    finalists = tied[welfare >= top - tolerance(top)]
    chosen = int(min(finalists, key=lambda k: tuple(packages[k])))
    value = rule_value(rule, utilities[chosen], disagreement, ideal)
    has_ties: bool | None = bool(tied.size > 1 or multi[tied].any())
    if not has_ties and not _ties_only_on_frontier(
        rule, utilities[chosen], value, disagreement, ideal
    ):
        has_ties = None
    return chosen, value, has_ties


Optimum = tuple[IntArray, FloatArray, float, bool | None]
"""A rule's chosen package, its utilities, the rule's value there and ``has_ties``."""


def settlements(
    rules: Sequence[SettlementRule],
    found: dict[SettlementRule, Optimum],
    method: str,
    seconds: float,
) -> dict[SettlementRule, Settlement]:
    """The answers for ``rules`` from their optima (infeasible for a rule without one)."""
    answers: dict[SettlementRule, Settlement] = {}
    for rule in dict.fromkeys(rules):
        if rule not in found:
            answers[rule] = Settlement(
                rule, Status.INFEASIBLE, None, (), None, None, None, None, method, seconds
            )
            continue
        package, utilities, value, has_ties = found[rule]
        answers[rule] = Settlement(
            rule,
            Status.OPTIMAL,
            tuple(int(o) for o in package),
            (float(utilities[0]), float(utilities[1])),
            value,
            value,
            has_ties,
            None,
            method,
            seconds,
        )
    return answers


def _ties_only_on_frontier(
    rule: SettlementRule,
    utilities: FloatArray,
    value: float,
    disagreement: FloatArray,
    ideal: FloatArray,
) -> bool:
    """Whether every package tying with the optimum ``utilities`` reaches the same point.

    A dominated package has strictly less welfare, and a strictly smaller Nash
    product when the optimum's is positive. Under a max-min rule with a positive
    optimum, a tying package has every term at least the optimum; when every term of
    the optimum equals it, the tying package weakly dominates it, hence has its key.
    """
    if rule is SettlementRule.WELFARE:
        return True
    if value <= TOL:
        return False
    if rule is SettlementRule.NASH:
        return True
    gains = np.maximum(utilities - disagreement, 0.0)
    if rule is SettlementRule.KS:
        span = np.maximum(ideal - disagreement, 0.0)
        gains = np.where(span <= TOL, 1.0, gains / np.where(span <= TOL, 1.0, span))
    return bool(np.all(gains <= value + tolerance(value)))


def frontier_within(
    problem: Problem, groups: list[Group], reach: Reach
) -> tuple[IntArray, FloatArray, BoolArray]:
    """Packages, utilities and "several packages" flags of the frontier inside a region.

    ``groups`` are the problem's groups after :func:`pareto_groups`, perhaps without
    combinations that cannot lie in the region (a subset of such a group needs no second
    pass); ``reach`` says which partial sums may still reach it (see :func:`_frontier`).
    Every frontier point of the region is returned.
    """
    packages, utilities, flags = _frontier(problem, track=True, full=groups, reach=reach)
    return np.ascontiguousarray(packages, dtype=np.int64), utilities, flags
