"""Bargaining objectives as CP-SAT objectives, one class per rule.

Each class gives the rule's exact float value (the definitions of
:class:`~backchannel.model.results.SettlementRule`, gains ``g_p = max(0, u_p - d_p)``), an
integer objective on the scaled model, and the two facts that make the integer
answer exact (see :mod:`backchannel.solvers.cpsat.settle`):

* :meth:`upper` turns a proven bound ``B`` of the integer objective into a float
  upper bound on the rule value of *every* package whose integer objective is at
  most ``B``, using the rounding bounds ``e_p`` of the scaled utilities;
* :meth:`window` states constraints that every package of rule value at least
  ``theta`` satisfies (a superset of the packages within the tolerance of ``theta``).

Integer objectives: welfare ``sum_p U_p``; egalitarian ``max t, t <= G'_p`` on the
finer gains ``G'_p`` of :meth:`PackageModel.fine_gain` (scale ``FINE = 10**9``, so
the rounding of ``d_p`` no longer makes equal integer optima look better than they
are; ``G_p`` for non-additive utilities); KS
``max t, t * I_p <= L * max(G_p, 0)`` with ``I_p = round(S * (ideal_p - d_p))`` and
``L = S**2`` over parties with ``ideal_p - d_p > TOL`` (the others have ratio 1);
Nash ``max sum_p Lambda_p`` with ``Lambda_p`` below tangents of ``K ln H_p``,
``H_p = G_p + ceil(S * e_p)`` (so ``g_p <= H_p / S``), ``K = 10**10``. Each tangent
has an integer slope (small, well-conditioned coefficients); 24 of them start
geometrically over three decades below the party's largest possible gain, and each
incumbent whose approximation is loose adds one at its ``H_p`` and a small fan
around it (Kelley's cutting planes), until the incumbent's true log value meets
the model's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ortools.sat.python import cp_model

from backchannel.model.results import SettlementRule
from backchannel.solvers.cpsat.package_model import FINE, TOL, PackageModel, S
from backchannel.solvers.scoring import lowest_tie

K = 10**10
"""Scale of the logarithms in the Nash objective."""

L = S * S
"""Scale of the Kalai-Smorodinsky ratios."""

TANGENTS = 24
"""Initial tangents of each party's log gain, spread over three decades below its peak."""


def _gains(utilities: Sequence[float], disagreement: Sequence[float]) -> list[float]:
    return [max(0.0, u - d) for u, d in zip(utilities, disagreement, strict=True)]


def _at_least(pm: PackageModel, p: int, gain: float, guard: cp_model.IntVar) -> None:
    """Keep every package with ``g_p >= gain`` (and few others) while ``guard`` holds.

    On an additive utility the gain is stated at :data:`FINE` resolution, so the
    window separates packages whose gains differ by far less than ``1 / S``: a
    certified search that raises it above its best value then meets almost no
    package that only the rounding lets in. Otherwise ``G_p >= S * (gain - e_p)``.
    """
    fine = pm.fine_gain(p)
    if fine is not None:
        expr, error = fine
        pm.model.add(expr >= math.ceil(FINE * (gain - error) - 1e-6)).only_enforce_if(guard)
        return
    threshold = math.ceil(S * (gain - pm.gain_error[p]) - 1e-6)
    pm.model.add(pm.gain(p) >= threshold).only_enforce_if(guard)


class Welfare:
    """``sum_p u_p`` over ``parties`` (all by default; one party gives its ideal)."""

    def __init__(self, pm: PackageModel, parties: Sequence[int] | None = None) -> None:
        self.parties = list(range(len(pm.utility))) if parties is None else list(parties)
        self.error = sum(pm.error[p] for p in self.parties)
        self.ceiling = sum(pm.ceiling[p] for p in self.parties)
        self.pm = pm
        self.assume: list[cp_model.IntVar] = []
        self.expr: cp_model.LinearExprT = sum(pm.utility[p] for p in self.parties)

    def value(self, utilities: Sequence[float]) -> float:
        """The float objective."""
        return sum(utilities[p] for p in self.parties)

    def upper(self, bound: int) -> float:
        """Float bound of packages with ``sum U_p <= bound`` (never above the utility ceilings)."""
        return min(bound / S + self.error, self.ceiling)

    def floors(self, top: float) -> list[float]:
        """A lower bound on each party's utility in every package whose value is within
        the tolerance of ``top`` (``-inf``: none); welfare bounds no single party."""
        return [-math.inf] * len(self.pm.utility)

    def window(self, theta: float, guard: cp_model.IntVar) -> None:
        """Keep every package with value ``>= theta``."""
        threshold = math.ceil(S * (theta - self.error) - 1e-6)
        self.pm.model.add(self.expr >= threshold).only_enforce_if(guard)

    def refine(self, solver: cp_model.CpSolver) -> bool:
        """Linear objectives are exact: nothing to refine."""
        return False


class Egalitarian(Welfare):
    """``min_p g_p``: maximise ``t <= G'_p`` (``G_p`` unless every utility is additive)."""

    def __init__(self, pm: PackageModel) -> None:
        super().__init__(pm)
        self.disagreement = pm.problem.disagreement
        fine = [pm.fine_gain(p) for p in self.parties]
        if all(f is not None for f in fine):
            self.scale, gains = FINE, [f[0] for f in fine if f is not None]
            self.errors = [f[1] for f in fine if f is not None]
        else:
            self.scale, gains = S, [pm.gain(p) for p in self.parties]
            self.errors = list(pm.gain_error)
        t = pm.model.new_int_var(-2 * self.scale, 2 * self.scale, "egal")
        for gain in gains:
            pm.model.add(t <= gain)
        self.expr = t

    def value(self, utilities: Sequence[float]) -> float:
        """The float objective."""
        return min(_gains(utilities, self.disagreement))

    def upper(self, bound: int) -> float:
        """Some party's scaled gain is at most ``bound``, so its ``g_p <= bound / scale + e_p``."""
        ceiling = min(c - d for c, d in zip(self.pm.ceiling, self.disagreement, strict=True))
        return max(0.0, min(bound / self.scale + max(self.errors), ceiling))

    def floors(self, top: float) -> list[float]:
        """Every gain is at least the (tolerated) minimum."""
        low = lowest_tie(top)
        return [d + low if low > 0 else -math.inf for d in self.disagreement]

    def window(self, theta: float, guard: cp_model.IntVar) -> None:
        """Every party keeps a gain of at least ``theta``."""
        for p in self.parties:
            _at_least(self.pm, p, theta, guard)


class KalaiSmorodinsky(Welfare):
    """``min_p g_p / (ideal_p - d_p)``: maximise ``t`` with ``t * I_p <= L * max(G_p, 0)``."""

    def __init__(self, pm: PackageModel, ideal: Sequence[float]) -> None:
        super().__init__(pm)
        self.disagreement = pm.problem.disagreement
        self.span = [i - d for i, d in zip(ideal, self.disagreement, strict=True)]
        self.active = [p for p in self.parties if self.span[p] > TOL]
        self.scaled = {p: max(1, round(S * self.span[p])) for p in self.active}
        t = pm.model.new_int_var(0, L, "ks")
        for p in self.active:
            h = pm.model.new_int_var(0, 4 * S, f"h{p}")
            pm.model.add_max_equality(h, [pm.gain(p), 0])
            pm.model.add(t * self.scaled[p] <= L * h)
        self.expr = t

    def value(self, utilities: Sequence[float]) -> float:
        """The float objective."""
        gains = _gains(utilities, self.disagreement)
        return min([gains[p] / self.span[p] for p in self.active], default=1.0)

    def value_raised(self, utilities: Sequence[float]) -> float:
        """The objective when the ideal point is only the best utility found (a search cut
        short): each party's ideal is taken as at least its utility here, so the value
        stays in [0, 1] as every Kalai-Smorodinsky value does."""
        gains = _gains(utilities, self.disagreement)
        return min([gains[p] / max(self.span[p], gains[p]) for p in self.active], default=1.0)

    def upper(self, bound: int) -> float:
        """Some active party has ``L * max(G_p, 0) < (bound + 1) * I_p``."""
        if not self.active:
            return 1.0
        return max(
            ((bound + 1) * self.scaled[p] / (L * S) + self.pm.gain_error[p]) / self.span[p]
            for p in self.active
        )

    def floors(self, top: float) -> list[float]:
        """Every active party's gain is at least its share of the (tolerated) minimum."""
        low = lowest_tie(top)
        out = [-math.inf] * len(self.disagreement)
        if low > 0:
            for p in self.active:
                out[p] = self.disagreement[p] + low * self.span[p]
        return out

    def window(self, theta: float, guard: cp_model.IntVar) -> None:
        """Every active party keeps ``g_p >= theta * (ideal_p - d_p)``."""
        for p in self.active:
            _at_least(self.pm, p, theta * self.span[p], guard)


class Nash(Welfare):
    """``prod_p g_p`` by the logarithms ``Lambda_p <= K ln H_p`` (tangents, Kelley refinement).

    Only packages with every ``H_p >= 1`` (a superset of those with a positive
    product) are searched while :attr:`assume` holds; when none exists every
    admissible package has product 0.
    """

    def __init__(self, pm: PackageModel) -> None:
        super().__init__(pm)
        self.disagreement = pm.problem.disagreement
        model = pm.model
        positive = model.new_bool_var("positive")
        self.assume = [positive]
        self.h: list[cp_model.IntVar] = []
        self.log: list[cp_model.IntVar] = []
        self.tangents: list[set[int]] = []
        self.rounds = 0
        for p in self.parties:
            shift = max(0, math.ceil(S * pm.gain_error[p] - 1e-6))
            top = max(2, 2 * S + shift - pm.disagreement[p])
            h = model.new_int_var(-4 * S, top, f"H{p}")
            model.add(h == pm.gain(p) + shift)
            model.add(h >= 1).only_enforce_if(positive)
            lam = model.new_int_var(0, math.ceil(K * math.log(top)) + 1, f"log{p}")
            self.h.append(h)
            self.log.append(lam)
            self.tangents.append(set())
            # Tangents where the optimum can be: geometric from the largest possible gain
            # down to a thousandth of it, and a few coarse ones below that.
            peak = max(
                2, min(top, math.ceil(S * (pm.ceiling[p] - pm.problem.disagreement[p])) + shift)
            )
            for k in range(TANGENTS):
                self._tangent(p, max(1, round(peak * 1000 ** (-k / (TANGENTS - 1)))))
            for k in range(4):
                self._tangent(p, max(1, round((peak / 1000) ** (k / 4))))
        self.expr = sum(self.log)

    def _tangent(self, p: int, a: int) -> None:
        """``Lambda_p <= m * H_p + c``: the tangent of ``K ln H`` at ``H = K / m``, ``m ~ K / a``.

        The slope ``m`` is an integer, so the tangent point ``K / m`` is within
        ``a**2 / K`` of ``a``; ``c >= K (ln(K / m) - 1)`` makes the line lie above
        ``K ln H`` everywhere (its maximum gap is at the tangent point). Small
        coefficients keep CP-SAT's linear relaxation well conditioned.
        """
        slope = max(1, round(K / a))
        if slope in self.tangents[p]:
            return
        self.tangents[p].add(slope)
        intercept = math.ceil(K * (math.log(K / slope) - 1)) + 1
        self.pm.model.add(self.log[p] <= slope * self.h[p] + intercept).only_enforce_if(
            self.assume[0]
        )

    def value(self, utilities: Sequence[float]) -> float:
        """The float objective."""
        return math.prod(_gains(utilities, self.disagreement))

    def upper(self, bound: int) -> float:
        """``sum_p K ln H_p <= bound + p`` for every package below the bound."""
        p = len(self.parties)
        return math.exp((bound + p) / K - p * math.log(S))

    def floors(self, top: float) -> list[float]:
        """A product of gains at least ``top`` needs each gain at least ``top`` over the
        largest product the other gains can reach (their utility ceilings)."""
        low = lowest_tie(top)
        reach = [max(c - d, 1e-12) for c, d in zip(self.pm.ceiling, self.disagreement, strict=True)]
        if low <= 0:
            return [-math.inf] * len(reach)
        return [
            d + low / math.prod(r for q, r in enumerate(reach) if q != p)
            for p, d in enumerate(self.disagreement)
        ]

    def window(self, theta: float, guard: cp_model.IntVar) -> None:
        """Keep every package with product ``>= theta`` (needs ``theta > 0``)."""
        p = len(self.parties)
        threshold = math.floor(K * (math.log(theta) + p * math.log(S))) - p - 1
        self.pm.model.add(self.expr >= threshold).only_enforce_if(guard)

    def refine(self, solver: cp_model.CpSolver) -> bool:
        """Add tangents where the incumbent's ``Lambda_p`` exceeds ``K ln H_p`` by more than 1,
        unless the incumbent's total gap is already too small to matter: then its value
        is within the tolerance of what the bound allows, and no round is needed.

        Besides the tangent at the incumbent's ``H_p``, a small fan of tangents around
        it (relative steps of 1 %, then 0.1 %, ... at later rounds) covers where the
        next incumbent usually lands, which saves most Kelley rounds.
        """
        hs = [solver.value(h) for h in self.h]
        gap = sum(
            max(0.0, solver.value(lam) - K * math.log(max(h, 1)))
            for lam, h in zip(self.log, hs, strict=True)
        )
        product = math.prod(max(h, 1) / S for h in hs)
        # Within this gap the bound already certifies the incumbent (see ``upper``):
        # a tighter envelope would only cost more rounds, each a full solve.
        harmless = K * math.log1p(TOL * max(1.0, product) / product) / 2 - len(hs) - 1
        if gap <= harmless:
            return False
        added = False
        step = 10.0 ** -(2 + self.rounds)
        self.rounds += 1
        for p in self.parties:
            h = solver.value(self.h[p])
            if solver.value(self.log[p]) > K * math.log(h) + 1:
                before = len(self.tangents[p])
                self._tangent(p, h)
                for k in (-3, -2, -1, 1, 2, 3):
                    self._tangent(p, max(1, round(h * (1 + k * step))))
                added = added or len(self.tangents[p]) > before
        return added


Objective = Welfare | Egalitarian | KalaiSmorodinsky | Nash


def objective(pm: PackageModel, rule: SettlementRule, ideal: Sequence[float] = ()) -> Objective:
    """The objective class of a rule (KS needs the ideal utilities)."""
    if rule is SettlementRule.WELFARE:
        return Welfare(pm)
    if rule is SettlementRule.EGALITARIAN:
        return Egalitarian(pm)
    if rule is SettlementRule.KS:
        return KalaiSmorodinsky(pm, ideal)
    return Nash(pm)
