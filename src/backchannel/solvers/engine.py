"""The negotiation engine: one entry point per question, each answer validated.

Which algorithm answers a question depends on the problem, never on the caller:

* **small agendas** (at most :data:`ENUMERATION_LIMIT` packages): exact vectorised
  enumeration, which also counts admissible packages and ties;
* **two parties with additive utilities**: the exact sparse Pareto-frontier
  programme over issues (the zone and the viable options follow from it too, see
  :mod:`backchannel.solvers.dp_zone`); the settlement rules run it only inside each
  rule's window (:mod:`backchannel.solvers.frontier_window`);
* **3-8 parties with additive utilities**, settlement rules: Lagrangian narrowing to
  the options a good package can use, then exact enumeration of what is left
  (:mod:`backchannel.solvers.narrowing`), when few packages are left;
* **everything else** (3-8 parties on large agendas, non-linear utilities,
  clashes, MESO): CP-SAT.

Every answer passes through the solver-independent validator
(:mod:`backchannel.solvers.validate`) before it is returned; "no package is
admissible" comes back with a certificate and the validator's proof of it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from backchannel.errors import AnalysisError, listing
from backchannel.model.problem import Problem
from backchannel.model.results import (
    ClashesResult,
    FrontierResult,
    MesoResult,
    Settlement,
    SettlementRule,
    Status,
    ZoneResult,
)
from backchannel.solvers import validate
from backchannel.solvers.cpsat import (
    cpsat_clashes,
    cpsat_frontier,
    cpsat_meso,
    cpsat_settle,
    cpsat_zone,
)
from backchannel.solvers.dp_zone import dp_zone
from backchannel.solvers.dp_zone import exists as dp_exists
from backchannel.solvers.enumeration import (
    ENUMERATION_LIMIT,
    enumerate_frontier,
    enumerate_settlements,
    enumerate_zone,
)
from backchannel.solvers.frontier_dp import NotApplicable, dp_frontier
from backchannel.solvers.frontier_window import window_settlements
from backchannel.solvers.narrowing import ideal_utilities, narrowed_settlement, weighted_best
from backchannel.solvers.scoring import rule_value, tolerance, within_tolerance_frontier

MAX_PARTIES = 8
"""Settlement rules accept 2 to this many parties with preferences."""

DEFAULT_TIME_LIMIT = 60.0


def _small(problem: Problem) -> bool:
    return problem.n_packages <= ENUMERATION_LIMIT


def _dp_applies(problem: Problem) -> bool:
    return problem.is_additive and len(problem.utility_parties) == 2


def check(problem: Problem, time_limit: float = DEFAULT_TIME_LIMIT) -> ZoneResult:
    """Is there an admissible package, and which options are still viable?"""
    result: ZoneResult | None = None
    if _small(problem):
        result = enumerate_zone(problem)
    elif _dp_applies(problem):
        try:
            result = dp_zone(problem)
        except NotApplicable:
            result = None
    if result is None:
        result = cpsat_zone(problem, time_limit)
    return validate.validate_zone(problem, result, time_limit)


def clashes(
    problem: Problem, limit: int = 10, time_limit: float = DEFAULT_TIME_LIMIT
) -> ClashesResult:
    """Minimal clashing sets of red lines and the cheapest relaxations."""
    start = time.perf_counter()
    result: ClashesResult | None = None
    if _dp_applies(problem):
        try:
            if dp_exists(problem):  # nothing clashes: no CP-SAT model at all
                seconds = time.perf_counter() - start
                result = ClashesResult(True, (), True, (), Status.OPTIMAL, "frontier-dp", seconds)
        except NotApplicable:
            result = None
    if result is None:
        result = cpsat_clashes(problem, limit=limit, time_limit=time_limit)
    return validate.validate_clashes(problem, result, time_limit)


def _check_parties(problem: Problem) -> None:
    count = len(problem.utility_parties)
    if not 2 <= count <= MAX_PARTIES:
        raise AnalysisError(
            f"settlements need 2 to {MAX_PARTIES} delegations with preferences; "
            f"this case has {count}",
            hint="add or remove delegations, or use check/clashes",
        )


def settle(
    problem: Problem, rules: Sequence[SettlementRule], time_limit: float = DEFAULT_TIME_LIMIT
) -> dict[SettlementRule, Settlement]:
    """The package each bargaining rule recommends."""
    _check_parties(problem)
    answers: dict[SettlementRule, Settlement] | None = None
    if _small(problem):
        answers = enumerate_settlements(problem, list(rules))
    elif _dp_applies(problem):
        try:
            answers = window_settlements(problem, list(rules))
        except NotApplicable:
            answers = None
    if answers is None:
        answers = {}
        for rule in rules:  # 3+ parties, additive: narrowing first (None: it does not apply)
            tried = time.perf_counter()
            found = narrowed_settlement(problem, rule)
            # a failed attempt's time comes out of CP-SAT's limit (a tenth is always left)
            spent = time.perf_counter() - tried
            answers[rule] = found or cpsat_settle(
                problem, rule, max(time_limit - spent, time_limit / 10)
            )
        answers = _shared_incumbents(problem, answers)
    for settlement in answers.values():
        validate.validate_settlement(problem, settlement)
    return answers


def _shared_incumbents(
    problem: Problem, answers: dict[SettlementRule, Settlement]
) -> dict[SettlementRule, Settlement]:
    """Each unproven answer, replaced by another rule's package where that scores higher.

    A rule stopped by the time limit keeps the best package its own search found; the
    searches for the other rules may have found a better one for it (a welfare search
    cut short can trail the Nash package's welfare). Its bound stays, so the answer
    stays marked unproven. Kalai-Smorodinsky is left as it is: its value needs the ideal
    point, which only its own search knows.
    """
    shared = dict(answers)
    for rule, settlement in answers.items():
        if settlement.status is not Status.FEASIBLE or rule is SettlementRule.KS:
            continue
        best = settlement
        for other in answers.values():
            if other.package is None or other.package == best.package:
                continue
            utilities = problem.utility(other.package)
            value = rule_value(rule, utilities, problem.disagreement, None)
            if best.value is None or value > best.value + tolerance(best.value):
                best = replace(
                    best,
                    package=other.package,
                    utilities=tuple(float(u) for u in utilities),
                    value=value,
                    has_ties=None,
                    ties=None,
                    method=f"{settlement.method}+{other.rule.value}",
                )
        shared[rule] = best
    return shared


def frontier(
    problem: Problem,
    time_limit: float = DEFAULT_TIME_LIMIT,
    max_points: int = 30,
    target_gap: float | None = None,
) -> FrontierResult:
    """The Pareto frontier: exact for 2 parties, a representative set for more, with its
    coverage, tightened to ``target_gap`` when given (see
    :func:`~backchannel.solvers.cpsat.frontier.cpsat_frontier`)."""
    _check_parties(problem)
    result: FrontierResult | None = None
    if _small(problem):
        result = enumerate_frontier(problem)
    elif _dp_applies(problem):
        try:
            result = dp_frontier(problem)
        except NotApplicable:
            result = None
    if result is None:
        result = cpsat_frontier(
            problem,
            time_limit,
            max_points,
            target_gap,
            weighted=weighted_best,
            fast_ideals=ideal_utilities,
        )
    kept = within_tolerance_frontier(result.points.utilities)
    if kept.size < len(result.points):
        result = replace(result, points=result.points.take(kept))
    validate.validate_frontier(problem, result)
    return result


def meso(
    problem: Problem,
    party: str,
    k: int = 3,
    tolerance: float = 0.02,
    target: float | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> MesoResult:
    """K packages nearly equal for ``party`` and as different as possible for the others."""
    _check_parties(problem)
    if party not in problem.utility_parties:
        raise AnalysisError(
            f"unknown delegation {party!r}",
            hint=f"the delegations with preferences are: {listing(problem.utility_parties)}",
        )
    if k < 2:
        raise AnalysisError(f"-k must be at least 2, not {k}", hint="ask for 2 or more offers")
    if not 0 <= tolerance <= 1:
        raise AnalysisError(f"tolerance {tolerance} is outside [0, 1]")
    start = time.perf_counter()
    seed = None
    if target is None:  # the party's utility at the Nash package, by the fastest engine
        nash = settle(problem, [SettlementRule.NASH], time_limit / 2)[SettlementRule.NASH]
        if nash.package is None:
            status = Status.INFEASIBLE if nash.status is Status.INFEASIBLE else Status.UNKNOWN
            return MesoResult(party, 0.0, tolerance, (), 0.0, status, nash.method, nash.seconds)
        target = nash.utilities[problem.utility_parties.index(party)]
        seed = nash.package
    remaining = max(0.0, time_limit - (time.perf_counter() - start))
    result = cpsat_meso(
        problem, party, k=k, tolerance=tolerance, target=target, time_limit=remaining, seed=seed
    )
    validate.validate_meso(problem, result)
    return result
