"""Zone of possible agreement with CP-SAT: feasibility and viable options.

An option is *viable* when some admissible package uses it (the definition of
:class:`~backchannel.model.results.ZoneResult`). Method: repeatedly maximise the
number of not-yet-covered options used by an admissible package and cover the
options of the (float-verified) answer; when the maximum is 0, the options left
are proven impossible. Usually a handful of solves.
"""

from __future__ import annotations

from backchannel.model.problem import Problem
from backchannel.model.results import Status, ZoneResult
from backchannel.solvers.cpsat.package_model import Budget
from backchannel.solvers.cpsat.search import admissible_or_cut
from backchannel.solvers.cpsat.settle import admissible_model
from backchannel.solvers.scoring import infeasibility_certificate


def cpsat_zone(problem: Problem, time_limit: float = 30.0) -> ZoneResult:
    """Whether an admissible package exists, and the viable options of each issue.

    Parameters
    ----------
    problem:
        A compiled problem.
    time_limit:
        Seconds for the whole question. On expiry: ``UNKNOWN`` when nothing was
        decided, ``FEASIBLE`` (viable options found so far, a subset) otherwise.

    Returns
    -------
    ZoneResult
        ``OPTIMAL`` with the exact viable sets, or ``INFEASIBLE`` with empty ones and
        a certificate.
    """
    budget = Budget(time_limit)
    pm = admissible_model(problem)
    covered = [[False] * issue.size for issue in problem.issues]
    witness = None
    status = Status.OPTIMAL
    while True:
        open_options = [
            var
            for row, seen in zip(pm.x, covered, strict=True)
            for var, s in zip(row, seen, strict=True)
            if not s
        ]
        if witness is not None and not open_options:
            break
        found = pm.solve(budget, objective=sum(open_options))
        if found.infeasible:
            status = Status.INFEASIBLE if witness is None else Status.OPTIMAL
            break
        if found.package is None:
            status = Status.UNKNOWN if witness is None else Status.FEASIBLE
            break
        if not admissible_or_cut(pm, found.package):
            continue
        if witness is not None and found.objective == 0:
            status = Status.OPTIMAL if found.proven else Status.FEASIBLE
            break
        witness = witness or found.package
        for i, option in enumerate(found.package):
            covered[i][option] = True
        if not found.proven and found.objective == 0:
            status = Status.FEASIBLE
            break
    viable = tuple(tuple(j for j, s in enumerate(row) if s) for row in covered)
    certificate = infeasibility_certificate(problem) if status is Status.INFEASIBLE else None
    return ZoneResult(status, viable, witness, None, "cp-sat", budget.elapsed(), certificate)
