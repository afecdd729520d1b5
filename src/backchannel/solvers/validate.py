"""The solver-independent validator: every answer is re-checked before it is returned.

Nothing here trusts an engine. Packages are judged with the model's own
:meth:`Problem.constraint_holds` and :meth:`Problem.utility`; utilities and rule
values are re-evaluated in floats; "no package is admissible" must come with a
certificate, a clash set proven unsatisfiable by :mod:`~backchannel.solvers.certificates`
without the engine that answered. A failed check raises
:class:`~backchannel.errors.InvalidAnswer`: an engine bug, never the user's fault, and
never silently passed on. The zone and clashes validators return the answer with the
certificate's proof filled in (``None`` when no proof fitted within the limits: the
answer is then not certified).

Checks, per answer type
-----------------------
* zone: a witness exists exactly when the status says so, is admissible and uses
  only viable options; viable option indices are in range; an infeasible status
  has a certificate, proven or at least not refuted (a package that respects every
  constraint it names refutes it).
* settlement: the package is admissible; the utilities and the rule value are
  those of the package (the ks value needs the ideal point, so only its range is
  checked); the bound is not below the value, and equals it when proven.
* frontier: every point admissible, utilities re-evaluated, no point dominates another.
* clashes: ids exist; relaxation costs are the firmness sums of their red lines, all
  equal, and each witness respects every red line not relaxed; "not feasible" has a
  certificate, checked as for the zone, unless nothing was decided; each clash set
  is checked like a certificate but without re-solving, and on small agendas (at
  most :data:`PROOF_LIMIT` packages), when marked minimal, each of its subsets with
  one red line dropped is proven satisfiable.
* meso: every offer admissible, within the tolerance band of the target for the
  party, distinct, and ``spread`` is their smallest pairwise L1 distance.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backchannel.errors import InvalidAnswer
from backchannel.model.problem import AdditiveUtility, Constraint, Package, Problem
from backchannel.model.results import (
    Certificate,
    ClashesResult,
    FrontierPoint,
    FrontierResult,
    MesoResult,
    Settlement,
    SettlementRule,
    Status,
    ZoneResult,
)
from backchannel.solvers.certificates import RESOLVE_SECONDS, Verdict, decide
from backchannel.solvers.scoring import TOL, dominated_within, rule_value, tolerance

PROOF_LIMIT = 50_000
"""Largest agenda on which the minimality of clash sets is checked."""

IntMatrix = np.ndarray[tuple[int, int], np.dtype[np.integer[Any]]]
FloatMatrix = np.ndarray[tuple[int, int], np.dtype[np.float64]]

UTILITY_SLACK = 1e-7
"""How far a reported utility may differ from its re-evaluation (float summation order)."""


def _fail(what: str, detail: str) -> InvalidAnswer:
    return InvalidAnswer(f"the {what} answer failed validation: {detail}")


def _check_package(problem: Problem, package: Package, what: str) -> None:
    if len(package) != len(problem.issues):
        raise _fail(what, f"package {package} has {len(package)} options for {len(problem.issues)}")
    for issue, option in zip(problem.issues, package, strict=True):
        if not 0 <= option < issue.size:
            raise _fail(what, f"option index {option} is out of range for issue {issue.name!r}")


def _check_admissible(problem: Problem, package: Package, what: str) -> None:
    _check_package(problem, package, what)
    broken = problem.violated(package)
    if broken:
        ids = ", ".join(c.id for c in broken)
        raise _fail(what, f"package {package} violates {ids}")


def _check_utilities(
    problem: Problem, package: Package, reported: Sequence[float], what: str
) -> None:
    exact = problem.utility(package)
    if len(reported) != len(exact) or any(
        abs(a - b) > UTILITY_SLACK for a, b in zip(reported, exact, strict=True)
    ):
        raise _fail(what, f"utilities {tuple(reported)} of {package} are really {exact}")


def _clash_ids(problem: Problem, ids: Sequence[str], what: str, name: str) -> None:
    known = {c.id for c in problem.constraints}
    if any(i not in known for i in ids) or len(set(ids)) != len(ids):
        raise _fail(what, f"{name} {tuple(ids)} names unknown ids")


def _refuted(what: str, ids: Sequence[str], verdict: Verdict) -> InvalidAnswer:
    return _fail(what, f"{tuple(ids)} can all hold together: {verdict.witness} respects them all")


def _certify(
    problem: Problem, certificate: Certificate | None, method: str, what: str, seconds: float
) -> Certificate:
    """The certificate of "no package is admissible", with the validator's proof filled in
    (a re-solve takes at most ``seconds``)."""
    if certificate is None:
        raise _fail(what, "no package is admissible, it says, without a certificate")
    _clash_ids(problem, certificate.clash, what, "the certificate")
    verdict = decide(problem, certificate.clash, method, resolve=True, seconds=seconds)
    if verdict.witness is not None:
        raise _refuted(what, certificate.clash, verdict)
    return dataclasses.replace(certificate, proof=verdict.proof)


# --------------------------------------------------------------------------- zone
def validate_zone(
    problem: Problem, result: ZoneResult, time_limit: float = RESOLVE_SECONDS
) -> ZoneResult:
    """Check an answer of ``check``; return it with its certificate's proof filled in.

    A re-solve that proves the certificate takes at most ``time_limit`` seconds.
    """
    if len(result.viable) != len(problem.issues):
        raise _fail("check", "viable options are not given for every issue")
    for issue, options in zip(problem.issues, result.viable, strict=True):
        if any(not 0 <= o < issue.size for o in options) or len(set(options)) != len(options):
            raise _fail("check", f"viable options {options} of issue {issue.name!r} are invalid")
    if result.status is Status.INFEASIBLE:
        if result.witness is not None or any(result.viable) or result.count:
            raise _fail("check", "no zone of agreement is claimed, yet a package is reported")
        certificate = _certify(problem, result.certificate, result.method, "check", time_limit)
        return dataclasses.replace(result, certificate=certificate)
    if result.certificate is not None:
        raise _fail("check", f"status {result.status.value} with a certificate of no agreement")
    if result.status is Status.UNKNOWN:
        return result
    if result.witness is None:
        raise _fail("check", "a zone of agreement is claimed without a package in it")
    _check_admissible(problem, result.witness, "check")
    for i, option in enumerate(result.witness):
        if option not in result.viable[i]:
            raise _fail("check", f"the witness uses option {option} of issue {i}, not viable")
    if result.count is not None and result.count < 1:
        raise _fail("check", f"count {result.count} contradicts the witness")
    return result


# --------------------------------------------------------------------- settlement
def validate_settlement(problem: Problem, settlement: Settlement) -> None:
    """Check an answer of ``settle`` for one rule."""
    what = f"settle ({settlement.rule.value})"
    if settlement.package is None:
        if settlement.status in (Status.OPTIMAL, Status.FEASIBLE):
            raise _fail(what, f"status {settlement.status.value} without a package")
        return
    if settlement.status in (Status.INFEASIBLE, Status.UNKNOWN):
        raise _fail(what, f"status {settlement.status.value} with a package")
    _check_admissible(problem, settlement.package, what)
    _check_utilities(problem, settlement.package, settlement.utilities, what)
    value = settlement.value
    if value is None:
        raise _fail(what, "a package without its rule value")
    utilities = problem.utility(settlement.package)
    if settlement.rule is SettlementRule.KS:
        if not -TOL <= value <= 1 + TOL:
            raise _fail(what, f"Kalai-Smorodinsky value {value} is outside [0, 1]")
    else:
        exact = rule_value(settlement.rule, utilities, problem.disagreement, None)
        if abs(exact - value) > UTILITY_SLACK * max(1.0, abs(exact)):
            raise _fail(what, f"value {value} is really {exact}")
    if settlement.bound is not None:
        if settlement.bound < value - tolerance(value) - UTILITY_SLACK:
            raise _fail(what, f"bound {settlement.bound} is below the value {value}")
        proven_gap = settlement.bound - value
        if settlement.status is Status.OPTIMAL and proven_gap > UTILITY_SLACK * max(1.0, value):
            raise _fail(what, f"proven optimal, yet the bound {settlement.bound} exceeds {value}")
    ties = settlement.ties
    if ties is not None and settlement.has_ties is not None and (ties > 0) != settlement.has_ties:
        raise _fail(what, f"{settlement.ties} ties counted but has_ties={settlement.has_ties}")


# ----------------------------------------------------------------------- frontier
ROW_BLOCK = 16_384
"""Packages read per block when many are checked: a block's issues stay in the cache."""


def _utilities(problem: Problem, packages: IntMatrix) -> FloatMatrix:
    """Utilities of many packages, ``(packages, parties)``, from the model's own tables.

    Additive utilities are summed issue by issue, a block of packages at a time, each
    block transposed once so that every issue's options are read contiguously (and
    widened to indices once). Two parties are summed at once as complex numbers (real
    part: one party, imaginary part: the other): complex addition adds the parts apart,
    so each sum is the float sum of the party's own values, issue by issue from 0.0.
    """
    out = np.empty((packages.shape[0], len(problem.utilities)))
    additive = [p for p, u in enumerate(problem.utilities) if isinstance(u, AdditiveUtility)]
    pairs = [additive[k : k + 2] for k in range(0, len(additive), 2)]
    tables = [
        [_complex_table(problem, pair, i) for pair in pairs] for i in range(len(problem.issues))
    ]
    for lo in range(0, packages.shape[0], ROW_BLOCK):
        block = packages[lo : lo + ROW_BLOCK]
        by_issue = block.T  # each issue's options contiguous, or copied so
        if abs(block.strides[0]) != block.itemsize:
            by_issue = np.ascontiguousarray(by_issue)
        totals = [np.zeros(block.shape[0], dtype=np.complex128) for _ in pairs]
        for i in range(by_issue.shape[0]):
            options = by_issue[i].astype(np.intp)
            for total, table in zip(totals, tables[i], strict=True):
                np.add(total, table.take(options), out=total)
        for total, pair in zip(totals, pairs, strict=True):
            out[lo : lo + ROW_BLOCK, pair[0]] = total.real
            if len(pair) == 2:
                out[lo : lo + ROW_BLOCK, pair[1]] = total.imag
        for p, utility in enumerate(problem.utilities):
            if not isinstance(utility, AdditiveUtility):
                out[lo : lo + ROW_BLOCK, p] = [
                    utility.value(tuple(int(o) for o in row)) for row in block
                ]
    return out


def _complex_table(problem: Problem, parties: list[int], issue: int) -> NDArray[np.complex128]:
    """One issue's additive tables of one or two parties: real part the first's, imaginary
    part the second's (0.0 without a second)."""
    table: NDArray[np.complex128] = np.zeros(problem.issues[issue].size, dtype=np.complex128)
    for part, p in zip((table.real, table.imag), parties, strict=False):
        utility = problem.utilities[p]
        assert isinstance(utility, AdditiveUtility)
        part[:] = utility.tables[issue]
    return table


def _outside(packages: IntMatrix, sizes: NDArray[np.int64]) -> NDArray[np.int64]:
    """Rows of ``packages`` with an option index outside its issue's ``sizes``."""
    if packages.size == 0 or (
        int(packages.min()) >= 0 and bool(np.all(packages.max(axis=0) < sizes))
    ):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.any((packages < 0) | (packages >= sizes), axis=1))


def _check_points(problem: Problem, points: Sequence[FrontierPoint], what: str) -> FloatMatrix:
    """Every point admissible, with its utilities re-evaluated (in one batch); those utilities."""
    if not points:
        return np.zeros((0, len(problem.utilities)))
    width = len(problem.issues)
    for point in points:
        if len(point.package) != width:
            _check_package(problem, point.package, what)
    flat = itertools.chain.from_iterable(point.package for point in points)
    packages = np.fromiter(flat, dtype=np.int64, count=len(points) * width).reshape(-1, width)
    reported = np.array([point.utilities for point in points], dtype=np.float64)
    if reported.shape != (len(points), len(problem.utilities)):
        raise _fail(what, "a point does not give one utility per delegation")
    return _check_rows(problem, packages, reported, what)


def _check_rows(
    problem: Problem, packages: IntMatrix, reported: FloatMatrix, what: str
) -> FloatMatrix:
    """:func:`_check_points` on arrays: ``(points, issues)`` options, ``(points, parties)``."""
    if packages.shape[0] == 0:
        return np.zeros((0, len(problem.utilities)))
    if packages.shape[1] != len(problem.issues):
        _check_package(problem, tuple(int(o) for o in packages[0]), what)
    if reported.shape != (packages.shape[0], len(problem.utilities)):
        raise _fail(what, "a point does not give one utility per delegation")
    sizes = np.array([issue.size for issue in problem.issues], dtype=np.int64)
    for n in _outside(packages, sizes):
        _check_package(problem, _package(packages, n), what)
    exact = _utilities(problem, packages)
    holds = _satisfied(problem, problem.constraints, packages, exact).all(axis=0)
    for n in np.flatnonzero(~holds):
        _check_admissible(problem, _package(packages, n), what)  # names the broken red lines
    wrong = np.flatnonzero(np.any(np.abs(reported - exact) > UTILITY_SLACK, axis=1))
    for n in wrong:
        utilities = tuple(float(u) for u in reported[n])
        _check_utilities(problem, _package(packages, n), utilities, what)
    return exact


def _package(packages: IntMatrix, row: int | np.int64) -> Package:
    return tuple(int(o) for o in packages[int(row)])


def validate_frontier(problem: Problem, result: FrontierResult) -> None:
    """Check an answer of ``frontier``."""
    points = result.points
    values = _check_rows(problem, points.packages, points.utilities, "frontier")
    if not points:
        if result.status in (Status.OPTIMAL, Status.FEASIBLE):
            raise _fail("frontier", f"status {result.status.value} with no point")
        return
    for n in np.flatnonzero(dominated_within(values, TOL, TOL)):
        row = values[n]
        better = np.all(values >= row - TOL, axis=1) & np.any(values > row + TOL, axis=1)
        other = int(np.flatnonzero(better)[0])
        raise _fail(
            "frontier",
            f"point {_package(points.packages, n)} is dominated by "
            f"{_package(points.packages, other)}",
        )


# ---------------------------------------------------------------------- clashes
def _satisfied(
    problem: Problem,
    constraints: Sequence[Constraint],
    packages: IntMatrix,
    utilities: FloatMatrix,
) -> NDArray[np.bool_]:
    """``[c, x]``: package ``x`` respects constraint ``c`` (same tolerance as the model).

    Every option of ``packages`` lies within its issue (:func:`_check_rows` checks that
    first), so a literal is a look-up in a table of its issue's options.
    """
    out = np.ones((len(constraints), packages.shape[0]), dtype=bool)
    for n, c in enumerate(constraints):
        if c.utility_party is not None:
            out[n] = utilities[:, c.utility_party] >= c.bound - TOL
            continue
        for clause in c.clauses:
            holds = np.zeros(packages.shape[0], dtype=bool)
            for lit in clause:
                allowed = np.zeros(problem.issues[lit.issue].size, dtype=bool)
                allowed[[o for o in lit.allowed if 0 <= o < allowed.size]] = True
                holds |= allowed.take(packages[:, lit.issue].astype(np.intp))
            out[n] &= holds
    return out


def _check_clash_sets(problem: Problem, result: ClashesResult) -> None:
    """No clash set is refuted; on small agendas, each one marked minimal is minimal."""
    proven = {frozenset(result.certificate.clash)} if result.certificate else set()
    for clash in result.clash_sets:
        ids = clash.constraint_ids
        if frozenset(ids) not in proven:
            verdict = decide(problem, ids, result.method, resolve=False)
            if verdict.witness is not None:
                raise _refuted("clashes", ids, verdict)
        if not clash.minimal or problem.n_packages > PROOF_LIMIT or len(ids) < 2:
            continue
        for drop in ids:
            rest = [i for i in ids if i != drop]
            if decide(problem, rest, result.method, resolve=False).proof is not None:
                raise _fail("clashes", f"{ids} is not minimal: drop {drop}")


def validate_clashes(
    problem: Problem, result: ClashesResult, time_limit: float = RESOLVE_SECONDS
) -> ClashesResult:
    """Check an answer of ``clashes``; return it with its certificate's proof filled in.

    A re-solve that proves the certificate takes at most ``time_limit`` seconds.
    """
    known = {c.id: c for c in problem.constraints}
    for clash in result.clash_sets:
        _clash_ids(problem, clash.constraint_ids, "clashes", "clash set")
    if result.feasible and (result.clash_sets or result.relaxations or result.certificate):
        raise _fail("clashes", "agreement is possible, yet clashes are reported")
    costs = []
    for relaxation in result.relaxations:
        unknown = [i for i in relaxation.constraint_ids if i not in known]
        if unknown:
            raise _fail("clashes", f"relaxation {relaxation.constraint_ids} names unknown ids")
        cost = sum(known[i].firmness for i in relaxation.constraint_ids)
        if not math.isclose(cost, relaxation.cost, rel_tol=1e-9, abs_tol=1e-9):
            raise _fail("clashes", f"relaxation cost {relaxation.cost} is really {cost}")
        _check_admissible(problem.without(relaxation.constraint_ids), relaxation.witness, "clashes")
        costs.append(cost)
    if costs and max(costs) - min(costs) > tolerance(min(costs)):
        raise _fail("clashes", f"the cheapest relaxations have different costs {costs}")
    undecided = not (result.clash_sets or result.relaxations) and (
        result.relaxation_status is Status.UNKNOWN
    )
    if not result.feasible and (result.certificate is not None or not undecided):
        certificate = _certify(problem, result.certificate, result.method, "clashes", time_limit)
        result = dataclasses.replace(result, certificate=certificate)
    _check_clash_sets(problem, result)
    return result


# --------------------------------------------------------------------------- meso
def validate_meso(problem: Problem, result: MesoResult) -> None:
    """Check an answer of ``meso``."""
    if result.party not in problem.utility_parties:
        raise _fail("meso", f"unknown party {result.party!r}")
    q = problem.utility_parties.index(result.party)
    _check_points(problem, result.points, "meso")
    for point in result.points:
        if abs(point.utilities[q] - result.target) > result.tolerance + UTILITY_SLACK:
            raise _fail("meso", f"offer {point.package} is outside the band of {result.party}")
    packages = [p.package for p in result.points]
    if len(set(packages)) != len(packages):
        raise _fail("meso", "the same offer is listed twice")
    if len(result.points) >= 2:
        others = [p for p in range(len(problem.utility_parties)) if p != q]
        spread = min(
            sum(abs(a.utilities[p] - b.utilities[p]) for p in others)
            for n, a in enumerate(result.points)
            for b in result.points[n + 1 :]
        )
        if abs(spread - result.spread) > UTILITY_SLACK * max(1, len(others)):
            raise _fail("meso", f"spread {result.spread} is really {spread}")
