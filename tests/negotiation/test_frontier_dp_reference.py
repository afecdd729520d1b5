"""The 2-party frontier programme equals brute force and the enumeration engine."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings

from backchannel.model.case import IssueKind
from backchannel.model.problem import (
    AdditiveUtility,
    Constraint,
    ConstraintKind,
    IssueDomain,
    Literal,
    Problem,
)
from backchannel.model.results import SettlementRule, Status
from backchannel.solvers import frontier_dp
from backchannel.solvers.enumeration import enumerate_frontier
from backchannel.solvers.frontier_dp import Group, NotApplicable, dp_frontier, dp_settlements
from backchannel.solvers.scoring import evaluate, keys
from benchmarks.synthetic import FAMILIES, make_family, make_problem

from . import reference as ref
from .strategies import infeasible_leaning_problems, problems, two_party_problems

ALL_RULES = [
    SettlementRule.NASH,
    SettlementRule.KS,
    SettlementRule.EGALITARIAN,
    SettlementRule.WELFARE,
]


@settings(max_examples=150, deadline=None)
@given(two_party_problems(max_red_lines=4))
def test_dp_frontier_equals_brute_force_and_enumeration(problem: Problem) -> None:
    result = dp_frontier(problem)
    expected = ref.frontier(problem)
    assert result.exact
    assert result.status is (Status.OPTIMAL if expected else Status.INFEASIBLE)
    got = {ref.key(point.utilities): point for point in result.points}
    assert set(got) == set(expected)
    for point in result.points:
        assert problem.is_admissible(point.package)
        assert point.utilities == problem.utility(point.package)
    enumerated = enumerate_frontier(problem)
    assert [ref.key(p.utilities) for p in enumerated.points] == [
        ref.key(p.utilities) for p in result.points
    ]


@settings(max_examples=150, deadline=None)
@given(two_party_problems(max_red_lines=4))
def test_dp_settlements_equal_brute_force(problem: Problem) -> None:
    answers = dp_settlements(problem, ALL_RULES)
    for rule, answer in answers.items():
        expected = ref.settlement(problem, rule)
        if expected is None:
            assert answer.status is Status.INFEASIBLE
            continue
        value, _, ties = expected
        assert answer.package is not None and problem.is_admissible(answer.package)
        assert answer.value is not None and ref.close(answer.value, value), rule
        assert answer.ties is None
        if answer.has_ties is not None:
            assert answer.has_ties is (ties > 0), rule
        elif ties == 0:
            pass  # unknown is always allowed
        if answer.has_ties is False:
            assert ties == 0


@settings(max_examples=60, deadline=None)
@given(infeasible_leaning_problems(min_parties=2, max_parties=2))
def test_dp_on_infeasible_leaning_problems(problem: Problem) -> None:
    expected = ref.frontier(problem)
    assert {ref.key(p.utilities) for p in dp_frontier(problem).points} == set(expected)


@settings(max_examples=20, deadline=None)
@given(problems(min_parties=3, max_parties=4))
def test_more_than_two_parties_is_not_applicable(problem: Problem) -> None:
    with pytest.raises(NotApplicable):
        dp_frontier(problem)


def test_too_large_super_issue_is_not_applicable() -> None:
    issues = tuple(
        IssueDomain(f"i{k}", IssueKind.UNORDERED, ("a", "b", "c", "d"), (0, 1, 2, 3))
        for k in range(2)
    )
    tables = (np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.4, 0.3, 0.2, 0.1]))
    every = frozenset(range(4))
    link = Constraint(
        "link",
        "A",
        ConstraintKind.CONDITIONAL,
        1.0,
        True,
        "if i0=a then i1=b",
        ((Literal(0, every - {0}), Literal(1, frozenset({1}))),),
    )
    utility = AdditiveUtility(tables, np.array([0.5, 0.5]))
    reversed_utility = AdditiveUtility(tables[::-1], np.array([0.5, 0.5]))
    problem = Problem(
        "linked", issues, ("A", "B"), ("A", "B"), (utility, reversed_utility), (0.0, 0.0), (link,)
    )
    assert len(dp_frontier(problem).points) >= 1
    with mock.patch.object(frontier_dp, "MAX_COMBINATIONS", 15), pytest.raises(NotApplicable):
        dp_frontier(problem)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("seed", range(4))
def test_each_family_small_frontier_equals_brute_force(family: str, seed: int) -> None:
    problem = make_family(family, 6, 3, 2, seed=seed, walk_away=0.2 + 0.05 * seed)
    expected = ref.frontier(problem)
    result = dp_frontier(problem)
    assert {ref.key(point.utilities) for point in result.points} == set(expected)
    for point in result.points:
        assert problem.is_admissible(point.package)
        assert point.utilities == problem.utility(point.package)


def _keys(utilities: np.ndarray) -> set[tuple[int, ...]]:
    return {ref.key(u) for u in utilities.tolist()}


def _covered(points: np.ndarray, others: np.ndarray, slack: int) -> bool:
    """Whether each key of ``points`` is weakly beaten by a key of ``others``, less ``slack``."""
    top = np.array(
        [
            np.max(others[:, 1], initial=-(2**62), where=others[:, 0] >= k0 - slack)
            for k0 in points[:, 0].tolist()
        ]
    )
    return bool(np.all(top >= points[:, 1] - slack))


@pytest.mark.parametrize("family", [*FAMILIES, "grid"])
@pytest.mark.parametrize(("issues", "seed"), [(40, 1), (80, 2)])
def test_each_family_medium_frontier_equals_the_programme_in_issue_order(
    family: str, issues: int, seed: int
) -> None:
    """The narrowest-first folds with whole blocks dropped equal every sum compared in order.

    ``track=True`` folds the groups in issue order and compares every candidate sum.
    Both merge partial sums with the same key (on the 10^-9 grid), so where many sums
    lie within 10^-9 of each other (``integrative``: weights of 10^-10 and less) the two
    orders may keep different ones: there each frontier is the other's within 2 keys.
    """
    if family == "grid":
        problem = make_problem(issues, 6, 2, seed=seed)
    else:
        problem = make_family(family, issues, 6, 2, seed=seed)
    result = dp_frontier(problem)
    _, utilities, _ = frontier_dp._frontier(problem, track=True)
    assert np.array_equal(evaluate(problem, result.points.packages), result.points.utilities)
    assert problem.is_admissible(tuple(int(o) for o in result.points.packages[-1]))
    if family == "integrative":
        ours, theirs = keys(result.points.utilities), keys(utilities)
        assert _covered(ours, theirs, 2) and _covered(theirs, ours, 2)
    else:
        assert _keys(result.points.utilities) == _keys(utilities)
        assert len(result.points) == utilities.shape[0]


def _sums(kept: np.ndarray, first: np.ndarray, second: np.ndarray, group: Group) -> set:
    choice, point = np.divmod(kept, first.size)
    u = group.utilities
    return _keys(np.stack([u[choice, 0] + first[point], u[choice, 1] + second[point]], axis=1))


def test_the_blocks_dropped_before_a_fold_are_dominated() -> None:
    """Staircases on a coarse grid (many equal sums): the kept sums are those of the
    comparison of every sum (what the fold does when it counts the repeats of a key)."""
    rng = np.random.default_rng(7)
    for trial in range(40):
        count = int(rng.integers(64, 200))
        first = np.sort(rng.choice(np.arange(0, 200) * 0.01, count, replace=False))[::-1]
        second = np.sort(rng.choice(np.arange(0, 200) * 0.005, count, replace=False))
        options = int(rng.integers(2, 6))
        utilities = rng.choice([0.0, 0.01, 0.02, 0.05, 0.3], size=(options, 2))
        group = Group((0,), np.arange(options)[:, None], utilities, np.zeros(options, dtype=bool))
        with mock.patch.object(frontier_dp, "BLOCKS_FROM", 64):  # blocks on every fold here
            fast = frontier_dp.fold_whole(first, second, group)
        every, _ = frontier_dp._fold(first, second, np.zeros(count, dtype=bool), group)
        assert fast.parent.size == every.size, trial
        kept = fast.choice.astype(np.int64) * count + fast.parent
        assert np.array_equal(kept, every), trial
        sums = np.stack([fast.first, fast.second], axis=1)
        assert _keys(sums) == _sums(every, first, second, group), trial


@pytest.mark.parametrize("count", [33, 63, 64, 65, 97])
def test_a_fold_keeps_no_filler_of_a_short_last_block_and_the_first_of_a_tie(count: int) -> None:
    """Sums on a dyadic grid (exact in floats): many candidates of different options tie
    exactly, and the filler that completes the last block repeats the last point's sums.
    The fold keeps what comparing every sum keeps: the first candidate of each key."""
    rng = np.random.default_rng(count)
    steps = rng.integers(1, 3, size=(2, count)) / 64
    first = np.cumsum(steps[0])[::-1].copy()  # falling u_0
    second = np.cumsum(steps[1])  # rising u_1
    utilities = np.array([[0.0, 0.0], [1 / 64, -1 / 64], [-1 / 64, 1 / 64], [2 / 64, -2 / 64]])
    group = Group((0,), np.arange(4)[:, None], utilities, np.zeros(4, dtype=bool))
    with mock.patch.object(frontier_dp, "BLOCKS_FROM", 16):
        fast = frontier_dp.fold_whole(first, second, group)
    every, _ = frontier_dp._fold(first, second, np.zeros(count, dtype=bool), group)
    assert fast.parent.max() < count
    assert np.array_equal(fast.choice.astype(np.int64) * count + fast.parent, every)
    choice, point = np.divmod(every, count)
    assert np.array_equal(fast.first, utilities[choice, 0] + first[point])
    assert np.array_equal(fast.second, utilities[choice, 1] + second[point])


def test_the_walk_away_range_is_the_float_test_of_every_sum() -> None:
    """Sums exactly at a bound (float for float) stay, one ulp below go: the range is the
    test the tracked folds make of every sum."""
    rng = np.random.default_rng(11)
    for _ in range(300):
        count = int(rng.integers(1, 40))
        first = np.sort(rng.random(count))[::-1].copy()
        second = np.sort(rng.random(count))
        rest = rng.random(2) * 3
        bounds = np.array([rng.choice(first) + rest[0], rng.choice(second) + rest[1]])
        move = rng.integers(-1, 2, size=2)  # one ulp down, none, one ulp up
        bounds = np.where(move == 0, bounds, np.nextafter(bounds, np.where(move < 0, -1.0, 9.0)))
        keep = (first + rest[0] >= bounds[0]) & (second + rest[1] >= bounds[1])
        low, high = frontier_dp._within(first, second, rest, bounds)
        assert np.array_equal(np.flatnonzero(keep), np.arange(low, high))


def test_a_package_exactly_at_the_walk_away_levels_is_on_the_frontier() -> None:
    """Reservations equal to the utilities of a frontier package (sums exact on the
    dyadic grid): that package stays, and the frontier is brute force's."""
    rng = np.random.default_rng(5)
    for trial in range(12):
        n, k = 6, 4
        issues = tuple(
            IssueDomain(f"i{i}", IssueKind.UNORDERED, tuple("abcd"), tuple(range(k)))
            for i in range(n)
        )
        tables = [tuple(rng.integers(0, 9, size=k) / 64 for _ in range(n)) for _ in range(2)]
        utilities = tuple(AdditiveUtility(t, np.full(n, 1 / n)) for t in tables)
        free = Problem("exact", issues, ("A", "B"), ("A", "B"), utilities, (0.0, 0.0), ())
        front = dp_frontier(free).points.utilities
        levels = (float(front[trial % len(front), 0]), float(front[trial % len(front), 1]))
        reservations = tuple(
            Constraint(
                f"reservation:{name}",
                name,
                ConstraintKind.RESERVATION,
                1.0,
                False,
                f"{name}: reservation",
                utility_party=q,
                bound=levels[q],
            )
            for q, name in enumerate(("A", "B"))
        )
        bounded = Problem("exact", issues, ("A", "B"), ("A", "B"), utilities, levels, reservations)
        expected = ref.frontier(bounded)
        got = dp_frontier(bounded)
        assert {ref.key(point.utilities) for point in got.points} == set(expected), trial
        assert ref.key(levels) in expected, trial
