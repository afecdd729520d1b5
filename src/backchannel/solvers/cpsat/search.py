"""Certified search on the scaled model: the exact float optimum and the tie-break.

CP-SAT optimises integer objectives on utilities rounded to ``1/S``; the answers
must nevertheless be those of the float definitions. The method, per rule:

1. **Certified maximum** (:func:`certified_max`). Solve the integer objective; take
   the incumbent, re-score it in floats (a package that violates a true utility
   bound is cut off for good and the solve repeated); then turn the solver's
   proven bound ``B`` into a float upper bound ``ub(B)`` on every package not yet
   seen, using the rounding bounds ``e_p`` (:mod:`~backchannel.solvers.cpsat.objectives`).
   While ``ub(B)`` exceeds the best float value by more than the tolerance, the
   seen package is excluded (a no-good cut) and the next one is solved for. The
   packages visited are exactly those whose integer objective could hide a better
   float value (a handful: ``e_p`` is at most ``0.5/S`` per rounded coefficient);
   more than :data:`CAP` visits ends the search with the best so far, unproven.
2. **Tie-break** (:func:`tie_break`), following the reference definition: among
   admissible packages whose value equals the optimum ``v*`` within the tolerance,
   take the largest welfare, then the smallest option-index vector. A window
   ``value >= v* - tol`` is stated as constraints kept by every such package
   (:meth:`window`); a certified maximum of welfare inside the window gives ``w*``,
   and the lexicographically smallest package of the window with welfare ``>= w* - tol`` is
   found issue-chunk by issue-chunk (1 worker, fixed seed, each chunk hinted with the
   last chunk's answer). That package uses only *representative* options
   (:meth:`PackageModel.representatives`), so the search is confined to them; the
   best other tie by welfare, the representative copy of the best-welfare tie
   excluded, tells whether ties exist and, when no other tie is final, that the copy
   is the answer at once. The chunks cover only the issues where final packages can
   differ: the others are decided beforehand, without a solve, by Lagrangian
   reduced-cost fixing (:mod:`~backchannel.solvers.cpsat.fixing`). Every search of
   the window maximises welfare, a linear objective. Any member of a window that
   fails the float check is cut off and the step repeated.

Every returned package is therefore re-evaluated exactly, never violates a true
bound, and is the one the float definition picks, unless a time limit or the
visit cap stopped a step, in which case the answer is labelled unproven.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from backchannel.model.problem import Package
from backchannel.solvers.cpsat.fixing import final_domains
from backchannel.solvers.cpsat.objectives import Objective, Welfare
from backchannel.solvers.cpsat.package_model import Budget, PackageModel, close, slack
from backchannel.solvers.scoring import lowest_tie

CAP = 2000
"""Most packages one certified search visits before it gives up proving."""

Accept = Callable[[Package], bool]


@dataclass
class Best:
    """Outcome of a certified search: best package, its float value, proof and bound."""

    package: Package | None
    value: float
    proven: bool
    infeasible: bool
    upper: float | None


def admissible_or_cut(pm: PackageModel, package: Package) -> bool:
    """Whether the package is admissible in floats; if not, cut it off for good."""
    if pm.problem.is_admissible(package):
        return True
    pm.exclude_equivalent(package)
    return False


def certified_max(
    pm: PackageModel,
    obj: Objective,
    budget: Budget,
    *,
    assume: Sequence[cp_model.IntVar] = (),
    accept: Accept | None = None,
    reject_guard: cp_model.IntVar | None = None,
    settled: Callable[[float, float], bool] | None = None,
) -> Best:
    """Best float value of ``obj`` over admissible packages (step 1 of the module doc).

    ``accept`` further restricts the packages (a rejected one is cut off while
    ``reject_guard`` holds); ``assume`` are literals held true in every solve;
    ``settled(upper, best)`` says when no unseen package can matter (default: the
    upper bound is within the tolerance of the best value).
    """
    phase = pm.new_phase()
    guards = [*assume, *obj.assume, phase]
    raised: list[cp_model.IntVar] = []  # the current "better than the best" window, if any
    raised_at: float | None = None  # the best value that window was raised above
    best = Best(None, 0.0, False, False, None)
    visits = 0
    while True:
        found = pm.solve(budget, [*guards, *raised], obj.expr)
        if found.infeasible:
            best.proven = True
            best.infeasible = best.package is None
            if raised_at is not None:  # nothing beats the best by more than the tolerance
                best.upper = min(best.upper or math.inf, raised_at + slack(raised_at))
            return best
        if found.package is None:
            return best
        y = found.package
        value = _score(pm, obj, y, best, accept, reject_guard)
        if pm.last_solver is not None and obj.refine(pm.last_solver):
            continue
        if value is None:
            continue
        best.upper = max(best.value, obj.upper(found.bound))
        if not found.proven:
            return best
        if (settled or _within)(best.upper, best.value):
            best.proven = True
            return best
        visits += 1
        if visits > CAP:
            return best
        better = raised_at is None or best.value > raised_at
        if settled is None and better and close(value, best.value) and best.value > 0:
            # y ties with the best: rather than visit every tie of the best integer
            # value one by one, only packages better than the best are searched now.
            raised, raised_at = _raise(pm, obj, best, y), best.value
        else:
            pm.exclude_equivalent(y, [phase])


def _score(
    pm: PackageModel,
    obj: Objective,
    y: Package,
    best: Best,
    accept: Accept | None,
    reject_guard: cp_model.IntVar | None,
) -> float | None:
    """The float value of a found package, kept in ``best`` when better; None if unusable.

    An inadmissible package is cut off for good, a rejected one while ``reject_guard``
    holds. A usable package is kept even when the caller then refines the model: it is
    a real package.
    """
    if not admissible_or_cut(pm, y):
        return None
    if accept is not None and not accept(y):
        pm.exclude_equivalent(y, [] if reject_guard is None else [reject_guard])
        return None
    value = obj.value(pm.problem.utility(y))
    if best.package is None or value > best.value:
        best.package, best.value = y, value
    return value


def _raise(pm: PackageModel, obj: Objective, best: Best, y: Package) -> list[cp_model.IntVar]:
    """A new window of packages better than the best by more than the tolerance.

    The window's own rounding lets the best and its ties back in: they (the best and
    ``y``) are excluded while it holds.
    """
    raised = [pm.new_phase()]
    obj.window(best.value + slack(best.value), raised[0])
    for seen in {best.package, y}:
        if seen is not None:
            pm.exclude_equivalent(seen, raised)
    return raised


def _within(upper: float, best: float) -> bool:
    return upper <= best + slack(best)


@dataclass
class Choice:
    """The tie-broken optimum: package, whether other packages tie, and proof."""

    package: Package
    has_ties: bool | None
    proven: bool


def tie_break(pm: PackageModel, obj: Objective, best: Best, budget: Budget) -> Choice:
    """Largest welfare, then smallest option vector, among the optimal packages.

    Every search here maximises welfare inside the window of the rule's optimum: a
    linear objective, which CP-SAT handles far better than a max-min or logarithmic
    one (a 3-party egalitarian tie check at 160x6 took 0.53 s with the rule's own
    objective and takes 0.1 s with welfare).
    """
    assert best.package is not None
    problem = pm.problem
    top = best.value

    def is_tie(y: Package) -> bool:
        return close(obj.value(problem.utility(y)), top)

    window = pm.new_phase()
    guards = [window]
    theta = top - slack(top)
    if theta > 0:
        obj.window(theta, window)
        guards += obj.assume
    welfare = Welfare(pm)
    top_welfare = certified_max(
        pm, welfare, budget, assume=guards, accept=is_tie, reject_guard=window
    )
    if not top_welfare.proven or top_welfare.package is None:
        return Choice(best.package, None, False)
    w_star = top_welfare.value
    level = pm.new_phase()
    welfare.window(w_star - slack(w_star), level)

    def is_final(y: Package) -> bool:
        return is_tie(y) and close(welfare.value(problem.utility(y)), w_star)

    # The representative copy of the welfare-best tie is final too, and the smallest
    # final package uses only representative options (swapping an option for its
    # representative keeps it final and makes it smaller). The best other tie of those
    # by welfare tells whether another one is final; an interchangeable twin of the
    # copy's options is a tie without a search.
    rep = pm.representatives()
    copy = tuple(rep[i][o] for i, o in enumerate(top_welfare.package))
    if not (problem.is_admissible(copy) and is_final(copy)):
        copy = top_welfare.package
    twins = any(row.count(row[o]) > 1 for row, o in zip(rep, copy, strict=True))
    canonical = pm.new_phase()
    pm.only_representatives(canonical, rep)
    other = pm.new_phase()
    pm.exclude(copy, [other])
    while True:
        found = pm.solve(budget, [*guards, canonical, other], welfare.expr)
        if found.infeasible:
            return Choice(copy, twins, True)
        if found.package is None:
            return Choice(copy, True if twins else None, False)
        y = found.package
        if not admissible_or_cut(pm, y):
            continue
        if is_final(y):
            break
        if is_tie(y) and found.proven and welfare.upper(found.bound) < w_star - slack(w_star):
            return Choice(copy, True, True)  # other ties, none of them final
        pm.exclude_equivalent(y, [window] if not is_tie(y) else [other])
    floors = (obj.floors(top), lowest_tie(w_star))
    answer = _smallest_final(
        pm, copy, rep, [*guards, canonical], [window, level], is_final, floors, budget
    )
    if answer is None:
        return Choice(copy, True, False)
    return Choice(answer, True, True)


def _smallest_final(
    pm: PackageModel,
    known: Package,
    rep: list[list[int]],
    guards: list[cp_model.IntVar],
    windows: list[cp_model.IntVar],
    is_final: Accept,
    floors: tuple[list[float], float],
    budget: Budget,
) -> Package | None:
    """The lexicographically smallest final package (``known`` is one); None on time out.

    ``guards`` hold the window of the rule's optimum and confine the search to
    representative options (``rep``); ``windows`` are the literals of the optimum's
    and the best welfare's windows; ``floors`` the lower bounds every final package
    meets: on each party's utility, and on welfare. The lexicographic chunks cover
    only the issues where final packages can differ
    (:mod:`~backchannel.solvers.cpsat.fixing`).
    """
    domains = final_domains(pm.problem, *floors)
    if domains is not None:
        domains = [[j for j in row if rep[i][j] == j] for i, row in enumerate(domains)]
        if any(o not in row for o, row in zip(known, domains, strict=True)):
            domains = None  # cannot happen (a final package is inside); stay exact regardless
    while True:
        found = pm.lexmin(budget, [*guards, windows[1]], domains)
        if found.package is None or not found.proven:
            return None
        y = found.package
        if not admissible_or_cut(pm, y):
            continue
        if is_final(y):
            return y
        pm.exclude_equivalent(y, windows)
