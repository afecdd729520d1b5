"""The numeric form of a case that every engine works on.

A :class:`~backchannel.model.case.Case` is compiled (by
:func:`backchannel.model.compile.compile_case`) into one :class:`Problem`: issues as
lists of options, utilities as per-issue tables of floats, and every red line as
clauses over option literals. Engines only ever see a ``Problem``.

Definitions (stated the same way in ``docs/explanation/definitions.md``)
-------------------------------------------------------------
* A **package** picks one option per issue; here it is a tuple of option indices.
* The **utility** ``u_p`` of a package for party ``p`` is ``sum_i weight_i x rating_i``
  normalised to [0, 1] (weights divided by their sum, ratings by 100).
* The **disagreement point** ``d_p`` is the party's reservation value (0 when none
  is given).
* A package is **admissible** when it respects every red line of every party
  (absent stakeholders included) and ``u_p >= d_p`` for every party.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from numpy.typing import NDArray

from backchannel.model.case import IssueKind

Package = tuple[int, ...]
"""One option index per issue, in the problem's issue order."""

OptionValue = str | int | float
"""How an option appears in machine output: its name, or its number."""

UTILITY_TOLERANCE = 1e-9
"""Utilities closer than this are equal (float noise of a sum of a few hundred terms)."""


@dataclass(frozen=True)
class IssueDomain:
    """The options of one issue, in the order the file gives them."""

    name: str
    kind: IssueKind
    labels: tuple[str, ...]
    values: tuple[OptionValue, ...]
    unit: str | None = None

    @property
    def size(self) -> int:
        """Number of options."""
        return len(self.labels)


@dataclass(frozen=True)
class Literal:
    """ "Issue ``issue`` takes one of the options in ``allowed``"."""

    issue: int
    allowed: frozenset[int]

    def holds(self, package: Package) -> bool:
        """Whether the package satisfies this literal."""
        return package[self.issue] in self.allowed


Clause = tuple[Literal, ...]
"""A disjunction: satisfied when at least one literal holds."""


class ConstraintKind(str, Enum):
    """The form a red line was written in (or a reservation value)."""

    FORBID = "forbid"
    REQUIRE = "require"
    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    CONDITIONAL = "conditional"
    MIN_UTILITY = "min_utility"
    RESERVATION = "reservation"


@dataclass(frozen=True)
class Constraint:
    """A red line (or a reservation value) in solver-ready form.

    Clause constraints hold when every clause holds. Utility constraints
    (``MIN_UTILITY`` and ``RESERVATION``) hold when the utility of party
    ``utility_party`` is at least ``bound``.
    """

    id: str
    party: str
    kind: ConstraintKind
    firmness: float
    stated: bool
    text: str
    clauses: tuple[Clause, ...] = ()
    utility_party: int | None = None
    bound: float = 0.0

    @property
    def is_utility(self) -> bool:
        """Whether this is a bound on a party's utility."""
        return self.utility_party is not None

    def issues(self) -> frozenset[int]:
        """The issues this constraint's clauses mention."""
        return frozenset(lit.issue for clause in self.clauses for lit in clause)


@dataclass(frozen=True)
class AdditiveUtility:
    """``u(x) = sum_i tables[i][x_i]``; ``weights`` kept to renormalise sub-agendas."""

    tables: tuple[NDArray[np.float64], ...]
    weights: NDArray[np.float64]

    def value(self, package: Package) -> float:
        """Utility of a package (exact float sum, in issue order)."""
        return float(sum(float(t[o]) for t, o in zip(self.tables, package, strict=True)))


@dataclass(frozen=True)
class RectangleTerm:
    """``value`` counts when every literal holds."""

    value: float
    literals: tuple[Literal, ...]


@dataclass(frozen=True)
class RectangleUtility:
    """``u(x) = min(1, sum of values of the terms containing x / max_value)``."""

    max_value: float
    terms: tuple[RectangleTerm, ...]

    def value(self, package: Package) -> float:
        """Utility of a package."""
        total = sum(t.value for t in self.terms if all(lit.holds(package) for lit in t.literals))
        return min(1.0, total / self.max_value)


Utility = AdditiveUtility | RectangleUtility


@dataclass(frozen=True)
class Problem:
    """A compiled case.

    ``utility_parties`` are the parties with preferences (the delegations), in file
    order; ``utilities`` and ``disagreement`` are indexed like them. ``parties`` lists
    every party, absent stakeholders included. ``constraints`` holds every red line
    followed by one ``RESERVATION`` constraint per utility party.
    """

    title: str
    issues: tuple[IssueDomain, ...]
    parties: tuple[str, ...]
    utility_parties: tuple[str, ...]
    utilities: tuple[Utility, ...]
    disagreement: tuple[float, ...]
    constraints: tuple[Constraint, ...]
    metadata: dict[str, object] = field(default_factory=dict, compare=False)

    # ------------------------------------------------------------------ sizes
    @property
    def n_packages(self) -> int:
        """Number of packages (the product of the issue sizes); exact integer."""
        total = 1
        for issue in self.issues:
            total *= issue.size
        return total

    @property
    def is_additive(self) -> bool:
        """Whether every utility is additive over issues."""
        return all(isinstance(u, AdditiveUtility) for u in self.utilities)

    # ------------------------------------------------------------ evaluation
    def utility(self, package: Package) -> tuple[float, ...]:
        """The utility of a package for every utility party."""
        return tuple(u.value(package) for u in self.utilities)

    def constraint_holds(self, constraint: Constraint, package: Package) -> bool:
        """Whether the package respects one constraint."""
        if constraint.utility_party is not None:
            value = self.utilities[constraint.utility_party].value(package)
            return value >= constraint.bound - UTILITY_TOLERANCE
        return all(any(lit.holds(package) for lit in clause) for clause in constraint.clauses)

    def violated(
        self, package: Package, constraints: Iterable[Constraint] | None = None
    ) -> list[Constraint]:
        """The constraints (all of them by default) the package does not respect."""
        pool = self.constraints if constraints is None else constraints
        return [c for c in pool if not self.constraint_holds(c, package)]

    def is_admissible(self, package: Package) -> bool:
        """Whether the package respects every red line and every reservation."""
        return not self.violated(package)

    # --------------------------------------------------------------- display
    def package_values(self, package: Package) -> dict[str, OptionValue]:
        """``{issue name: option}`` with names and numbers exactly as in the file."""
        return {issue.name: issue.values[o] for issue, o in zip(self.issues, package, strict=True)}

    def package_labels(self, package: Package) -> dict[str, str]:
        """``{issue name: option label}`` for display."""
        return {issue.name: issue.labels[o] for issue, o in zip(self.issues, package, strict=True)}

    def constraint(self, constraint_id: str) -> Constraint:
        """The constraint with this id."""
        for c in self.constraints:
            if c.id == constraint_id:
                return c
        raise KeyError(constraint_id)

    def issue_index(self, name: str) -> int:
        """Index of the issue with this name."""
        for i, issue in enumerate(self.issues):
            if issue.name == name:
                return i
        raise KeyError(name)

    # ------------------------------------------------------------- variants
    def without(self, constraint_ids: Iterable[str]) -> Problem:
        """The same problem with some constraints dropped (a relaxation)."""
        drop = set(constraint_ids)
        kept = tuple(c for c in self.constraints if c.id not in drop)
        return Problem(
            self.title,
            self.issues,
            self.parties,
            self.utility_parties,
            self.utilities,
            self.disagreement,
            kept,
            self.metadata,
        )

    def restricted_to(self, issue_names: Sequence[str]) -> Problem:
        """The sub-agenda of some issues, for a partial deal.

        Each party's weights are renormalised over the kept issues; red lines that
        mention a dropped issue are left out (they cannot be judged on a partial
        package); utility bounds keep their values on the renormalised scale.
        Only additive utilities can be restricted.
        """
        keep = [self.issue_index(name) for name in issue_names]
        position = {old: new for new, old in enumerate(keep)}
        utilities: list[Utility] = []
        for u in self.utilities:
            if not isinstance(u, AdditiveUtility):
                raise TypeError("only additive utilities can be restricted to a sub-agenda")
            weights = u.weights[keep]
            total = float(weights.sum())
            scale = 1.0 / total if total > 0 else 0.0
            utilities.append(
                AdditiveUtility(tuple(u.tables[i] * scale for i in keep), weights * scale)
            )
        constraints = []
        for c in self.constraints:
            if c.utility_party is None and not c.issues() <= position.keys():
                continue
            clauses = tuple(
                tuple(Literal(position[lit.issue], lit.allowed) for lit in clause)
                for clause in c.clauses
            )
            constraints.append(
                Constraint(
                    c.id,
                    c.party,
                    c.kind,
                    c.firmness,
                    c.stated,
                    c.text,
                    clauses,
                    c.utility_party,
                    c.bound,
                )
            )
        return Problem(
            self.title,
            tuple(self.issues[i] for i in keep),
            self.parties,
            self.utility_parties,
            tuple(utilities),
            self.disagreement,
            tuple(constraints),
            self.metadata,
        )
