"""The 2-party rules read in their windows equal brute force and today's frontier programme.

:func:`window_settlements` must give exactly the answers of
:func:`~backchannel.solvers.frontier_dp.dp_settlements` (package, value, ``has_ties``)
on every family of the benchmark generator, small enough for brute force and medium.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from backchannel.formats.genius.folder import load_genius_folder
from backchannel.model.compile import compile_case
from backchannel.model.problem import Problem
from backchannel.model.results import Settlement, SettlementRule, Status
from backchannel.solvers import engine, frontier_meet
from backchannel.solvers.enumeration import enumerate_settlements
from backchannel.solvers.frontier_dp import dp_settlements, groups_of, pareto_groups
from backchannel.solvers.frontier_hull import hull
from backchannel.solvers.frontier_window import METHOD, window_settlements
from backchannel.solvers.scoring import rule_value, tolerance
from benchmarks.synthetic import FAMILIES, make_family, make_problem

from . import reference as ref
from .genius_support import anchor
from .strategies import infeasible_leaning_problems, two_party_problems

ALL_RULES = [
    SettlementRule.NASH,
    SettlementRule.KS,
    SettlementRule.EGALITARIAN,
    SettlementRule.WELFARE,
]


def _assert_brute_force(problem: Problem, answers: dict[SettlementRule, Settlement]) -> None:
    for rule, answer in answers.items():
        expected = ref.settlement(problem, rule)
        if expected is None:
            assert answer.status is Status.INFEASIBLE, rule
            continue
        value, package, ties = expected
        assert answer.status is Status.OPTIMAL, rule
        assert answer.package == package, rule
        assert answer.value is not None and ref.close(answer.value, value), rule
        if answer.has_ties is not None:
            assert answer.has_ties is (ties > 0), rule


def _assert_same(problem: Problem, rules: list[SettlementRule]) -> None:
    today = dp_settlements(problem, rules)
    window = window_settlements(problem, rules)
    assert list(window) == list(today)
    for rule in rules:
        old, new = today[rule], window[rule]
        assert new.method == METHOD
        assert (new.status, new.package, new.has_ties) == (old.status, old.package, old.has_ties)
        assert new.utilities == old.utilities, rule
        if old.value is not None:
            assert new.value is not None and ref.close(new.value, old.value), rule


@settings(max_examples=150, deadline=None)
@given(two_party_problems(max_red_lines=4))
def test_window_rules_equal_brute_force(problem: Problem) -> None:
    answers = window_settlements(problem, ALL_RULES)
    _assert_brute_force(problem, answers)
    _assert_same(problem, ALL_RULES)


@settings(max_examples=60, deadline=None)
@given(infeasible_leaning_problems(min_parties=2, max_parties=2, rectangles=False))
def test_window_rules_on_infeasible_leaning_problems(problem: Problem) -> None:
    _assert_brute_force(problem, window_settlements(problem, ALL_RULES))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("seed", range(4))
def test_each_family_small_equals_brute_force(family: str, seed: int) -> None:
    problem = make_family(family, 6, 3, 2, seed=seed, walk_away=0.2 + 0.05 * seed)
    _assert_brute_force(problem, window_settlements(problem, ALL_RULES))
    for rule in ALL_RULES:  # one rule at a time: its window alone
        _assert_brute_force(problem, window_settlements(problem, [rule]))


def _two_sides(family: str, issues: int, seed: int) -> Problem:
    """A 2-party agenda of the family (``grid``: the plain generator) with 6 options."""
    if family == "grid":
        return make_problem(issues, 6, 2, seed=seed)
    return make_family(family, issues, 6, 2, seed=seed)


@pytest.mark.parametrize("family", [*FAMILIES, "grid"])
@pytest.mark.parametrize(("issues", "seed"), [(24, 0), (40, 1), (80, 2)])
def test_each_family_medium_equals_the_frontier_programme(
    family: str, issues: int, seed: int
) -> None:
    problem = _two_sides(family, issues, seed)
    _assert_same(problem, ALL_RULES)
    _assert_same(problem, [SettlementRule.KS])
    _assert_same(problem, [SettlementRule.NASH, SettlementRule.WELFARE])


@pytest.mark.parametrize("family", [*FAMILIES, "grid"])
@pytest.mark.parametrize(("issues", "seed"), [(24, 3), (60, 4)])
def test_each_family_equals_the_frontier_programme_when_the_passes_meet_at_once(
    family: str, issues: int, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backward pass starts with the forward one (at full size it waits for 256
    sums, which these sizes seldom reach), so the exact reach test and the best pairs
    decide from the first fold on."""
    monkeypatch.setattr(frontier_meet, "MEET_FROM", 0)
    problem = _two_sides(family, issues, seed)
    _assert_same(problem, ALL_RULES)
    _assert_same(problem, [SettlementRule.KS])
    _assert_same(problem, [SettlementRule.EGALITARIAN])


@pytest.mark.parametrize("walk_away", [0.0, 0.45, 0.55, 0.7])
def test_walk_away_floors_near_and_past_the_frontier(walk_away: float) -> None:
    """From a slack floor to floors that leave few packages, or none."""
    problem = make_family("opposed", 30, 5, 2, seed=3, walk_away=walk_away)
    _assert_same(problem, ALL_RULES)


@pytest.mark.parametrize(
    "name", ["anac2010-Travel", "anac2011-Energy", "geniusweb-Party", "anac2010-ItexvsCypress"]
)
def test_genius_anchors_equal_the_frontier_programme(name: str) -> None:
    problem = compile_case(load_genius_folder(anchor(name)), name)
    _assert_same(problem, ALL_RULES)


def test_the_engine_answers_two_parties_from_the_windows() -> None:
    problem = make_family("opposed", 60, 6, 2, seed=0)
    answers = engine.settle(problem, ALL_RULES)
    assert {a.method for a in answers.values()} == {METHOD}
    assert all(a.status is Status.OPTIMAL for a in answers.values())


def test_a_tie_within_the_tolerance_is_found_as_brute_force_finds_it() -> None:
    """531,441 packages: enumeration is brute force, and proves two packages tie.

    The whole frontier programme folds on partial sums rounded to the 10^-9 grid and
    here merges the tying point away (``has_ties`` unknown); the window's programme,
    over fewer groups, keeps it and says there are ties, as brute force does.
    """
    problem = make_family("integrative", 12, 3, 2, seed=20, walk_away=0.5)
    brute = enumerate_settlements(problem, ALL_RULES)
    window = window_settlements(problem, ALL_RULES)
    for rule in ALL_RULES:
        assert window[rule].package == brute[rule].package, rule
        assert window[rule].has_ties is brute[rule].has_ties, rule
    assert brute[SettlementRule.KS].has_ties is True


def test_an_ideal_strictly_inside_a_hull_edge_is_found_exactly() -> None:
    """Party 0's best admissible utility lies between two adjacent supported points (the
    other party's floor cuts the hull's edge there): Kalai-Smorodinsky uses it, not a
    vertex's utility, and would score differently with either vertex's."""
    problem = make_family("opposed", 7, 3, 2, seed=2, walk_away=0.5)
    ideal = ref.ideals(problem)
    vertices = hull(pareto_groups(groups_of(problem) or [])).vertices[:, 0]
    below, above = vertices[vertices < ideal[0]].max(), vertices[vertices > ideal[0]].min()
    assert below < ideal[0] < above
    answers = window_settlements(problem, [SettlementRule.KS])
    _assert_brute_force(problem, answers)
    _assert_same(problem, [SettlementRule.KS])
    utilities, d = answers[SettlementRule.KS].utilities, problem.disagreement
    right = rule_value(SettlementRule.KS, utilities, d, ideal)
    for vertex in (below, above):
        wrong = rule_value(SettlementRule.KS, utilities, d, [vertex, ideal[1]])
        assert abs(right - wrong) > tolerance(right)


@pytest.mark.parametrize("seed", range(3))
def test_near_ties_at_full_size_equal_the_frontier_programme(seed: int) -> None:
    """Equal weights and ratings on a ladder at 320 x 6: many packages share each key
    and value, and the max-min rules keep the programme's packages and ties."""
    problem = make_family("near-ties", 320, 6, 2, seed=seed)
    _assert_same(problem, [SettlementRule.KS])
    _assert_same(problem, [SettlementRule.EGALITARIAN])
    assert window_settlements(problem, [SettlementRule.KS])[SettlementRule.KS].has_ties
