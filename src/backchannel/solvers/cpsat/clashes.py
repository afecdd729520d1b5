"""Clashing red lines and cheapest relaxations with CP-SAT.

Every constraint ``c`` (red line or utility bound) is stated under its own guard
``g_c`` (:mod:`~backchannel.solvers.cpsat.constraints`). Satisfiability of a subset
is one solve with the subset's guards as assumptions; a witness that violates a
true utility bound is cut off while that bound's guard holds, and the solve repeated.

* **Minimal clash sets.** CP-SAT's ``SufficientAssumptionsForInfeasibility`` gives a
  first core (mapped back from variable indices, then verified by re-solving: it is
  neither guaranteed minimal nor trusted); deletion shrinking removes one element at
  a time and drops it for good when the rest is still infeasible (jumping to the
  smaller core the solver reports). Further minimal sets are enumerated MARCO-style:
  a map model over subset Booleans, blocking every found set (no superset of a
  clash set) and every satisfiable set found (the constraints a witness respects:
  some constraint outside it must be picked); the map picks the largest unexplored
  subset. ``complete`` when the map is exhausted. A step that hits the time limit
  keeps its element, so the set is still a verified clash, with ``minimal=False``.
* **Cheapest relaxations.** Weighted MaxSAT: minimise ``sum_c firmness_c * (1 - g_c)``
  (firmness scaled by 10**6), then enumerate every other dropped set of the same
  float cost, each with its witness; a relaxation is reported as the constraints
  its witness violates.
"""

from __future__ import annotations

from collections.abc import Sequence

from ortools.sat.python import cp_model

from backchannel.model.problem import Package, Problem
from backchannel.model.results import ClashesResult, ClashSet, Relaxation, Status
from backchannel.solvers.cpsat.constraints import add_all
from backchannel.solvers.cpsat.package_model import Budget, PackageModel, Solved, close, slack
from backchannel.solvers.scoring import infeasibility_certificate

COST_SCALE = 10**6


class Guarded:
    """The problem with every constraint under its own guard literal."""

    def __init__(self, problem: Problem, budget: Budget) -> None:
        self.problem = problem
        self.budget = budget
        self.pm = PackageModel(problem)
        self.guards = [self.pm.model.new_bool_var(f"g{n}") for n in range(len(problem.constraints))]
        add_all(self.pm, problem.constraints, self.guards)
        self.index = {g.index: n for n, g in enumerate(self.guards)}

    def check(self, package: Package, active: Sequence[int]) -> bool:
        """Whether the package respects the active constraints; if not, cut it off."""
        bad = [
            n
            for n in active
            if not self.problem.constraint_holds(self.problem.constraints[n], package)
        ]
        for n in bad:
            self.pm.exclude(package, [self.guards[n]])
        return not bad

    def satisfiable(self, subset: Sequence[int]) -> tuple[bool | None, Package | None, list[int]]:
        """``(answer, witness, core)``: None when the time limit stopped the solve."""
        while True:
            found = self.pm.solve(self.budget, [self.guards[n] for n in subset])
            if found.infeasible:
                solver = self.pm.last_solver
                assert solver is not None
                core = [
                    self.index[i]
                    for i in solver.sufficient_assumptions_for_infeasibility()
                    if i in self.index
                ]
                return False, None, core
            if found.package is None:
                return None, None, []
            if self.check(found.package, subset):
                return True, found.package, []

    def shrink(self, subset: Sequence[int]) -> tuple[list[int], bool]:
        """A minimal (when ``True``) infeasible subset of an infeasible ``subset``.

        Deletion: an element whose removal leaves an infeasible rest is dropped (and
        the rest replaced by the solver's smaller core when that one verifies); an
        element whose removal makes the rest satisfiable is necessary.
        """
        core = list(subset)
        minimal = True
        for n in list(core):
            if n not in core:
                continue
            rest = [m for m in core if m != n]
            answer, _, smaller = self.satisfiable(rest)
            if answer is False:
                core = rest
                jump = [m for m in rest if m in set(smaller)]
                if len(jump) < len(rest) and self.satisfiable(jump)[0] is False:
                    core = jump
            elif answer is None:
                minimal = False
        return core, minimal


def _clash_sets(g: Guarded, limit: int) -> tuple[list[ClashSet], bool]:
    every = list(range(len(g.guards)))
    mapping = cp_model.CpModel()
    seed = [mapping.new_bool_var(f"s{n}") for n in every]
    mapping.maximize(sum(seed))
    found: list[ClashSet] = []
    while len(found) < limit:
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = g.budget.remaining()
        status = solver.solve(mapping)
        if status == cp_model.INFEASIBLE:
            return found, True
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return found, False
        subset = [n for n in every if solver.boolean_value(seed[n])]
        answer, witness, core = g.satisfiable(subset)
        if answer is None:
            return found, False
        if answer:
            assert witness is not None
            kept = {
                n for n in every if g.problem.constraint_holds(g.problem.constraints[n], witness)
            }
            mapping.add_bool_or([seed[n] for n in every if n not in kept])
            continue
        start = core if core and g.satisfiable(core)[0] is False else subset
        clash, minimal = g.shrink(start)
        mapping.add_bool_or([~seed[n] for n in clash])
        ids = tuple(g.problem.constraints[n].id for n in clash)
        found.append(ClashSet(ids, minimal))
    return found, False


def _relaxations(g: Guarded, limit: int) -> tuple[list[Relaxation], Status]:
    constraints = g.problem.constraints
    costs = [round(c.firmness * COST_SCALE) for c in constraints]
    dropped = sum(c * (1 - guard) for c, guard in zip(costs, g.guards, strict=True))
    every = list(range(len(constraints)))
    phase = g.pm.new_phase()
    found: list[Relaxation] = []
    best: float | None = None
    while len(found) < limit:
        result: Solved = g.pm.solve(g.budget, [phase], dropped, maximize=False)
        if result.infeasible:
            return found, Status.OPTIMAL
        if result.package is None:
            return found, Status.OPTIMAL if best is not None else Status.UNKNOWN
        solver = g.pm.last_solver
        assert solver is not None
        active = [n for n in every if solver.boolean_value(g.guards[n])]
        if not g.check(result.package, active):
            continue
        violated = [
            n for n in every if not g.problem.constraint_holds(constraints[n], result.package)
        ]
        cost = sum(constraints[n].firmness for n in violated)
        if best is None:
            best = cost
            if not result.proven:
                ids = tuple(constraints[n].id for n in violated)
                return [Relaxation(ids, cost, result.package)], Status.FEASIBLE
            margin = len(constraints) // 2 + 1
            g.pm.model.add(dropped <= result.objective + margin).only_enforce_if(phase)
        if close(cost, best) or cost < best - slack(best):
            best = min(best, cost)
            ids = tuple(constraints[n].id for n in violated)
            found = [r for r in found if close(r.cost, best)]
            if ids not in {r.constraint_ids for r in found}:
                found.append(Relaxation(ids, cost, result.package))
        g.pm.model.add_bool_or(
            [g.guards[n] for n in every if n not in active]
            + [~g.guards[n] for n in active]
            + [~phase]
        )
    return found, Status.OPTIMAL


def cpsat_clashes(problem: Problem, limit: int = 10, time_limit: float = 30.0) -> ClashesResult:
    """Minimal clashing sets of constraints and the cheapest relaxations.

    Parameters
    ----------
    problem:
        A compiled problem.
    limit:
        Most clash sets, and most relaxations, to report.
    time_limit:
        Seconds for the whole question.

    Returns
    -------
    ClashesResult
        Nothing to report (``feasible=True``) when an admissible package exists.
    """
    budget = Budget(time_limit)
    g = Guarded(problem, budget)
    answer, _, _ = g.satisfiable(list(range(len(g.guards))))
    if answer is not False:
        status = Status.OPTIMAL if answer else Status.UNKNOWN
        return ClashesResult(
            bool(answer), (), answer is True, (), status, "cp-sat", budget.elapsed()
        )
    sets, complete = _clash_sets(g, limit)
    relaxations, status = _relaxations(g, limit)
    return ClashesResult(
        False,
        tuple(sets),
        complete,
        tuple(relaxations),
        status,
        "cp-sat",
        budget.elapsed(),
        infeasibility_certificate(problem),
    )
