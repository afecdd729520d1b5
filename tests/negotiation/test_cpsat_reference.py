"""The CP-SAT engines equal the plain brute force on random small problems.

Every CP-SAT question is answered on problems of at most a few hundred packages
(additive and rectangle utilities, red lines of every kind, absent stakeholders) and
compared with :mod:`tests.negotiation.reference`, which enumerates every package:

* zone: existence, an admissible witness, viable options exactly those of brute force;
* settle: for every rule a proven (``OPTIMAL``) value equal to the brute-force optimum
  within the shared tolerance, the package the tie-break definition picks (welfare,
  then the smallest option vector), ``has_ties`` and ``bound`` consistent with it;
* clashes: each reported set unsatisfiable and minimal, ``complete`` sets exactly all
  minimal clash sets, cheapest relaxations of the brute-force minimum firmness;
* frontier: the exact 2-party frontier (keys and representatives), and for more parties
  a representative set of really Pareto-efficient points;
* MESO: admissible, in-band, distinct offers, the greedy steps optimal.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.model.problem import ConstraintKind, Package, Problem
from backchannel.model.results import SettlementRule, Status
from backchannel.solvers.cpsat import (
    cpsat_clashes,
    cpsat_frontier,
    cpsat_meso,
    cpsat_settle,
    cpsat_zone,
)
from backchannel.solvers.cpsat import frontier as frontier_module
from backchannel.solvers.validate import validate_clashes, validate_meso

from . import reference as ref
from .strategies import infeasible_leaning_problems, problems

ALL_RULES = [
    SettlementRule.NASH,
    SettlementRule.KS,
    SettlementRule.EGALITARIAN,
    SettlementRule.WELFARE,
]

MAX_CLASH_CONSTRAINTS = 8
"""Most constraints of a clashes example (the oracle enumerates every subset)."""

SOME_PROBLEMS = st.one_of(
    problems(rectangles=True, max_parties=5),
    infeasible_leaning_problems(rectangles=True),
)


@st.composite
def few_constraints(
    draw: st.DrawFn, *, rectangles: bool = False, max_parties: int = 4, max_red_lines: int = 3
) -> Problem:
    """An infeasible-leaning problem cut down to at most 8 constraints.

    Red lines beyond the budget are dropped (reservations are always kept), so no
    example is filtered away.
    """
    problem = draw(
        infeasible_leaning_problems(
            rectangles=rectangles, max_parties=max_parties, max_red_lines=max_red_lines
        )
    )
    lines = [c for c in problem.constraints if c.kind is not ConstraintKind.RESERVATION]
    reservations = [c for c in problem.constraints if c.kind is ConstraintKind.RESERVATION]
    room = max(0, MAX_CLASH_CONSTRAINTS - len(reservations))
    return dataclasses.replace(problem, constraints=(*lines[:room], *reservations))


def _violated_ids(problem: Problem, package: Package) -> frozenset[str]:
    return frozenset(c.id for c in problem.violated(package))


# --------------------------------------------------------------------------- zone
@settings(max_examples=150, deadline=None)
@given(SOME_PROBLEMS)
def test_zone_equals_brute_force(problem: Problem) -> None:
    pool = ref.admissible(problem)
    zone = cpsat_zone(problem)
    assert zone.status is (Status.OPTIMAL if pool else Status.INFEASIBLE)
    assert zone.exists is bool(pool)
    assert zone.viable == ref.viable(problem)
    assert zone.count is None
    if pool:
        assert zone.witness is not None
        assert problem.is_admissible(zone.witness)
        assert all(o in zone.viable[i] for i, o in enumerate(zone.witness))
    else:
        assert zone.witness is None


# --------------------------------------------------------------------- settlement
@settings(max_examples=300, deadline=None)
@given(SOME_PROBLEMS, st.sampled_from(ALL_RULES))
def test_settlement_equals_brute_force(problem: Problem, rule: SettlementRule) -> None:
    answer = cpsat_settle(problem, rule)
    assert answer.rule is rule
    expected = ref.settlement(problem, rule)
    if expected is None:
        assert answer.status is Status.INFEASIBLE
        assert answer.package is None
        assert answer.value is None
        return
    value, package, ties = expected
    assert answer.status is Status.OPTIMAL, answer
    assert answer.value is not None
    assert ref.close(answer.value, value), (rule, answer.value, value)
    assert answer.package == package, (rule, answer.package, package)
    assert answer.utilities == problem.utility(package)
    assert answer.bound == answer.value
    assert answer.ties is None
    assert answer.has_ties is (ties > 0), (rule, ties)


@settings(max_examples=60, deadline=None)
@given(problems(rectangles=True, min_issues=1, max_issues=2, min_options=2, max_options=3))
def test_every_rule_on_tie_heavy_tiny_problems(problem: Problem) -> None:
    """Few packages and coarse utilities: ties between optimal packages are common."""
    for rule in ALL_RULES:
        answer = cpsat_settle(problem, rule)
        expected = ref.settlement(problem, rule)
        if expected is None:
            assert answer.status is Status.INFEASIBLE
            continue
        value, package, ties = expected
        assert answer.status is Status.OPTIMAL
        assert answer.value is not None and ref.close(answer.value, value), rule
        assert answer.package == package, rule
        assert answer.has_ties is (ties > 0), rule


# ---------------------------------------------------------------------- clashes
@settings(max_examples=250, deadline=None)
@given(
    st.one_of(few_constraints(rectangles=True), few_constraints(max_parties=3, max_red_lines=1)),
    st.sampled_from([1, 2, 3, 10]),
)
def test_clashes_equal_brute_force(problem: Problem, limit: int) -> None:
    assert len(problem.constraints) <= MAX_CLASH_CONSTRAINTS
    result = cpsat_clashes(problem, limit=limit)
    validate_clashes(problem, result)
    if ref.admissible(problem):
        assert result.feasible
        assert result.clash_sets == ()
        assert result.relaxations == ()
        return
    assert not result.feasible
    minimal_sets = ref.minimal_clash_sets(problem)
    got = [frozenset(s.constraint_ids) for s in result.clash_sets]
    assert 1 <= len(got) <= limit
    assert len(set(got)) == len(got)
    for clash in result.clash_sets:
        ids = clash.constraint_ids
        assert not ref.satisfiable(problem, ids), ids
        assert clash.minimal, ids  # tiny problems never hit the time limit
        for drop in ids:
            assert ref.satisfiable(problem, [i for i in ids if i != drop]), (ids, drop)
        assert frozenset(ids) in minimal_sets
    if len(minimal_sets) < limit:
        assert result.complete
    if result.complete:
        assert set(got) == set(minimal_sets)
    else:
        assert len(got) == limit

    cost, cheapest = ref.cheapest_relaxations(problem)
    assert result.relaxation_status is Status.OPTIMAL
    assert 1 <= len(result.relaxations) <= limit
    for relaxation in result.relaxations:
        assert ref.close(relaxation.cost, cost), (relaxation, cost)
        dropped = frozenset(relaxation.constraint_ids)
        assert dropped in cheapest
        assert problem.without(dropped).is_admissible(relaxation.witness)
        assert _violated_ids(problem, relaxation.witness) == dropped
    found = {frozenset(r.constraint_ids) for r in result.relaxations}
    assert len(found) == len(result.relaxations)
    if len(cheapest) < limit:
        assert found == set(cheapest)


# ----------------------------------------------------------------------- frontier
@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        problems(min_parties=2, max_parties=2, rectangles=True, max_red_lines=4),
        infeasible_leaning_problems(min_parties=2, max_parties=2, rectangles=True),
    )
)
def test_two_party_frontier_equals_brute_force(problem: Problem) -> None:
    result = cpsat_frontier(problem)
    expected = ref.frontier(problem)
    assert result.exact
    assert result.status is (Status.OPTIMAL if expected else Status.INFEASIBLE)
    got = {ref.key(point.utilities): point.package for point in result.points}
    assert len(got) == len(result.points)
    assert got == expected
    for point in result.points:
        assert point.utilities == problem.utility(point.package)
    assert list(result.points) == sorted(result.points, key=lambda p: p.utilities)


@settings(max_examples=80, deadline=None)
@given(problems(min_parties=3, max_parties=4, rectangles=True))
def test_many_party_frontier_points_are_efficient(problem: Problem) -> None:
    result = cpsat_frontier(problem, max_points=8)
    expected = ref.frontier(problem)
    assert not result.exact
    assert result.status is (Status.OPTIMAL if expected else Status.INFEASIBLE)
    assert bool(result.points) is bool(expected)
    keys = [ref.key(point.utilities) for point in result.points]
    assert len(set(keys)) == len(keys)
    for point, k in zip(result.points, keys, strict=True):
        assert problem.is_admissible(point.package)
        assert point.utilities == problem.utility(point.package)
        assert k in expected, (point, "is dominated")


# --------------------------------------------------------------------------- meso
@settings(max_examples=120, deadline=None)
@given(problems(rectangles=True, max_parties=4), st.data())
def test_meso_offers_are_admissible_in_band_and_greedy_optimal(
    problem: Problem, data: st.DataObject
) -> None:
    q = data.draw(st.integers(0, len(problem.utilities) - 1), label="party")
    k = data.draw(st.integers(2, 4), label="k")
    tolerance = data.draw(st.sampled_from([0.0, 0.02, 0.1]), label="tolerance")
    pool = ref.admissible(problem)
    from_package = data.draw(st.booleans(), label="target from a package")
    if pool and from_package:
        target = problem.utility(data.draw(st.sampled_from(pool), label="package"))[q]
    else:
        target = data.draw(st.integers(0, 20), label="target") * 0.05
    party = problem.utility_parties[q]
    result = cpsat_meso(problem, party, k=k, tolerance=tolerance, target=target)
    validate_meso(problem, result)
    assert (result.party, result.target, result.tolerance) == (party, target, tolerance)

    band = [x for x in pool if abs(problem.utility(x)[q] - target) <= tolerance]
    packages = [point.package for point in result.points]
    assert len(set(packages)) == len(packages)
    assert len(packages) <= k
    for point in result.points:
        assert point.package in band
        assert point.utilities == problem.utility(point.package)
    if not band:
        assert result.status is Status.INFEASIBLE
        assert packages == []
        return
    assert result.status is Status.OPTIMAL
    distinct_vectors = {problem.utility(x) for x in band}
    assert len(packages) >= min(k, len(distinct_vectors))

    others = [p for p in range(len(problem.utilities)) if p != q]

    def welfare(x: Package) -> float:
        return sum(problem.utility(x)[p] for p in others)

    def distance(a: Package, b: Package) -> float:
        ua, ub = problem.utility(a), problem.utility(b)
        return sum(abs(ua[p] - ub[p]) for p in others)

    # greedy step 1: the best welfare of the others; step 2: the farthest from offer 1
    assert abs(welfare(packages[0]) - max(welfare(x) for x in band)) <= 1e-6
    if len(packages) >= 2:
        farthest = max(distance(x, packages[0]) for x in band)
        assert abs(distance(packages[1], packages[0]) - farthest) <= 1e-6
    pairs = [distance(a, b) for n, a in enumerate(packages) for b in packages[n + 1 :]]
    assert abs(result.spread - min(pairs, default=0.0)) <= 1e-12


@settings(max_examples=30, deadline=None)
@given(problems(min_parties=2, max_parties=2, rectangles=True, max_red_lines=2))
def test_a_two_party_frontier_cut_short_keeps_the_admissible_packages_found(
    problem: Problem,
) -> None:
    """When time runs out in the second step of a frontier point (its proof), the answer
    keeps the best package found so far (admissible, marked unproven) instead of dropping
    it; when it runs out before any point, it keeps the admissible package it started from."""
    calls = {"n": 0}
    real = frontier_module.certified_max

    def out_of_time_on_the_second(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        found = real(*args, **kwargs)
        if calls["n"] == 2:
            return dataclasses.replace(found, proven=False)
        return found

    expected = ref.frontier(problem)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frontier_module, "certified_max", out_of_time_on_the_second)
        cut = cpsat_frontier(problem)
    if expected:
        assert cut.status is Status.FEASIBLE and not cut.exact and len(cut.points) >= 1
        assert all(problem.is_admissible(p.package) for p in cut.points)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frontier_module, "_two_parties", lambda pm, budget: ([], False))
        none = cpsat_frontier(problem)
    assert none.status is (Status.FEASIBLE if expected else Status.UNKNOWN)
    assert len(none.points) == (1 if expected else 0) and not none.exact
    assert all(problem.is_admissible(p.package) for p in none.points)
