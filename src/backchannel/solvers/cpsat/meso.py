"""Multiple equivalent simultaneous offers (MESO) with CP-SAT.

Given a party ``q``, a target utility ``tau`` (the engine's default is ``u_q`` at
the Nash package) and a tolerance ``delta``, the offers are admissible packages with
``|u_q - tau| <= delta``. Greedy, one solve per offer:

1. the first offer maximises the others' welfare ``sum_{p != q} U_p``;
2. each next offer maximises ``min_j sum_{p != q} |U_p - U_p(y_j)|``, the smallest
   L1 distance between its other-party utility vector and those of the offers
   already chosen ``y_j`` (each absolute value exact, by a Boolean sign choice);
   ties broken towards larger welfare of the others.

The band is stated relaxed by the rounding error and every answer is re-checked
in floats (a package outside the band or inadmissible is cut off). ``spread`` is the
smallest pairwise float L1 distance of the chosen offers; status ``OPTIMAL`` means
every greedy step was solved to optimality (the greedy choice itself is a heuristic
for the max-min spread).
"""

from __future__ import annotations

import math

from backchannel.model.problem import Package, Problem
from backchannel.model.results import FrontierPoint, MesoResult, Status
from backchannel.solvers.cpsat.package_model import Budget, S
from backchannel.solvers.cpsat.settle import admissible_model


def cpsat_meso(
    problem: Problem,
    party: str,
    k: int = 3,
    tolerance: float = 0.02,
    time_limit: float = 30.0,
    *,
    target: float,
    seed: Package | None = None,
) -> MesoResult:
    """``k`` admissible packages nearly equal for ``party``, far apart for the others.

    Parameters
    ----------
    problem:
        A compiled problem with 2 or more utility parties.
    party:
        The delegation for which the offers are equivalent.
    k:
        Number of offers wanted (fewer come back when fewer exist).
    tolerance:
        Allowed distance of the party's utility from the target.
    target:
        The party's utility level (the engine's default: its utility at the Nash package).
    seed:
        An admissible package inside the band (the Nash package), given to the solver as
        a hint so that a first offer comes back even under a short time limit.
    time_limit:
        Seconds for the whole question.

    Returns
    -------
    MesoResult
        ``INFEASIBLE`` with no points when no admissible package is in the band.
    """
    budget = Budget(time_limit)
    q = problem.utility_parties.index(party)
    pm = admissible_model(problem)
    if seed is not None:
        pm.hint(seed)
    model = pm.model
    slack = tolerance + pm.error[q]
    model.add(pm.utility[q] >= math.ceil(S * (target - slack) - 1e-6))
    model.add(pm.utility[q] <= math.floor(S * (target + slack) + 1e-6))
    others = [p for p in range(len(problem.utilities)) if p != q]
    welfare = sum(pm.utility[p] for p in others)
    spread = model.new_int_var(0, 4 * S * len(others), "spread")
    chosen: list[Package] = []
    proven = True
    while len(chosen) < k:
        objective = welfare if not chosen else (len(others) * 2 * S + 1) * spread + welfare
        share = Budget(budget.remaining() / (k - len(chosen)))  # time for every offer
        found = pm.solve(share, objective=objective)
        if found.package is None:
            proven = proven and found.infeasible
            break
        y = found.package
        u = problem.utility(y)
        if not problem.is_admissible(y) or abs(u[q] - target) > tolerance:
            pm.exclude_equivalent(y)
            continue
        proven = proven and found.proven
        chosen.append(y)
        pm.exclude_equivalent(y)
        values = [round(S * u[p]) for p in others]
        distance = []
        for p, v in zip(others, values, strict=True):
            d = model.new_int_var(0, 4 * S, "d")
            sign = model.new_bool_var("sign")
            model.add(d <= pm.utility[p] - v + 8 * S * sign)
            model.add(d <= v - pm.utility[p] + 8 * S * (1 - sign))
            distance.append(d)
        model.add(spread <= sum(distance))
    points = tuple(FrontierPoint(y, problem.utility(y)) for y in chosen)
    gaps = [
        sum(abs(a.utilities[p] - b.utilities[p]) for p in others)
        for n, a in enumerate(points)
        for b in points[n + 1 :]
    ]
    if not points:
        status = Status.INFEASIBLE if proven else Status.UNKNOWN
    else:
        status = Status.OPTIMAL if proven else Status.FEASIBLE
    return MesoResult(
        party,
        target,
        tolerance,
        points,
        min(gaps, default=0.0),
        status,
        "cp-sat",
        budget.elapsed(),
    )
