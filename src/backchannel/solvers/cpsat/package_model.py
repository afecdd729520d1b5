"""The one-hot CP-SAT model of a :class:`~backchannel.model.problem.Problem`.

Every CP-SAT question starts from :class:`PackageModel`: one Boolean ``x[i][j]`` per
option, ``ExactlyOne`` per issue, and one integer variable per utility party,

* additive: ``U_p = sum_i round(S * table_i[j]) * x[i][j]``;
* rectangles: one Boolean ``b_k`` per term, ``b_k <=> AND(literals)`` (a literal is
  the sum of its option Booleans), ``U_p = min(S, sum_k round(S * v_k / max) * b_k)``;

with ``S = 10**6``. The rounding is bounded exactly: ``|U_p / S - u_p| <= e_p`` for
every package, where ``e_p`` is the sum over issues (additive: the largest rounding
residual among the issue's options) or over terms (rectangles) of the residuals,
divided by ``S``. The engines never trust ``U_p`` for a final answer: every package
is re-scored with :meth:`Problem.utility` and re-checked against the float
constraints, and ``e_p`` tells them which packages can still beat the best one.

A model of more than :data:`MAX_MODEL_TERMS` terms is refused before it is built
(:func:`check_model_size`): building it alone would take minutes and gigabytes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from backchannel.errors import AnalysisError
from backchannel.model.problem import (
    UTILITY_TOLERANCE,
    AdditiveUtility,
    Literal,
    Package,
    Problem,
    RectangleTerm,
    RectangleUtility,
)

S = 1_000_000
"""Integer scale of utilities: ``U_p`` is ``u_p`` in millionths."""

TOL = UTILITY_TOLERANCE
"""Two objective values ``v, w`` are equal when ``|v - w| <= TOL * max(1, |v|, |w|)``."""

FINE = 10**9
"""Integer scale of the gains of a max-min objective (see :meth:`PackageModel.fine_gain`).

At ``10**10`` CP-SAT 9.15 returned a wrong "optimal" egalitarian value on a tiny case
once an assumption literal was present (tests/negotiation/test_cpsat_reference.py
found it); ``10**9`` stays well clear of that regime."""

LEX_CHUNK = 10**12
"""Largest weight of one lexicographic tie-break objective."""


MAX_MODEL_TERMS = 250_000
"""The most terms (option Booleans, and options named by red lines) a model may have."""

TERM_BYTES, TERM_SECONDS = 600, 20e-6
"""What one term costs to build, about (measured: 800,000 options took 14 s and 450 MB)."""


def model_terms(problem: Problem) -> int:
    """The size of the model of ``problem``: its options and the options its red lines name."""
    options = sum(issue.size for issue in problem.issues)
    named = sum(
        len(literal.allowed)
        for constraint in problem.constraints
        for clause in constraint.clauses
        for literal in clause
    )
    return options + named


def check_model_size(problem: Problem) -> None:
    """Refuse, before building it, a model larger than :data:`MAX_MODEL_TERMS`.

    Raises
    ------
    AnalysisError
        With the estimate (terms, memory, time to build) and what to do.
    """
    terms = model_terms(problem)
    if terms > MAX_MODEL_TERMS:
        raise AnalysisError(
            f"this case is too large for the CP-SAT engine: its model would have {terms:,} "
            f"option and red-line terms (about {terms * TERM_BYTES / 2**20:,.0f} MB and "
            f"{terms * TERM_SECONDS:,.0f} s to build); it takes at most {MAX_MODEL_TERMS:,}",
            hint="use coarser steps on the numeric issues, or analyse a partial deal on "
            "fewer issues with --issues",
        )


def close(a: float, b: float) -> bool:
    """Whether two objective values are equal within the shared tolerance."""
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))


def slack(value: float) -> float:
    """The tolerance around ``value`` used by :func:`close`."""
    return TOL * max(1.0, abs(value))


class Budget:
    """A wall-clock deadline shared by every solve of one question."""

    def __init__(self, seconds: float) -> None:
        self.start = time.perf_counter()
        self.deadline = self.start + max(0.0, seconds)
        self.exhausted = False

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.deadline - time.perf_counter())

    def elapsed(self) -> float:
        """Seconds since the question started."""
        return time.perf_counter() - self.start


@dataclass(frozen=True)
class Solved:
    """One solve: ``package`` is set when a solution was found, ``proven`` when optimal/complete."""

    package: Package | None
    proven: bool
    infeasible: bool
    objective: int
    bound: int


class PackageModel:
    """One-hot CP-SAT model of a problem with scaled utility variables (see module doc)."""

    def __init__(self, problem: Problem) -> None:
        check_model_size(problem)
        self.problem = problem
        self.model = cp_model.CpModel()
        self.x = [
            [self.model.new_bool_var(f"x{i}_{j}") for j in range(issue.size)]
            for i, issue in enumerate(problem.issues)
        ]
        for row in self.x:
            self.model.add_exactly_one(row)
        self.utility: list[cp_model.IntVar] = []
        self.error: list[float] = []
        self.terms: list[tuple[RectangleTerm, cp_model.IntVar]] = []
        self.ceiling: list[float] = []  # the largest float utility any package can have
        for p, u in enumerate(problem.utilities):
            if isinstance(u, AdditiveUtility):
                self._additive(p, u)
            else:
                self._rectangles(p, u)
        self.disagreement = [round(S * d) for d in problem.disagreement]
        self.gain_error = [
            e + abs(S * d - dd) / S
            for e, d, dd in zip(self.error, problem.disagreement, self.disagreement, strict=True)
        ]
        self.last_solver: cp_model.CpSolver | None = None
        self.linearization: int | None = None
        """CP-SAT's ``linearization_level`` for every solve (None: its default)."""

    # ------------------------------------------------------------ building
    def _additive(self, p: int, u: AdditiveUtility) -> None:
        terms: list[cp_model.LinearExprT] = []
        low = high = 0
        residual = 0.0
        for row, table in zip(self.x, u.tables, strict=True):
            scaled = [S * float(v) for v in table]
            coefs = [round(v) for v in scaled]
            residual += max(abs(v - c) for v, c in zip(scaled, coefs, strict=True))
            low += min(coefs)
            high += max(coefs)
            terms.extend(c * var for c, var in zip(coefs, row, strict=True) if c)
        var = self.model.new_int_var(low, high, f"U{p}")
        self.model.add(var == sum(terms))
        self.utility.append(var)
        self.error.append(residual / S + 1e-15 * len(u.tables))
        self.ceiling.append(sum(float(table.max()) for table in u.tables) + 1e-12 * len(u.tables))

    def _rectangles(self, p: int, u: RectangleUtility) -> None:
        terms: list[cp_model.LinearExprT] = []
        low = high = 0
        residual = 0.0
        for term in u.terms:
            scaled = S * term.value / u.max_value
            coef = round(scaled)
            residual += abs(scaled - coef)
            b = self.model.new_bool_var(f"r{p}_{len(terms)}")
            lits = [self.literal(lit) for lit in term.literals]
            for lit in lits:
                self.model.add(lit >= 1).only_enforce_if(b)
            self.model.add(sum(lits) <= len(lits) - 1).only_enforce_if(~b)
            terms.append(coef * b)
            self.terms.append((term, b))
            low += min(coef, 0)
            high += max(coef, 0)
        total = self.model.new_int_var(low, high, f"V{p}")
        self.model.add(total == sum(terms))
        var = self.model.new_int_var(low, S, f"U{p}")
        self.model.add_min_equality(var, [total, S])
        self.utility.append(var)
        self.error.append(residual / S + 1e-15 * max(1, len(u.terms)))
        positive = sum(max(term.value, 0.0) for term in u.terms) / u.max_value
        self.ceiling.append(min(1.0, positive) + 1e-12 * max(1, len(u.terms)))

    def literal(self, lit: Literal) -> cp_model.LinearExprT:
        """0/1 expression that is 1 when the literal holds (sum of its option Booleans)."""
        return sum(self.x[lit.issue][j] for j in sorted(lit.allowed))

    def clause_options(self, clause: Iterable[Literal]) -> list[cp_model.IntVar]:
        """The option Booleans of a clause: it holds when one of them is true."""
        return [self.x[lit.issue][j] for lit in clause for j in sorted(lit.allowed)]

    def fine_gain(self, p: int) -> tuple[cp_model.LinearExprT, float] | None:
        """``round(FINE * u_p) - round(FINE * d_p)`` as a sum over options, and its error.

        For an additive utility only (else None). The error bounds
        ``|expr / FINE - (u_p - d_p)|`` for every package, as ``e_p`` does for ``U_p``;
        at this scale it is far below the tolerance on typical agendas, so a max-min
        objective stated on these gains rarely needs to visit tied integer optima.
        """
        utility = self.problem.utilities[p]
        if not isinstance(utility, AdditiveUtility):
            return None
        terms: list[cp_model.LinearExprT] = []
        residual = 0.0
        for row, table in zip(self.x, utility.tables, strict=True):
            scaled = [FINE * float(v) for v in table]
            coefs = [round(v) for v in scaled]
            residual += max(abs(v - c) for v, c in zip(scaled, coefs, strict=True))
            terms.extend(c * var for c, var in zip(coefs, row, strict=True) if c)
        d = self.problem.disagreement[p]
        offset = round(FINE * d)
        error = (residual + abs(FINE * d - offset)) / FINE + 1e-15 * len(utility.tables)
        return sum(terms) - offset, error

    def gain(self, p: int) -> cp_model.LinearExprT:
        """``G_p = U_p - D_p``, the scaled gain over the disagreement point."""
        return self.utility[p] - self.disagreement[p]

    def new_phase(self) -> cp_model.IntVar:
        """A fresh literal that switches on the constraints of one search phase."""
        return self.model.new_bool_var("phase")

    def exclude(self, package: Package, guards: Sequence[cp_model.IntVar] = ()) -> None:
        """Forbid one package (while every guard is true)."""
        self.model.add_bool_or(
            [~self.x[i][o] for i, o in enumerate(package)] + [~g for g in guards]
        )

    def exclude_equivalent(self, package: Package, guards: Sequence[cp_model.IntVar] = ()) -> None:
        """Forbid every package with the same float utilities for the same reason as this one.

        Two packages are equivalent when, on every issue, their options score the same
        in every additive utility, and they switch on the same rectangle terms: then
        every party's utility is the same float. On rectangle utilities one class holds
        billions of packages, so a search that has judged one member never visits the
        others one by one.
        """
        tables = [u.tables for u in self.problem.utilities if isinstance(u, AdditiveUtility)]
        differ: list[cp_model.LiteralT] = []
        for i, (row, chosen) in enumerate(zip(self.x, package, strict=True)):
            differ.extend(
                var
                for j, var in enumerate(row)
                if any(float(t[i][j]) != float(t[i][chosen]) for t in tables)
            )
        for term, b in self.terms:
            on = all(lit.holds(package) for lit in term.literals)
            differ.append(~b if on else b)
        self.model.add_bool_or(differ + [~g for g in guards])

    def representatives(self) -> list[list[int]]:
        """``rep[i][j]``: the smallest option of issue ``i`` interchangeable with ``j``.

        Two options are interchangeable when every additive utility scores them the
        same and every literal (of a red line or a rectangle term) on the issue holds
        for both or for neither: swapping one for the other changes no utility and no
        constraint, so any package and its swapped copy are equally admissible and
        score the same under every rule.
        """
        tables = [u.tables for u in self.problem.utilities if isinstance(u, AdditiveUtility)]
        literals: list[list[frozenset[int]]] = [[] for _ in self.problem.issues]
        for constraint in self.problem.constraints:
            for clause in constraint.clauses:
                for lit in clause:
                    literals[lit.issue].append(lit.allowed)
        for term, _ in self.terms:
            for lit in term.literals:
                literals[lit.issue].append(lit.allowed)
        out = []
        for i, issue in enumerate(self.problem.issues):
            first: dict[tuple[object, ...], int] = {}
            row = []
            for j in range(issue.size):
                signature = (
                    *(float(t[i][j]) for t in tables),
                    *(j in allowed for allowed in literals[i]),
                )
                row.append(first.setdefault(signature, j))
            out.append(row)
        return out

    def only_representatives(self, guard: cp_model.IntVar, table: list[list[int]]) -> bool:
        """Forbid every option that is not its own representative while ``guard`` holds.

        ``table`` is :meth:`representatives`. Returns whether any option was forbidden
        (some issue has interchangeable options).
        """
        banned = [
            self.x[i][j] for i, row in enumerate(table) for j, rep in enumerate(row) if rep != j
        ]
        if banned:
            self.model.add_bool_and([~var for var in banned]).only_enforce_if(guard)
        return bool(banned)

    def hint(self, package: Package) -> None:
        """Suggest a package to start the search from (CP-SAT repairs it if infeasible)."""
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        for row, option in zip(self.x, package, strict=True):
            for j, var in enumerate(row):
                self.model.add_hint(var, j == option)

    def fix(self, issues: Iterable[int], package: Package, guard: cp_model.IntVar) -> None:
        """Fix some issues to the package's options while ``guard`` is true."""
        self.model.add_bool_and([self.x[i][package[i]] for i in issues]).only_enforce_if(guard)

    # -------------------------------------------------------------- solving
    def solve(
        self,
        budget: Budget,
        assume: Sequence[cp_model.IntVar] = (),
        objective: cp_model.LinearExprT | None = None,
        maximize: bool = True,
        workers: int = 2,
    ) -> Solved:
        """Solve under ``assume`` within the budget; optimise ``objective`` when given."""
        model = self.model
        model.clear_objective()  # type: ignore[no-untyped-call]
        if objective is not None:
            if maximize:
                model.maximize(objective)
            else:
                model.minimize(objective)
        model.clear_assumptions()
        model.add_assumptions(list(assume))
        seconds = budget.remaining()
        if seconds <= 0:
            budget.exhausted = True
            return Solved(None, False, False, 0, 0)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = seconds
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = 0
        # Light presolve: a question is a series of solves of one growing model, each
        # presolved from scratch, and on one-hot agendas probing and repeated presolve
        # rounds cost more than they save (3 parties, 2 instances each, every rule:
        # 320x6 worst 4.3 -> 1.7 s, 160x6 1.3 -> 1.35 s, 6-party Nash at 40x6 3.2 -> 0.5 s;
        # one 6-party egalitarian instance 3.1 -> 4.6 s, still within its target).
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.max_presolve_iterations = 1
        if self.linearization is not None:
            solver.parameters.linearization_level = self.linearization
        status = solver.solve(model)
        self.last_solver = solver
        if status == cp_model.INFEASIBLE:
            return Solved(None, True, True, 0, 0)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            budget.exhausted = True
            return Solved(None, False, False, 0, 0)
        package = tuple(
            next(j for j, var in enumerate(row) if solver.boolean_value(var)) for row in self.x
        )
        proven = status == cp_model.OPTIMAL
        if not proven:
            budget.exhausted = True
        if objective is None:
            return Solved(package, proven, False, 0, 0)
        value = round(solver.objective_value)
        bound = math.floor(solver.best_objective_bound + 0.5)
        return Solved(package, proven, False, value, bound if maximize else -bound)

    def lexmin(
        self,
        budget: Budget,
        assume: Sequence[cp_model.IntVar],
        domains: Sequence[Sequence[int]] | None = None,
    ) -> Solved:
        """The lexicographically smallest package under ``assume`` (one solve per chunk).

        ``domains`` (per issue, the options the answer may use; None: all) confine the
        search: an issue with one option left is decided and costs no chunk, and an
        option's weight is its rank among those left. Issues are taken in order, in
        chunks whose mixed-radix weight stays below :data:`LEX_CHUNK`; each chunk's
        best options are fixed before the next one.
        """
        phase = self.new_phase()
        guards = [*assume, phase]
        options = [list(range(len(row))) for row in self.x] if domains is None else domains
        banned = [
            var
            for row, left in zip(self.x, options, strict=True)
            for j, var in enumerate(row)
            if j not in left
        ]
        if banned:
            self.model.add_bool_and([~var for var in banned]).only_enforce_if(phase)
        chunks: list[list[int]] = [[]]
        weight = 1
        for i, left in enumerate(options):
            if len(left) < 2:
                continue
            if weight * len(left) > LEX_CHUNK and chunks[-1]:
                chunks.append([])
                weight = 1
            chunks[-1].append(i)
            weight *= len(left)
        found: Solved | None = None
        for chunk in chunks:
            expr: list[cp_model.LinearExprT] = []
            radix = 1
            for i in reversed(chunk):
                expr.extend(
                    radix * rank * self.x[i][j] for rank, j in enumerate(options[i]) if rank
                )
                radix *= len(options[i])
            if found is not None and found.package is not None:  # it meets every later chunk
                self.hint(found.package)
            found = self.solve(budget, guards, sum(expr), maximize=False, workers=1)
            self.model.clear_hints()  # type: ignore[no-untyped-call]
            if found.package is None or not found.proven:
                return found
            self.fix(chunk, found.package, phase)
        assert found is not None
        return found
