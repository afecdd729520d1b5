"""Settlements (Nash, Kalai-Smorodinsky, egalitarian, welfare) with CP-SAT.

Definitions are those of :class:`~backchannel.model.results.SettlementRule`; the search and
its exactness argument are in :mod:`backchannel.solvers.cpsat.search`. KS first
finds every party's ideal ``ideal_p`` (the best admissible ``u_p``) by a certified
maximum of that party's utility alone.
"""

from __future__ import annotations

from backchannel.model.problem import Problem
from backchannel.model.results import Settlement, SettlementRule, Status
from backchannel.solvers.cpsat.constraints import add_all
from backchannel.solvers.cpsat.objectives import KalaiSmorodinsky, Welfare, objective
from backchannel.solvers.cpsat.package_model import Budget, PackageModel
from backchannel.solvers.cpsat.search import Best, certified_max, tie_break


def admissible_model(problem: Problem) -> PackageModel:
    """The one-hot model with every constraint stated unguarded."""
    pm = PackageModel(problem)
    add_all(pm, problem.constraints)
    return pm


def ideals(pm: PackageModel, budget: Budget, reserve: int = 1) -> list[Best]:
    """Certified best admissible utility of every party.

    Each party's search gets an equal share of the time left, ``reserve`` more shares
    being kept for what the caller does with the ideals, so one hard party cannot
    starve the others.
    """
    count = len(pm.utility)
    tops = []
    for p in range(count):
        share = Budget(budget.remaining() / (count - p + reserve))
        tops.append(certified_max(pm, Welfare(pm, [p]), share))
    return tops


def _ks_ideal(pm: PackageModel, budget: Budget) -> tuple[Status | None, list[float], bool]:
    """``(stop, ideal, proven)``: the ideal point for Kalai-Smorodinsky.

    ``stop`` is the status to answer at once (INFEASIBLE or UNKNOWN) when some party's
    ideal is not found; an unproven ideal is the best utility found, and the answer
    is then labelled unproven (``proven`` False).
    """
    tops = ideals(pm, budget)
    if any(t.infeasible for t in tops):
        return Status.INFEASIBLE, [], False
    if any(t.package is None for t in tops):
        return Status.UNKNOWN, [], False
    return None, [t.value for t in tops], all(t.proven for t in tops)


def cpsat_settle(problem: Problem, rule: SettlementRule, time_limit: float = 30.0) -> Settlement:
    """The admissible package that ``rule`` picks, proven optimal when time allows.

    Parameters
    ----------
    problem:
        A compiled problem with 2-8 utility parties.
    rule:
        The bargaining rule (definitions in :class:`~backchannel.model.results.SettlementRule`).
    time_limit:
        Seconds for the whole question; on expiry the incumbent comes back with
        status ``FEASIBLE`` and a proven upper bound, or ``UNKNOWN`` without one.

    Returns
    -------
    Settlement
        ``INFEASIBLE`` with no package when nothing is admissible.
    """
    budget = Budget(time_limit)
    pm = admissible_model(problem)
    if rule is SettlementRule.EGALITARIAN:
        # The full linear relaxation of the max-min rows guides CP-SAT well here (3
        # parties, 6 instances from 80x6 to 320x6: worst 0.98 -> 0.73 s, none slower
        # beyond noise; one 6-party instance at 40x6 2.1 -> 2.7 s); for Nash it doubled
        # the time and for KS it was mixed.
        pm.linearization = 2

    def answer(
        status: Status,
        best: Best | None = None,
        package: tuple[int, ...] | None = None,
        has_ties: bool | None = None,
    ) -> Settlement:
        chosen = package if package is not None else (best.package if best else None)
        utilities = problem.utility(chosen) if chosen is not None else ()
        value = obj.value(utilities) if chosen is not None and obj is not None else None
        bound = value if status is Status.OPTIMAL else (best.upper if best else None)
        if isinstance(obj, KalaiSmorodinsky) and not ideal_proven and chosen is not None:
            # the ideal is a lower estimate: this package may beat it; no value above 1
            value, bound = obj.value_raised(utilities), 1.0
        return Settlement(
            rule,
            status,
            chosen,
            utilities,
            value,
            bound,
            has_ties,
            None,
            "cp-sat",
            budget.elapsed(),
        )

    obj = None
    ideal: list[float] = []
    ideal_proven = True
    # One admissible package first, and when it helps, a hint: on non-linear agendas the
    # rule's own search then never starts from nothing (its first solution can take long
    # to find), and the max-min rules of many parties start better (6-party egalitarian
    # at 40x6: 4.4 s instead of 7.2 s). On additive agendas a hint slows Nash and the
    # rules of 2-3 parties down (a 3-party Nash solve at 160x6: 8 s instead of 0.2 s).
    first = pm.solve(Budget(budget.remaining() / 10))
    if first.infeasible:
        return answer(Status.INFEASIBLE)
    many = len(problem.utilities) > 3 and rule in (SettlementRule.EGALITARIAN, SettlementRule.KS)
    if first.package is not None and (many or not problem.is_additive):
        pm.hint(first.package)
    if rule is SettlementRule.KS:
        stop, ideal, ideal_proven = _ks_ideal(pm, budget)
        if stop is not None:
            return answer(stop)
    obj = objective(pm, rule, ideal)
    best = certified_max(pm, obj, budget)
    if rule is SettlementRule.NASH and best.infeasible:
        # no package has every gain positive: every admissible package scores 0
        best = certified_max(pm, Welfare(pm), budget)
        if best.package is not None:
            best.value, best.upper = 0.0, 0.0
    if best.infeasible:
        return answer(Status.INFEASIBLE)
    if best.package is None:
        return answer(Status.UNKNOWN)
    if not best.proven:
        return answer(Status.FEASIBLE, best)
    choice = tie_break(pm, obj, best, budget)
    status = Status.OPTIMAL if choice.proven and ideal_proven else Status.FEASIBLE
    return answer(status, best, choice.package, choice.has_ties)
