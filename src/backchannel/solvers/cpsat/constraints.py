"""Red lines and utility bounds as CP-SAT constraints, one class per kind.

Each class states one :class:`~backchannel.model.problem.Constraint` on a
:class:`~backchannel.solvers.cpsat.package_model.PackageModel`, optionally guarded by a
literal (an assumption for conflict cores, a relaxation switch for MaxSAT): the
constraint must hold when the guard is true.

* :class:`ClauseRedLine` (forbid, require, at least, at most, conditional rules):
  each clause is ``OR`` of the option Booleans its literals allow; exact.
* :class:`UtilityBound` (minimum utility, reservation): ``u_p >= bound`` is stated
  *relaxed* on the scaled utility, ``U_p >= ceil(S * (bound - TOL - e_p))``, so that
  no admissible package is ever cut off by rounding. A package the relaxed form lets
  through but the float form rejects is caught by :meth:`PackageModel`-users through
  :func:`violated_bounds` and excluded with a cut; no answer ever violates a true bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ortools.sat.python import cp_model

from backchannel.model.problem import Constraint, Package, Problem
from backchannel.solvers.cpsat.package_model import TOL, PackageModel, S


class ClauseRedLine:
    """A red line in clause form: every clause must hold."""

    def __init__(self, constraint: Constraint) -> None:
        self.constraint = constraint

    def add(self, pm: PackageModel, guard: cp_model.IntVar | None = None) -> None:
        """State the clauses (only when ``guard`` is true, if given)."""
        extra = [] if guard is None else [~guard]
        for clause in self.constraint.clauses:
            pm.model.add_bool_or([*pm.clause_options(clause), *extra])


class UtilityBound:
    """``u_p >= bound`` for ``p = constraint.utility_party`` (relaxed by the rounding error)."""

    def __init__(self, constraint: Constraint) -> None:
        assert constraint.utility_party is not None
        self.constraint = constraint
        self.party: int = constraint.utility_party

    def add(self, pm: PackageModel, guard: cp_model.IntVar | None = None) -> None:
        """State the relaxed bound (only when ``guard`` is true, if given)."""
        threshold = math.ceil(S * (self.constraint.bound - TOL - pm.error[self.party]) - 1e-6)
        ct = pm.model.add(pm.utility[self.party] >= threshold)
        if guard is not None:
            ct.only_enforce_if(guard)


ConstraintClass = ClauseRedLine | UtilityBound


def constraint_class(constraint: Constraint) -> ConstraintClass:
    """The class stating this constraint."""
    return UtilityBound(constraint) if constraint.is_utility else ClauseRedLine(constraint)


def add_all(
    pm: PackageModel,
    constraints: Sequence[Constraint],
    guards: Sequence[cp_model.IntVar] | None = None,
) -> None:
    """State every constraint, each under its own guard when ``guards`` is given."""
    for n, constraint in enumerate(constraints):
        constraint_class(constraint).add(pm, None if guards is None else guards[n])


def violated_bounds(
    problem: Problem, package: Package, constraints: Sequence[Constraint]
) -> list[int]:
    """Positions (in ``constraints``) of the utility bounds the package violates in floats."""
    return [
        n
        for n, c in enumerate(constraints)
        if c.is_utility and not problem.constraint_holds(c, package)
    ]
