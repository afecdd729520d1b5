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
from backchannel.solvers.frontier_dp import NotApplicable, dp_frontier, dp_settlements

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
