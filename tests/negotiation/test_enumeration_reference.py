"""Vectorised enumeration equals the plain brute force on random small problems."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.model.problem import Problem
from backchannel.model.results import SettlementRule, Status
from backchannel.solvers import enumeration
from backchannel.solvers.enumeration import (
    enumerate_frontier,
    enumerate_settlements,
    enumerate_zone,
)

from . import reference as ref
from .strategies import infeasible_leaning_problems, problems

ALL_RULES = [
    SettlementRule.NASH,
    SettlementRule.KS,
    SettlementRule.EGALITARIAN,
    SettlementRule.WELFARE,
]

# Inner-block sizes: 1 puts every issue in the outer block, 10**9 none.
INNER_LIMITS = st.sampled_from([1, 3, 8, 30, 10**9])


@contextmanager
def inner_limit(limit: int) -> Iterator[None]:
    """Force the split between the outer and the inner block."""
    with mock.patch.object(enumeration, "_inner_limit", lambda parties: limit):
        yield


@settings(max_examples=120, deadline=None)
@given(problems(rectangles=True), INNER_LIMITS)
def test_zone_equals_brute_force(problem: Problem, limit: int) -> None:
    pool = ref.admissible(problem)
    with inner_limit(limit):
        zone = enumerate_zone(problem)
    assert zone.count == len(pool)
    assert zone.status is (Status.OPTIMAL if pool else Status.INFEASIBLE)
    assert zone.witness == (pool[0] if pool else None)
    assert zone.viable == ref.viable(problem)


@settings(max_examples=60, deadline=None)
@given(infeasible_leaning_problems())
def test_zone_on_infeasible_leaning_problems(problem: Problem) -> None:
    zone = enumerate_zone(problem)
    assert zone.count == len(ref.admissible(problem))
    assert zone.viable == ref.viable(problem)


@settings(max_examples=120, deadline=None)
@given(
    problems(rectangles=True),
    INNER_LIMITS,
    st.lists(st.sampled_from(ALL_RULES), min_size=1, max_size=4, unique=True),
)
def test_settlements_equal_brute_force(
    problem: Problem, limit: int, rules: list[SettlementRule]
) -> None:
    with inner_limit(limit):
        answers = enumerate_settlements(problem, rules)
    assert list(answers) == rules
    for rule, answer in answers.items():
        expected = ref.settlement(problem, rule)
        if expected is None:
            assert answer.status is Status.INFEASIBLE
            assert answer.package is None
            continue
        value, package, ties = expected
        assert answer.status is Status.OPTIMAL
        assert answer.value is not None
        assert ref.close(answer.value, value), (rule, answer.value, value)
        assert answer.package == package, rule
        assert answer.ties == ties, rule
        assert answer.has_ties is (ties > 0)
        assert answer.utilities == problem.utility(package)


@settings(max_examples=120, deadline=None)
@given(problems(rectangles=True, max_parties=4), INNER_LIMITS)
def test_frontier_equals_brute_force(problem: Problem, limit: int) -> None:
    with inner_limit(limit):
        result = enumerate_frontier(problem)
    expected = ref.frontier(problem)
    assert result.exact
    got = {ref.key(point.utilities): point.package for point in result.points}
    assert len(got) == len(result.points)
    assert got == expected
    assert result.status is (Status.OPTIMAL if expected else Status.INFEASIBLE)
