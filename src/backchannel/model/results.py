"""Typed answers of the negotiation engine.

Every engine (vectorised enumeration, the 2-party frontier programme, CP-SAT)
returns these types, and the solver-independent validator checks them against the
:class:`~backchannel.model.problem.Problem` they answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backchannel.model.frontier import FrontierPoints
    from backchannel.model.problem import Package


class SettlementRule(str, Enum):
    """Bargaining solutions a settlement can follow.

    * ``nash``: maximise ``prod_p (u_p - d_p)``;
    * ``ks`` (Kalai-Smorodinsky): maximise ``min_p (u_p - d_p) / (ideal_p - d_p)``,
      ``ideal_p`` the best admissible ``u_p``;
    * ``egalitarian``: maximise ``min_p (u_p - d_p)``;
    * ``welfare``: maximise ``sum_p u_p``.
    """

    NASH = "nash"
    KS = "ks"
    EGALITARIAN = "egalitarian"
    WELFARE = "welfare"


class Status(str, Enum):
    """How far an answer is proven."""

    OPTIMAL = "optimal"  # proven (feasibility decided, optimum proven, set complete)
    FEASIBLE = "feasible"  # a valid answer, not proven best: a time limit was hit
    INFEASIBLE = "infeasible"  # proven: no admissible package exists
    UNKNOWN = "unknown"  # the time limit was hit before anything was decided


@dataclass(frozen=True)
class Certificate:
    """Evidence for "no package is admissible", which the validator checks.

    ``clash`` names constraints (red lines, minimum utilities, reservations) that
    cannot all hold together. The engine that answered gives it; it need not be
    minimal (the whole constraint list always qualifies). ``proof`` is filled in by
    the validator: how it proved the clash unsatisfiable without trusting that
    engine (``"issue enumeration"``, or ``"re-solved by <engine>"`` with another
    engine), or ``None`` when no proof fitted within its limits: the answer is then
    not certified.
    """

    clash: tuple[str, ...]
    proof: str | None = None

    @property
    def certified(self) -> bool:
        """Whether the validator proved the clash unsatisfiable."""
        return self.proof is not None


@dataclass(frozen=True)
class ZoneResult:
    """Answer of ``check``: is there a zone of possible agreement?

    ``viable[i]`` lists the option indices of issue ``i`` used by at least one
    admissible package. ``count`` is the exact number of admissible packages when
    the engine enumerated them, else ``None``. ``witness`` is one admissible
    package when one exists; ``certificate`` backs an ``INFEASIBLE`` status.
    """

    status: Status
    viable: tuple[tuple[int, ...], ...]
    witness: Package | None
    count: int | None
    method: str
    seconds: float
    certificate: Certificate | None = None

    @property
    def exists(self) -> bool | None:
        """True/False when decided, None when the time limit stopped the search."""
        if self.status is Status.UNKNOWN:
            return None
        return self.status is not Status.INFEASIBLE


@dataclass(frozen=True)
class ClashSet:
    """Red lines (constraint ids) that cannot all hold together.

    ``minimal`` is True when dropping any one of them was proven to make the rest
    satisfiable.
    """

    constraint_ids: tuple[str, ...]
    minimal: bool


@dataclass(frozen=True)
class Relaxation:
    """Constraint ids whose removal makes agreement possible, and their total firmness."""

    constraint_ids: tuple[str, ...]
    cost: float
    witness: Package


@dataclass(frozen=True)
class ClashesResult:
    """Answer of ``clashes``.

    ``clash_sets``: minimal clashing sets, up to the requested limit
    (``complete`` says whether every minimal set was found). ``relaxations``: every
    set of minimum total firmness found (``status`` OPTIMAL when the minimum is
    proven), each with an admissible package of the relaxed problem.
    ``feasible=False`` is backed by ``certificate``, except when the time limit
    stopped the search before anything was decided (then nothing else is reported
    and ``relaxation_status`` is ``UNKNOWN``).
    """

    feasible: bool
    clash_sets: tuple[ClashSet, ...]
    complete: bool
    relaxations: tuple[Relaxation, ...]
    relaxation_status: Status
    method: str
    seconds: float
    certificate: Certificate | None = None


@dataclass(frozen=True)
class Settlement:
    """Answer of ``settle`` for one rule.

    ``value`` is the rule's objective at ``package`` (exact float re-evaluation);
    ``bound`` an upper bound on the optimum (equal to ``value`` when proven).
    ``ties`` counts the other admissible packages reaching the same value when it
    is known exactly (enumeration), else ``None``; ``has_ties`` tells whether at
    least one other package reaches it. Ties are broken by welfare, then by the
    smallest option-index vector.
    """

    rule: SettlementRule
    status: Status
    package: Package | None
    utilities: tuple[float, ...]
    value: float | None
    bound: float | None
    has_ties: bool | None
    ties: int | None
    method: str
    seconds: float


@dataclass(frozen=True)
class FrontierPoint:
    """A Pareto-efficient admissible package and its utilities."""

    package: Package
    utilities: tuple[float, ...]


@dataclass(frozen=True)
class Coverage:
    """How well a representative set covers the frontier (3 or more parties).

    Every admissible package has a representative at most ``bound`` behind it on every
    side (proven); ``gap`` is how far ahead of every representative the furthest package
    found is, so the true gap lies in ``[gap, bound]``, and ``proven`` says the search
    for it was complete (then ``bound`` only adds the rounding of the scaled
    utilities). ``target`` is the gap asked for, if any (see
    :mod:`backchannel.solvers.cpsat.coverage`).
    """

    gap: float
    bound: float
    proven: bool
    target: float | None = None


@dataclass(frozen=True)
class FrontierResult:
    """Answer of ``frontier``: exact for 2 parties, a representative set for more.

    ``points`` are kept as arrays (:class:`~backchannel.model.frontier.FrontierPoints`),
    sorted by utility. ``coverage`` states the quality of a representative set (None
    for an exact frontier).
    """

    points: FrontierPoints
    exact: bool
    status: Status
    method: str
    seconds: float
    coverage: Coverage | None = None


@dataclass(frozen=True)
class MesoResult:
    """Answer of ``meso``: packages nearly equal for one party, different for others.

    ``target`` is the utility level the packages share for ``party`` (within
    ``tolerance``); ``spread`` is the smallest pairwise distance between the other
    parties' utility vectors, the quantity maximised.
    """

    party: str
    target: float
    tolerance: float
    points: tuple[FrontierPoint, ...]
    spread: float
    status: Status
    method: str
    seconds: float
