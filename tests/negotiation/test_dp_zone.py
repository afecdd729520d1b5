"""The zone of agreement by the frontier programme equals brute force."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings

from backchannel.model.problem import Problem
from backchannel.model.results import Status
from backchannel.solvers import dp_zone as zone_module
from backchannel.solvers import engine, validate
from backchannel.solvers.dp_zone import dp_zone, exists
from backchannel.solvers.frontier_dp import NotApplicable
from benchmarks.synthetic import make_problem

from . import reference as ref
from .strategies import infeasible_leaning_problems, problems, two_party_problems


def _expect(problem: Problem) -> None:
    result = dp_zone(problem)
    validate.validate_zone(problem, result)
    viable = ref.viable(problem)
    assert result.viable == viable
    assert result.status is (Status.OPTIMAL if any(viable) else Status.INFEASIBLE)
    assert (result.witness is not None) is any(viable)
    assert result.count is None


@settings(max_examples=150, deadline=None)
@given(two_party_problems(max_red_lines=4))
def test_dp_zone_equals_brute_force(problem: Problem) -> None:
    _expect(problem)


@settings(max_examples=80, deadline=None)
@given(infeasible_leaning_problems(min_parties=2, max_parties=2))
def test_dp_zone_on_infeasible_leaning_problems(problem: Problem) -> None:
    _expect(problem)


@settings(max_examples=120, deadline=None)
@given(two_party_problems(max_red_lines=4))
def test_exact_step_alone_equals_brute_force(problem: Problem) -> None:
    """With the swap certificates switched off, the frontier query decides every option."""

    def never(base: np.ndarray, combos: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        return np.zeros(combos.shape[0], dtype=bool)

    with (
        mock.patch.object(zone_module, "_swaps", never),
        mock.patch.object(zone_module, "_swap_single_issues", lambda *args: None),
    ):
        _expect(problem)


@settings(max_examples=120, deadline=None)
@given(infeasible_leaning_problems(min_parties=2, max_parties=2))
def test_exists_equals_brute_force(problem: Problem) -> None:
    assert exists(problem) is bool(ref.admissible(problem))
    clashes = engine.clashes(problem)
    assert clashes.feasible is bool(ref.admissible(problem))


@settings(max_examples=20, deadline=None)
@given(problems(min_parties=3, max_parties=4))
def test_more_than_two_parties_is_not_applicable(problem: Problem) -> None:
    with pytest.raises(NotApplicable):
        dp_zone(problem)


def test_engine_answers_large_two_party_agendas_by_the_programme() -> None:
    problem = make_problem(60, 6, 2, red_lines_per_party=3, seed=3)
    assert problem.n_packages > engine.ENUMERATION_LIMIT
    result = engine.check(problem)
    assert result.method == "frontier-dp"
    from backchannel.solvers.cpsat import cpsat_zone

    assert result.viable == cpsat_zone(problem).viable
    assert result.status is Status.OPTIMAL
