"""Exact answers by vectorised enumeration of every package (small agendas).

The issues are split into an **outer block** (the first issues), iterated in Python
one option combination at a time, and an **inner block** (the last issues, at most
:func:`_inner_limit` packages) enumerated once as float64 utility arrays and boolean
constraint masks. Each outer combination adds a constant to the additive utilities
and selects masks, so memory stays constant whatever the number of packages. Flat
package numbers follow the lexicographic order of option-index vectors, so "the
smallest vector" is "the first one found".

Single-issue clauses (forbid, require, at least, at most) shrink the options of
their issue; multi-issue clauses are satisfied by an outer literal or else need
their inner literals (a cached mask); utility bounds (minimum utility, reservation)
are thresholds on the utility arrays. Rectangle utilities are rebuilt per outer
combination by adding each active term's value on its box of the inner grid.

Tolerances, gains, rule values and frontier keys follow
:mod:`backchannel.solvers.scoring`; ties are broken by welfare, then by the
smallest option-index vector, and counted exactly.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from backchannel.model.frontier import FrontierPoints
from backchannel.model.problem import AdditiveUtility, Clause, Package, Problem, RectangleUtility
from backchannel.model.results import (
    FrontierResult,
    Settlement,
    SettlementRule,
    Status,
    ZoneResult,
)
from backchannel.solvers.scoring import (
    FloatArray,
    IntArray,
    evaluate,
    infeasibility_certificate,
    keys,
    nondominated,
    rule_value,
    rule_values,
    single_issue_masks,
    tolerance,
    utility_bounds,
)

METHOD = "enumeration"
ENUMERATION_LIMIT = 6_000_000
"""Largest number of packages answered by exact enumeration."""

BoolArray = np.ndarray[tuple[int, ...], np.dtype[np.bool_]]


def _inner_limit(parties: int) -> int:
    """Largest inner block: about 2·10^6 packages, less for many parties (64 MB of utilities)."""
    return min(2**21, 2**23 // max(1, parties))


@dataclass(frozen=True)
class _Chunk:
    """The admissible packages of one outer combination."""

    offset: int  # flat number of the combination's first package
    outer: Package  # the outer options
    index: IntArray  # inner flat numbers of the admissible packages, increasing
    utilities: FloatArray  # shape (parties, admissible packages)


class _Scanner:
    """Iterates the admissible packages of a problem, chunk by chunk, in lexicographic order."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        sizes = [issue.size for issue in problem.issues]
        self.sizes = sizes
        limit = _inner_limit(len(problem.utilities))
        split, inner_count = len(sizes), 1
        while split > 0 and inner_count * sizes[split - 1] <= limit:
            split -= 1
            inner_count *= sizes[split]
        self.split = split
        self.shape = tuple(sizes[split:])
        self.inner_count = inner_count
        self.bounds = utility_bounds(problem)
        self.allowed = single_issue_masks(problem)
        clauses = [clause for c in problem.constraints for clause in c.clauses]
        self.empty = any(not clause for clause in clauses)
        inner_clauses: list[Clause] = []
        self.cross: list[Clause] = []  # multi-issue clauses with an outer literal
        for clause in clauses:
            if len({lit.issue for lit in clause}) > 1:
                inside = min(lit.issue for lit in clause) >= split
                (inner_clauses if inside else self.cross).append(clause)
        base = np.ones(self.shape, dtype=bool)
        for axis in range(len(self.shape)):
            base &= self._along(axis, self.allowed[split + axis])
        for clause in inner_clauses:
            base &= self._clause_mask(clause)
        self.base = base.reshape(-1)
        self.masks: dict[tuple[int, ...], BoolArray] = {(): self.base}
        self.inner_utilities: list[FloatArray | None] = []
        self.ranges: list[tuple[float, float]] = []
        for utility in problem.utilities:
            if isinstance(utility, AdditiveUtility):
                grid = np.zeros(1)
                for table in utility.tables[split:]:
                    grid = (grid[:, None] + table[None, :]).reshape(-1)
                self.inner_utilities.append(grid)
                self.ranges.append((float(grid.min()), float(grid.max())))
            else:
                self.inner_utilities.append(None)
                self.ranges.append((-np.inf, np.inf))

    def _along(self, axis: int, vector: BoolArray) -> BoolArray:
        """A per-option vector of one inner issue, shaped to broadcast over the inner grid."""
        shape = [1] * len(self.shape)
        shape[axis] = vector.size
        return vector.reshape(shape)

    def _clause_mask(self, clause: Clause) -> BoolArray:
        """Inner packages satisfying at least one inner literal of ``clause``."""
        mask = np.zeros(self.shape, dtype=bool)
        for lit in clause:
            if lit.issue >= self.split:
                vector = np.zeros(self.sizes[lit.issue], dtype=bool)
                vector[sorted(lit.allowed)] = True
                mask |= self._along(lit.issue - self.split, vector)
        return mask

    def _mask(self, needed: tuple[int, ...]) -> BoolArray:
        """The base mask and the inner parts of the cross clauses ``needed`` (cached)."""
        mask = self.masks.get(needed)
        if mask is None:
            mask = self.base.copy()
            for c in needed:
                mask &= self._clause_mask(self.cross[c]).reshape(-1)
            if len(self.masks) > 64:
                self.masks = {(): self.base}
            self.masks[needed] = mask
        return mask

    def _rectangle(self, utility: RectangleUtility, outer: Package) -> FloatArray:
        """Utility of every inner package for this outer combination."""
        total = np.zeros(self.shape)
        for term in utility.terms:
            axes: list[IntArray] = [np.arange(size) for size in self.shape]
            active = True
            for lit in term.literals:
                if lit.issue < self.split:
                    active = active and outer[lit.issue] in lit.allowed
                else:
                    axis = lit.issue - self.split
                    axes[axis] = np.intersect1d(axes[axis], sorted(lit.allowed))
            if active:
                total[np.ix_(*axes)] += term.value
        values: FloatArray = np.minimum(1.0, total / utility.max_value).reshape(-1)
        return values

    def chunks(self) -> Iterator[_Chunk]:
        """The admissible packages, one outer combination at a time."""
        if self.empty:
            return
        outer_sizes = self.sizes[: self.split]
        choices = [np.flatnonzero(a).tolist() for a in self.allowed[: self.split]]
        for outer in itertools.product(*choices):
            needed: list[int] = []
            for c, clause in enumerate(self.cross):
                if any(
                    lit.issue < self.split and outer[lit.issue] in lit.allowed for lit in clause
                ):
                    continue
                if all(lit.issue < self.split for lit in clause):
                    break
                needed.append(c)
            else:
                chunk = self._chunk(outer, tuple(needed), outer_sizes)
                if chunk is not None:
                    yield chunk

    def _chunk(
        self, outer: Package, needed: tuple[int, ...], outer_sizes: list[int]
    ) -> _Chunk | None:
        mask = self._mask(needed)
        columns: list[FloatArray | float] = []
        for p, utility in enumerate(self.problem.utilities):
            inner = self.inner_utilities[p]
            if inner is None:
                assert isinstance(utility, RectangleUtility)
                values = self._rectangle(utility, outer)
                mask = mask & (values >= self.bounds[p] - tolerance(0.0))
                columns.append(values)
                continue
            assert isinstance(utility, AdditiveUtility)
            constant = 0.0
            for i, option in enumerate(outer):
                constant = constant + float(utility.tables[i][option])
            threshold = self.bounds[p] - tolerance(0.0) - constant
            low, high = self.ranges[p]
            if threshold > high:
                return None
            if threshold > low:
                mask = mask & (inner >= threshold)
            columns.append(constant)
        index = np.flatnonzero(mask)
        if index.size == 0:
            return None
        utilities = np.empty((len(columns), index.size))
        for p, column in enumerate(columns):
            inner = self.inner_utilities[p]
            if inner is None:
                assert isinstance(column, np.ndarray)
                utilities[p] = column[index]
            else:
                utilities[p] = inner[index] + column
        offset = int(np.ravel_multi_index(outer, outer_sizes)) if outer else 0
        return _Chunk(offset * self.inner_count, outer, index, utilities)

    def package(self, flat: int) -> Package:
        """The option-index vector of a flat package number."""
        return tuple(int(o) for o in np.unravel_index(flat, self.sizes))


class _Best:
    """The running optimum of one rule and every candidate that may still tie with it.

    The optimum only grows, and ``v - tolerance(v)`` grows with ``v``, so keeping the
    candidates within tolerance of the running optimum keeps every final tie.
    """

    def __init__(self) -> None:
        self.best = -np.inf
        self.parts: list[tuple[FloatArray, FloatArray, IntArray]] = []

    def offer(self, values: FloatArray, welfare: FloatArray, chunk: _Chunk) -> None:
        top = float(values.max())
        if top < self.best - tolerance(self.best):
            return
        if top > self.best:
            self.best = top
            floor = top - tolerance(top)
            self.parts = [(v[v >= floor], w[v >= floor], f[v >= floor]) for v, w, f in self.parts]
        chosen = np.flatnonzero(values >= self.best - tolerance(self.best))
        self.parts.append((values[chosen], welfare[chosen], chunk.offset + chunk.index[chosen]))

    def winner(self) -> tuple[int, int]:
        """The tie-broken flat package number and the number of other optimal packages."""
        values = np.concatenate([v for v, _, _ in self.parts])
        optimal = values >= self.best - tolerance(self.best)
        welfare = np.concatenate([w for _, w, _ in self.parts])[optimal]
        flat = np.concatenate([f for _, _, f in self.parts])[optimal]
        top = float(welfare.max())
        # Chunks come in flat order, so the first winner has the smallest option vector.
        chosen = int(flat[np.flatnonzero(welfare >= top - tolerance(top))[0]])
        return chosen, int(optimal.sum()) - 1


def enumerate_zone(problem: Problem) -> ZoneResult:
    """Decide whether an admissible package exists, count them and find the viable options.

    A package is admissible when it respects every constraint (red lines of every
    party, absent stakeholders included, minimum utilities and reservations
    ``u_p >= d_p``). ``viable[i]`` lists the options of issue ``i`` used by some
    admissible package; the witness is the smallest admissible option-index vector.
    """
    start = time.perf_counter()
    scan = _Scanner(problem)
    viable = [np.zeros(size, dtype=bool) for size in scan.sizes]
    count = 0
    witness: Package | None = None
    for chunk in scan.chunks():
        if witness is None:
            witness = scan.package(chunk.offset + int(chunk.index[0]))
        count += chunk.index.size
        for i, option in enumerate(chunk.outer):
            viable[i][option] = True
        inner = viable[scan.split :]
        if not all(v.all() for v in inner):
            digits = np.unravel_index(chunk.index, scan.shape)
            for v, d in zip(inner, digits, strict=True):
                np.logical_or(v, np.bincount(d, minlength=v.size) > 0, out=v)
    return ZoneResult(
        status=Status.OPTIMAL if count else Status.INFEASIBLE,
        viable=tuple(tuple(int(o) for o in np.flatnonzero(v)) for v in viable),
        witness=witness,
        count=count,
        method=METHOD,
        seconds=time.perf_counter() - start,
        certificate=None if count else infeasibility_certificate(problem),
    )


def enumerate_settlements(
    problem: Problem, rules: Sequence[SettlementRule]
) -> dict[SettlementRule, Settlement]:
    """The optimal package of each rule, with exact tie counts.

    One pass finds ``ideal_p`` and the optima of nash, egalitarian and welfare; ks
    (which needs the ideals) takes a second pass over the admissible packages, kept
    from the first pass when they fit in memory. Values are re-evaluated exactly at
    the chosen package (``ideal_p`` too, at the package attaining it).
    """
    start = time.perf_counter()
    scan = _Scanner(problem)
    wanted = list(dict.fromkeys(rules))
    disagreement = np.asarray(problem.disagreement, dtype=np.float64)
    parties = len(problem.utilities)
    ideal = np.full(parties, -np.inf)
    ideal_flat = [0] * parties
    trackers: dict[SettlementRule, _Best] = {
        rule: _Best() for rule in wanted if rule is not SettlementRule.KS
    }
    kept: list[_Chunk] | None = [] if SettlementRule.KS in wanted else None
    kept_size = 0
    for chunk in scan.chunks():
        utilities = chunk.utilities
        tops, where = utilities.max(axis=1), utilities.argmax(axis=1)
        for q in np.flatnonzero(tops > ideal):
            ideal[q] = tops[q]
            ideal_flat[q] = chunk.offset + int(chunk.index[where[q]])
        welfare = utilities.sum(axis=0)
        for rule, tracker in trackers.items():
            tracker.offer(rule_values(rule, utilities, disagreement, None), welfare, chunk)
        if kept is not None:
            kept_size += utilities.size
            kept.append(chunk)
            if kept_size > 2**23:  # too large to keep: the ks pass scans again
                kept = None
    feasible = bool(np.isfinite(ideal).all())
    if SettlementRule.KS in wanted and feasible:
        ks = _Best()
        for chunk in kept if kept is not None else scan.chunks():
            values = rule_values(SettlementRule.KS, chunk.utilities, disagreement, ideal)
            ks.offer(values, chunk.utilities.sum(axis=0), chunk)
        trackers[SettlementRule.KS] = ks
    exact_ideal = [problem.utility(scan.package(f))[q] for q, f in enumerate(ideal_flat)]
    seconds = time.perf_counter() - start
    answers: dict[SettlementRule, Settlement] = {}
    for rule in wanted:
        if not feasible:
            answers[rule] = Settlement(
                rule, Status.INFEASIBLE, None, (), None, None, None, None, METHOD, seconds
            )
            continue
        flat, ties = trackers[rule].winner()
        package = scan.package(flat)
        utilities_at = problem.utility(package)
        value = rule_value(rule, utilities_at, problem.disagreement, exact_ideal)
        answers[rule] = Settlement(
            rule,
            Status.OPTIMAL,
            package,
            utilities_at,
            value,
            value,
            ties > 0,
            ties,
            METHOD,
            seconds,
        )
    return answers


def enumerate_frontier(problem: Problem) -> FrontierResult:
    """The exact Pareto frontier of the admissible packages, for any number of parties.

    One point per non-dominated utility key (see :mod:`~backchannel.solvers.scoring`),
    represented by its smallest option-index vector (equal keys have equal welfare,
    so this is the tie-break rule); points sorted by utility, first party first.
    """
    start = time.perf_counter()
    scan = _Scanner(problem)
    found_keys: list[IntArray] = []
    found_flat: list[IntArray] = []
    for chunk in scan.chunks():
        chunk_keys = keys(chunk.utilities).T
        flat = chunk.offset + chunk.index
        chosen = nondominated(chunk_keys, flat)
        found_keys.append(chunk_keys[chosen])
        found_flat.append(flat[chosen])
    points = FrontierPoints.of((), len(problem.issues), len(problem.utilities))
    if found_flat:
        all_keys, all_flat = np.concatenate(found_keys), np.concatenate(found_flat)
        flat = all_flat[nondominated(all_keys, all_flat)]
        packages = np.stack(np.unravel_index(flat, scan.sizes), axis=1).astype(np.int64)
        points = FrontierPoints(packages, evaluate(problem, packages).astype(np.float64))
    return FrontierResult(
        points=points,
        exact=True,
        status=Status.OPTIMAL if points else Status.INFEASIBLE,
        method=METHOD,
        seconds=time.perf_counter() - start,
    )


def admissible_packages(problem: Problem) -> IntArray:
    """Every admissible package as a row of option indices, in lexicographic order.

    For small agendas (at most :data:`ENUMERATION_LIMIT` packages); the rows take
    ``8 x issues`` bytes per admissible package.
    """
    scan = _Scanner(problem)
    flats = [chunk.offset + chunk.index for chunk in scan.chunks()]
    if not flats:
        return np.zeros((0, len(problem.issues)), dtype=np.int64)
    digits = np.unravel_index(np.concatenate(flats), scan.sizes)
    return np.stack(digits, axis=1).astype(np.int64)
