"""Whether a clash set can hold, decided without the engine that named it.

An engine that answers "no package is admissible" names a clash (a
:class:`~backchannel.model.results.Certificate`): constraints that cannot all hold
together. :func:`decide` proves that they cannot, or finds a package that respects
them all (a witness, which refutes the answer), in steps from cheap to dear. Each
step is sound on its own; every witness is checked with the model's own
:meth:`~backchannel.model.problem.Problem.violated` before it refutes anything.

1. **Components.** Issues that a clause of the clash links (and, for a party with a
   utility floor and a non-additive utility, the issues of one of its terms) form a
   component; every other issue is a component of its own. The option combinations
   of each component that respect the clash's clauses are enumerated (at most
   :data:`COMPONENT_LIMIT`). A component with none proves the clash; without a
   utility floor (minimum utility, reservation), one combination per component is a
   witness.
2. **Weighted bounds.** Floors are lower bounds ``u_p >= b_p``. For weights
   ``l_p >= 0``, ``sum_p l_p u_p`` is at most the sum over the components of their
   best combination for that weighted sum: the issues no clause touches count with
   their best contribution. When that is below ``sum_p l_p b_p`` (less the
   tolerance), no package meets every floor. Each party alone is tried first (for a
   single party this decides), then weights between the parties.
3. **Joint search.** Combinations that another one of the same component beats for
   every party with a floor are dropped (a package using one would still meet every
   floor with the other); the rest are combined component by component, dropping
   partial packages that cannot reach a floor even with the best of the components
   left. Exact either way while at most :data:`JOINT_LIMIT` partial packages remain.
4. **Re-solving** (when asked). The restricted problem (the clash's constraints only)
   is re-solved by an engine other than the one that answered: the 2-party frontier
   programme (a Pareto dynamic programme in floats), exact enumeration (at most
   :data:`~backchannel.solvers.enumeration.ENUMERATION_LIMIT` packages) or CP-SAT (an
   integer model searched by a SAT solver, within :data:`RESOLVE_SECONDS`). They
   share nothing with each other but the compiled problem.

A non-additive (rectangle) utility is bounded by its uncapped sum of term values:
``min(1, s) <= s``, so the steps above stay sound for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from backchannel.errors import AnalysisError
from backchannel.model.problem import (
    UTILITY_TOLERANCE,
    AdditiveUtility,
    Clause,
    Package,
    Problem,
    RectangleUtility,
)
from backchannel.model.results import Status, ZoneResult
from backchannel.solvers.cpsat import cpsat_zone
from backchannel.solvers.dp_zone import dp_zone
from backchannel.solvers.enumeration import ENUMERATION_LIMIT, enumerate_zone
from backchannel.solvers.scoring import BoolArray, FloatArray, IntArray

COMPONENT_LIMIT = 2**20
"""Most option combinations of one component enumerated (before its clauses filter them)."""

JOINT_LIMIT = 2**16
"""Most partial packages the joint search keeps at once."""

RESOLVE_SECONDS = 10.0
"""Time limit of a CP-SAT re-solve."""

SLACK = 1e-11
"""Float noise allowed for when a bound is compared with a floor (sums in another order)."""

ENUMERATED = "issue enumeration"
"""The proof of steps 1 to 3."""


@dataclass(frozen=True)
class Verdict:
    """What :func:`decide` found: a proof (how), a witness, or neither (undecided)."""

    proof: str | None = None
    witness: Package | None = None


@dataclass(frozen=True)
class _Component:
    """Some issues, their combinations that respect the clauses, and their floor values."""

    issues: tuple[int, ...]
    options: IntArray  # (combinations, issues)
    values: FloatArray  # (combinations, parties with a floor)


def decide(
    problem: Problem,
    clash: Sequence[str],
    answered_by: str,
    resolve: bool,
    seconds: float = RESOLVE_SECONDS,
) -> Verdict:
    """Whether the constraints ``clash`` of ``problem`` can all hold (module doc).

    Parameters
    ----------
    problem:
        The compiled problem.
    clash:
        Ids of some of its constraints.
    answered_by:
        The ``method`` of the answer that named them: a re-solve uses another engine.
    resolve:
        Whether step 4 may run when steps 1 to 3 leave the question open.
    seconds:
        The time limit of a CP-SAT re-solve in step 4 (the question's own, when it is
        shorter than :data:`RESOLVE_SECONDS`).

    Returns
    -------
    Verdict
        A proof, a witness, or neither when no step settled it within its limits.
    """
    keep = set(clash)
    sub = problem.without(c.id for c in problem.constraints if c.id not in keep)
    verdict = _checked(sub, _enumerate(sub))
    if verdict.proof is None and verdict.witness is None and resolve:
        verdict = _checked(sub, _resolve(sub, answered_by, min(seconds, RESOLVE_SECONDS)))
    return verdict


def _checked(sub: Problem, verdict: Verdict) -> Verdict:
    """The verdict, less a witness that the model finds inadmissible (float noise, or a bug)."""
    if verdict.witness is not None and sub.violated(verdict.witness):
        return Verdict()
    return verdict


# ------------------------------------------------------------------ steps 1 to 3
def _enumerate(sub: Problem) -> Verdict:
    """Steps 1 to 3 on the restricted problem ``sub``."""
    floors = _floors(sub)
    parties = list(floors)
    components = _components(sub, parties)
    if components is None:
        return Verdict()
    never = any(not clause for c in sub.constraints for clause in c.clauses)
    if never or any(options.shape[0] == 0 for _, options in components):
        return Verdict(ENUMERATED)
    parts = [
        _Component(issues, options, _values(sub, issues, options, parties))
        for issues, options in components
    ]
    if not floors:
        return Verdict(witness=_package(sub, parts, [0] * len(parts)))
    need = np.array(list(floors.values())) - UTILITY_TOLERANCE - SLACK - _constants(sub, parties)
    gap, weights = _weights(parts, need)
    if gap < 0:
        return Verdict(ENUMERATED)
    if len(floors) == 1:
        best = [int(np.argmax(part.values[:, 0])) for part in parts]
        return Verdict(witness=_package(sub, parts, best))
    return _joint(sub, parts, need, weights)


def _floors(sub: Problem) -> dict[int, float]:
    """The highest utility floor of each party that has one, by party index."""
    floors: dict[int, float] = {}
    for c in sub.constraints:
        if c.utility_party is not None:
            floors[c.utility_party] = max(floors.get(c.utility_party, -np.inf), c.bound)
    return dict(sorted(floors.items()))


def _components(sub: Problem, parties: list[int]) -> list[tuple[tuple[int, ...], IntArray]] | None:
    """Step 1: each component's issues and combinations; None when one is too large.

    A clause without any literal (it never holds) is left to the caller.
    """
    clauses = [clause for c in sub.constraints for clause in c.clauses if clause]
    touched = {lit.issue for clause in clauses for lit in clause}
    relevant = set(range(len(sub.issues))) if parties else touched
    links = [{lit.issue for lit in clause} for clause in clauses]
    for p in parties:
        utility = sub.utilities[p]
        if isinstance(utility, RectangleUtility):
            links += [{lit.issue for lit in term.literals} for term in utility.terms]
    group: dict[int, frozenset[int]] = {i: frozenset({i}) for i in relevant}
    for link in links:
        merged = frozenset().union(*(group[i] for i in link))
        for i in merged:
            group[i] = merged
    closing: dict[int, list[Clause]] = {}  # by the last issue a clause mentions
    for clause in clauses:
        closing.setdefault(max(lit.issue for lit in clause), []).append(clause)
    out = []
    for issues in sorted({tuple(sorted(g)) for g in group.values()}):
        options = _combinations(sub, issues, closing)
        if options is None:
            return None
        out.append((issues, options))
    return out


def _combinations(
    sub: Problem, issues: tuple[int, ...], closing: dict[int, list[Clause]]
) -> IntArray | None:
    """Combinations of ``issues`` (sorted) that respect their clauses, built issue by issue.

    A clause is applied as soon as its last issue is added (``closing``).
    """
    column = {issue: j for j, issue in enumerate(issues)}
    rows = np.zeros((1, 0), dtype=np.int64)
    for issue in issues:
        size = sub.issues[issue].size
        if rows.shape[0] * size > COMPONENT_LIMIT:
            return None
        grown = np.repeat(rows, size, axis=0)
        rows = np.concatenate([grown, np.tile(np.arange(size), rows.shape[0])[:, None]], axis=1)
        for clause in closing.get(issue, []):
            holds = np.zeros(rows.shape[0], dtype=bool)
            for lit in clause:
                holds |= np.isin(rows[:, column[lit.issue]], sorted(lit.allowed))
            rows = rows[holds]
    return rows


def _values(
    sub: Problem, issues: tuple[int, ...], options: IntArray, parties: list[int]
) -> FloatArray:
    """What each combination adds to each floor party's utility (rectangles: uncapped)."""
    values = np.zeros((options.shape[0], len(parties)))
    column = {issue: j for j, issue in enumerate(issues)}
    for k, p in enumerate(parties):
        utility = sub.utilities[p]
        if isinstance(utility, AdditiveUtility):
            for j, issue in enumerate(issues):
                values[:, k] += utility.tables[issue][options[:, j]]
            continue
        for term in utility.terms:
            if term.literals and term.literals[0].issue in column:
                holds = np.ones(options.shape[0], dtype=bool)
                for lit in term.literals:
                    holds &= np.isin(options[:, column[lit.issue]], sorted(lit.allowed))
                values[:, k] += holds * (term.value / utility.max_value)
    return values


def _constants(sub: Problem, parties: list[int]) -> FloatArray:
    """The part of each floor party's utility that no issue decides (terms without literals)."""
    out = np.zeros(len(parties))
    for k, p in enumerate(parties):
        utility = sub.utilities[p]
        if isinstance(utility, RectangleUtility):
            out[k] = sum(t.value for t in utility.terms if not t.literals) / utility.max_value
    return out


def _weights(parts: list[_Component], need: FloatArray) -> tuple[float, FloatArray]:
    """Step 2: the smallest gap found and its weights (a gap below 0 proves the clash).

    The gap of weights ``l`` is the best weighted sum over the packages less the
    weighted floors; it is convex in ``l``. Each party alone is tried first, then, for
    two parties, a golden-section search on ``(t, 1 - t)``, for more, exponentiated
    subgradient steps on the simplex; the search stops at the first proof.
    """
    flat = np.concatenate([part.values for part in parts])
    sizes = [part.values.shape[0] for part in parts]
    starts = np.cumsum([0, *sizes[:-1]])
    found: list[tuple[float, FloatArray]] = []

    def gap(weights: FloatArray) -> float:
        value = float(np.maximum.reduceat(flat @ weights, starts).sum() - need @ weights)
        found.append((value, weights))
        return value

    count = need.size
    if any(gap(weights) < 0 for weights in np.eye(count)):
        return found[-1]
    if count == 2:
        low, high = 0.0, 1.0
        ratio = (np.sqrt(5.0) - 1) / 2
        for _ in range(40):
            a, b = high - ratio * (high - low), low + ratio * (high - low)
            at_a, at_b = gap(np.array([a, 1 - a])), gap(np.array([b, 1 - b]))
            if min(at_a, at_b) < 0:
                break
            low, high = (low, b) if at_a < at_b else (a, high)
    elif count > 2:
        segment = np.repeat(np.arange(len(parts)), sizes)
        weights = np.full(count, 1.0 / count)
        scale = float(np.abs(flat).max(initial=0.0)) * len(parts) + 1.0
        for step in range(1, 101):
            if gap(weights) < 0:
                break
            scores = flat @ weights  # a subgradient: the best combinations' values
            hits = np.flatnonzero(scores >= np.maximum.reduceat(scores, starts)[segment])
            first = hits[np.unique(segment[hits], return_index=True)[1]]
            reach = flat[first].sum(axis=0) - need
            weights = weights * np.exp(-reach / scale * 4 / np.sqrt(step))
            weights = weights / weights.sum()
    return min(found, key=lambda item: item[0])


def _joint(sub: Problem, parts: list[_Component], need: FloatArray, weights: FloatArray) -> Verdict:
    """Step 3: every package of undominated combinations that may still reach the floors.

    A partial package is dropped when, even with the best of the components left, it
    falls short of a floor, or of the weighted floors for ``weights`` (step 2's bound).
    """
    kept = [_undominated(part.values) for part in parts]
    values = [part.values[rows] for part, rows in zip(parts, kept, strict=True)]
    directions = np.column_stack([np.eye(need.size), weights])  # (parties, bounds)
    goal = need @ directions
    best = np.array([(v @ directions).max(axis=0) for v in values])
    rest = np.concatenate([np.cumsum(best[::-1], axis=0)[::-1][1:], np.zeros((1, goal.size))])
    totals = np.zeros((1, need.size))
    index = np.zeros(1, dtype=np.int64)
    for k, v in enumerate(values):
        if totals.shape[0] * v.shape[0] > JOINT_LIMIT:
            return Verdict()
        totals = (totals[:, None, :] + v[None, :, :]).reshape(-1, need.size)
        index = (index[:, None] * v.shape[0] + np.arange(v.shape[0])[None, :]).reshape(-1)
        reach = np.all(totals @ directions + rest[k] >= goal, axis=1)
        totals, index = totals[reach], index[reach]
        if index.size == 0:
            return Verdict(ENUMERATED)
    sizes = [v.shape[0] for v in values]
    for flat in index[:16]:
        digits = np.unravel_index(int(flat), sizes)
        choice = [int(rows[d]) for rows, d in zip(kept, digits, strict=True)]
        witness = _package(sub, parts, choice)
        if not sub.violated(witness):
            return Verdict(witness=witness)
    return Verdict()


def _undominated(values: FloatArray) -> IntArray:
    """Rows that no other row beats for every party (the first of equal rows kept)."""
    if values.shape[0] > 512:  # the pairwise comparison would take too much memory
        return np.arange(values.shape[0])
    at_least = np.all(values[None, :, :] >= values[:, None, :], axis=2)  # [r, o]: o >= r
    beaten: BoolArray = (at_least & ~at_least.T).any(axis=1)
    same = at_least & at_least.T
    earlier = np.tri(values.shape[0], k=-1, dtype=bool)  # [r, o]: o < r
    beaten |= (same & earlier).any(axis=1)
    return np.flatnonzero(~beaten)


def _package(sub: Problem, parts: list[_Component], choice: list[int]) -> Package:
    """The package of one combination per component (option 0 on the other issues)."""
    package = [0] * len(sub.issues)
    for part, row in zip(parts, choice, strict=True):
        for issue, option in zip(part.issues, part.options[row], strict=True):
            package[issue] = int(option)
    return tuple(package)


# ------------------------------------------------------------------------ step 4
def _resolve(sub: Problem, answered_by: str, seconds: float) -> Verdict:
    """Re-solve the restricted problem with the first other engine that applies.

    An engine that refuses the problem (too large for it) is skipped.
    """
    engines: list[tuple[str, Callable[[], ZoneResult]]] = [
        ("frontier-dp", lambda: dp_zone(sub)),
        ("enumeration", lambda: enumerate_zone(sub)),
        ("cp-sat", lambda: cpsat_zone(sub, seconds)),
    ]
    for name, solve in engines:
        if name == answered_by or (name == "enumeration" and sub.n_packages > ENUMERATION_LIMIT):
            continue
        try:
            zone = solve()
        except AnalysisError:  # NotApplicable, or a model too large to build
            continue
        if zone.status is Status.INFEASIBLE:
            return Verdict(f"re-solved by {name}")
        if zone.witness is not None:
            return Verdict(witness=zone.witness)
    return Verdict()
