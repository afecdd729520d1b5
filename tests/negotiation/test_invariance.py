"""Answers do not depend on the order of issues, options, parties or red lines.

A random problem and a relabelled copy of it (issues reordered, the options of every
issue reordered, utility parties reordered, red lines reordered; every table, literal,
clause, rectangle term and utility-party index remapped) are put to ``engine.check``,
``engine.settle`` (every rule), ``engine.frontier`` and ``engine.clashes``, and to
the CP-SAT engines directly; mapped back to the original labels, the answers agree:
zone existence, counts and viable options; settlement values, the utilities of a
unique optimum (with ties, the tie-break by smallest option vector legitimately
depends on the order, so only the value and welfare of the chosen package are
compared); the set of frontier utility vectors; feasibility, the cheapest relaxation
cost and, when complete, the clash sets as sets of ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.model.problem import (
    AdditiveUtility,
    Clause,
    Constraint,
    ConstraintKind,
    IssueDomain,
    Literal,
    Package,
    Problem,
    RectangleTerm,
    RectangleUtility,
    Utility,
)
from backchannel.model.results import (
    ClashesResult,
    FrontierResult,
    Settlement,
    SettlementRule,
    Status,
)
from backchannel.solvers import engine
from backchannel.solvers.cpsat import cpsat_frontier, cpsat_settle, cpsat_zone

from . import reference as ref
from .strategies import infeasible_leaning_problems, problems

ALL_RULES = [
    SettlementRule.NASH,
    SettlementRule.KS,
    SettlementRule.EGALITARIAN,
    SettlementRule.WELFARE,
]

UTILITY_EPS = 1e-12
"""Reordered issues sum the same floats in another order: a few ulps apart at most."""


@dataclass(frozen=True)
class Relabelling:
    """How the copy's labels relate to the original's.

    New issue ``k`` is old issue ``issues[k]``; new option ``j`` of old issue ``i`` is
    old option ``options[i][j]``; new utility party ``m`` is old party ``parties[m]``;
    the copy lists the red lines in the order ``red_lines`` (ids).
    """

    issues: tuple[int, ...]
    options: tuple[tuple[int, ...], ...]
    parties: tuple[int, ...]
    red_lines: tuple[str, ...]

    @property
    def issue_position(self) -> dict[int, int]:
        """Old issue index -> new issue index."""
        return {old: new for new, old in enumerate(self.issues)}

    def option_position(self, issue: int) -> dict[int, int]:
        """Old option -> new option, for old issue ``issue``."""
        return {old: new for new, old in enumerate(self.options[issue])}

    @property
    def party_position(self) -> dict[int, int]:
        """Old utility party -> new utility party."""
        return {old: new for new, old in enumerate(self.parties)}

    # ---------------------------------------------------------------- packages
    def forward(self, package: Package) -> Package:
        """An original package in the copy's labels."""
        return tuple(self.option_position(i)[package[i]] for i in self.issues)

    def back(self, package: Package) -> Package:
        """A package of the copy in the original labels."""
        position = self.issue_position
        return tuple(self.options[i][package[position[i]]] for i in range(len(self.issues)))

    def back_utilities(self, utilities: tuple[float, ...]) -> tuple[float, ...]:
        """Utilities of the copy's parties in the original party order."""
        position = self.party_position
        return tuple(utilities[position[p]] for p in range(len(self.parties)))

    def back_viable(self, viable: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
        """Viable options of the copy in the original labels (sorted)."""
        position = self.issue_position
        return tuple(
            tuple(sorted(self.options[i][j] for j in viable[position[i]]))
            for i in range(len(self.issues))
        )

    # ------------------------------------------------------------------ model
    def literal(self, lit: Literal) -> Literal:
        """A literal in the copy's labels."""
        options = self.option_position(lit.issue)
        return Literal(self.issue_position[lit.issue], frozenset(options[o] for o in lit.allowed))

    def literals(self, lits: tuple[Literal, ...]) -> tuple[Literal, ...]:
        """Literals in the copy's labels, sorted by the copy's issue order."""
        return tuple(sorted((self.literal(lit) for lit in lits), key=lambda lit: lit.issue))

    def utility(self, u: Utility) -> Utility:
        """A utility over the copy's issues and options."""
        if isinstance(u, AdditiveUtility):
            tables = tuple(
                np.asarray(u.tables[i], dtype=np.float64)[list(self.options[i])].copy()
                for i in self.issues
            )
            return AdditiveUtility(tables, np.asarray(u.weights)[list(self.issues)].copy())
        terms = tuple(RectangleTerm(t.value, self.literals(t.literals)) for t in u.terms)
        return RectangleUtility(u.max_value, terms)

    def constraint(self, c: Constraint) -> Constraint:
        """A constraint in the copy's labels."""
        clauses: tuple[Clause, ...] = tuple(self.literals(clause) for clause in c.clauses)
        party = None if c.utility_party is None else self.party_position[c.utility_party]
        return Constraint(
            c.id, c.party, c.kind, c.firmness, c.stated, c.text, clauses, party, c.bound
        )

    def problem(self, problem: Problem) -> Problem:
        """The relabelled copy of ``problem``."""
        issues = []
        for i in self.issues:
            old = problem.issues[i]
            order = self.options[i]
            issues.append(
                IssueDomain(
                    old.name,
                    old.kind,
                    tuple(old.labels[o] for o in order),
                    tuple(old.values[o] for o in order),
                    old.unit,
                )
            )
        names = tuple(problem.utility_parties[p] for p in self.parties)
        absent = tuple(name for name in problem.parties if name not in problem.utility_parties)
        by_id = {c.id: c for c in problem.constraints}
        reservations = [
            c
            for p in self.parties
            for c in problem.constraints
            if c.kind is ConstraintKind.RESERVATION and c.utility_party == p
        ]
        constraints = [by_id[i] for i in self.red_lines] + reservations
        return Problem(
            problem.title,
            tuple(issues),
            (*names, *absent),
            names,
            tuple(self.utility(problem.utilities[p]) for p in self.parties),
            tuple(problem.disagreement[p] for p in self.parties),
            tuple(self.constraint(c) for c in constraints),
        )


@st.composite
def relabelled(
    draw: st.DrawFn, strategy: st.SearchStrategy[Problem]
) -> tuple[Problem, Problem, Relabelling]:
    """``(problem, copy, relabelling)`` with every order drawn at random."""
    problem = draw(strategy)
    n = len(problem.issues)
    red_lines = [c.id for c in problem.constraints if c.kind is not ConstraintKind.RESERVATION]
    relabelling = Relabelling(
        issues=tuple(draw(st.permutations(range(n)))),
        options=tuple(tuple(draw(st.permutations(range(d.size)))) for d in problem.issues),
        parties=tuple(draw(st.permutations(range(len(problem.utilities))))),
        red_lines=tuple(draw(st.permutations(red_lines))),
    )
    return problem, relabelling.problem(problem), relabelling


def _close_vectors(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= UTILITY_EPS for x, y in zip(a, b, strict=True))


# ------------------------------------------------------------------ the helper
@settings(max_examples=30, deadline=None)
@given(relabelled(problems(rectangles=True)))
def test_relabelling_preserves_every_package(case: tuple[Problem, Problem, Relabelling]) -> None:
    """The helper itself: each package keeps its utilities and its broken red lines."""
    problem, copy, r = case
    assert copy.n_packages == problem.n_packages
    for x in ref.all_packages(problem):
        y = r.forward(x)
        assert r.back(y) == x
        assert _close_vectors(r.back_utilities(copy.utility(y)), problem.utility(x))
        assert {c.id for c in copy.violated(y)} == {c.id for c in problem.violated(x)}


# -------------------------------------------------------------------- settling
def _assert_same_settlement(
    problem: Problem, r: Relabelling, rule: SettlementRule, first: Settlement, second: Settlement
) -> None:
    assert first.status is second.status, rule
    if first.package is None:
        assert second.package is None, rule
        return
    assert second.package is not None and first.value is not None and second.value is not None
    assert ref.close(first.value, second.value), (rule, first.value, second.value)
    assert first.has_ties == second.has_ties, rule
    assert first.ties == second.ties, rule
    back = r.back(second.package)
    if first.has_ties is False:  # a unique optimum: the same package, whatever the order
        assert back == first.package, rule
        assert _close_vectors(r.back_utilities(second.utilities), first.utilities), rule
        return
    # ties: the copy's choice is another optimal package of the largest welfare
    ideal = ref.ideals(problem)
    assert problem.is_admissible(back)
    assert ref.close(ref.rule_value(problem, rule, back, ideal), first.value), rule
    assert ref.close(sum(problem.utility(back)), sum(first.utilities)), rule


def _frontier_keys(result: FrontierResult, r: Relabelling | None = None) -> set[tuple[int, ...]]:
    if r is None:
        return {ref.key(p.utilities) for p in result.points}
    return {ref.key(r.back_utilities(p.utilities)) for p in result.points}


def _assert_same_clashes(first: ClashesResult, second: ClashesResult, limit: int) -> None:
    assert first.feasible is second.feasible
    assert first.relaxation_status is second.relaxation_status
    if first.feasible:
        return
    if first.complete and second.complete:
        assert {frozenset(s.constraint_ids) for s in first.clash_sets} == {
            frozenset(s.constraint_ids) for s in second.clash_sets
        }
    if first.relaxation_status is Status.OPTIMAL:
        costs = {round(x.cost, 6) for x in (*first.relaxations, *second.relaxations)}
        assert len(costs) == 1, costs
    if len(first.relaxations) < limit and len(second.relaxations) < limit:
        assert {frozenset(x.constraint_ids) for x in first.relaxations} == {
            frozenset(x.constraint_ids) for x in second.relaxations
        }


# ------------------------------------------------------------------ the engine
@settings(max_examples=180, deadline=None)
@given(
    relabelled(st.one_of(problems(rectangles=True), infeasible_leaning_problems(max_red_lines=2)))
)
def test_engine_answers_do_not_depend_on_order(case: tuple[Problem, Problem, Relabelling]) -> None:
    problem, copy, r = case

    zone, zone_copy = engine.check(problem), engine.check(copy)
    assert zone.status is zone_copy.status
    assert zone.count == zone_copy.count
    assert zone.viable == r.back_viable(zone_copy.viable)
    if zone_copy.witness is not None:
        assert problem.is_admissible(r.back(zone_copy.witness))

    answers, answers_copy = engine.settle(problem, ALL_RULES), engine.settle(copy, ALL_RULES)
    for rule in ALL_RULES:
        _assert_same_settlement(problem, r, rule, answers[rule], answers_copy[rule])

    front, front_copy = engine.frontier(problem), engine.frontier(copy)
    assert front.status is front_copy.status
    assert front.exact is front_copy.exact
    assert _frontier_keys(front) == _frontier_keys(front_copy, r)

    limit = 10
    found, found_copy = engine.clashes(problem, limit), engine.clashes(copy, limit)
    assert found.feasible is (zone.status is not Status.INFEASIBLE)
    _assert_same_clashes(found, found_copy, limit)


# ------------------------------------------------------------- CP-SAT directly
@settings(max_examples=150, deadline=None)
@given(
    relabelled(problems(rectangles=True, max_parties=3)),
    st.sampled_from(ALL_RULES),
)
def test_cpsat_answers_do_not_depend_on_order(
    case: tuple[Problem, Problem, Relabelling], rule: SettlementRule
) -> None:
    problem, copy, r = case

    zone, zone_copy = cpsat_zone(problem), cpsat_zone(copy)
    assert zone.status is zone_copy.status
    assert zone.viable == r.back_viable(zone_copy.viable)

    _assert_same_settlement(problem, r, rule, cpsat_settle(problem, rule), cpsat_settle(copy, rule))

    if len(problem.utilities) == 2:
        front, front_copy = cpsat_frontier(problem), cpsat_frontier(copy)
        assert front.exact and front_copy.exact
        assert _frontier_keys(front) == _frontier_keys(front_copy, r)
