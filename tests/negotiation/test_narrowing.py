"""Lagrangian narrowing then enumeration (3+ parties) equals brute force over the whole agenda.

Every family of the benchmark generator, 3 and 4 parties, every rule the module answers:
the same package (welfare, then the smallest option vector, break ties), the same value,
the same exact tie count; on agendas too large for the domains to keep every package,
narrowing really narrows and still agrees.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings

from backchannel.model.problem import Problem
from backchannel.model.results import SettlementRule, Status
from backchannel.solvers import engine, narrowing
from backchannel.solvers.cpsat import fixing
from backchannel.solvers.cpsat.settle import cpsat_settle
from backchannel.solvers.enumeration import enumerate_settlements
from benchmarks.synthetic import FAMILIES, make_family

from . import reference as ref
from .strategies import problems


def _agrees(problem: Problem, rule: SettlementRule) -> bool:
    """Whether narrowing answered (True) like brute force; False when it did not apply."""
    mine = narrowing.narrowed_settlement(problem, rule)
    if mine is None:
        return False
    truth = enumerate_settlements(problem, [rule])[rule]
    assert mine.status is Status.OPTIMAL and truth.status is Status.OPTIMAL
    assert mine.package == truth.package, (rule, mine.package, truth.package)
    assert mine.value is not None and truth.value is not None
    assert ref.close(mine.value, truth.value)
    assert mine.bound == mine.value
    assert (mine.ties, mine.has_ties) == (truth.ties, truth.has_ties)
    assert mine.utilities == problem.utility(mine.package)
    return True


@pytest.mark.parametrize("parties", [3, 4])
@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_equals_brute_force(family: str, parties: int) -> None:
    answered = 0
    for seed in range(3):
        problem = make_family(family, 7, 4, parties, seed=seed, walk_away=0.25 + 0.05 * seed)
        for rule in narrowing.RULES:
            answered += _agrees(problem, rule)
    assert answered >= 4  # the method ran, it was not skipped


@pytest.mark.parametrize("family", FAMILIES)
def test_ideals_are_the_floats_of_brute_force(family: str) -> None:
    """Each party's ideal (the Kalai-Smorodinsky reference point) is exact, not close."""
    problem = make_family(family, 6, 4, 3, seed=2, walk_away=0.35)
    t = narrowing._parts(problem)
    assert t is not None
    ideal = narrowing.ideals(problem, t)
    assert ideal is not None
    assert list(ideal) == ref.ideals(problem)


@pytest.mark.parametrize("family", ["opposed", "mixed", "linked"])
def test_narrowing_leaves_few_packages_and_agrees(family: str) -> None:
    problem = make_family(family, 10, 4, 3, seed=1)  # 10^6 packages
    t = narrowing._parts(problem)
    assert t is not None
    ideal = narrowing.ideals(problem, t)
    assert ideal is not None
    for rule in narrowing.RULES:
        rows = narrowing.narrow(problem, narrowing._Goal(problem, rule, ideal), t)
        if rows is None and rule in (SettlementRule.EGALITARIAN, SettlementRule.KS):
            continue  # its incumbent may stay too far from the bound: CP-SAT answers
        assert rows is not None
        assert rows.shape[0] < problem.n_packages // 100
        assert _agrees(problem, rule)


@settings(max_examples=40, deadline=None)
@given(problems(min_parties=3, max_parties=4, max_options=4, max_issues=5))
def test_random_problems_with_red_lines_equal_brute_force(problem: Problem) -> None:
    for rule in narrowing.RULES:
        _agrees(problem, rule)


@pytest.mark.parametrize("family", ["opposed", "integrative"])
def test_kalai_smorodinsky_equals_the_cp_sat_path(family: str) -> None:
    problem = make_family(family, 7, 4, 3, seed=1)
    mine = narrowing.narrowed_settlement(problem, SettlementRule.KS)
    theirs = cpsat_settle(problem, SettlementRule.KS, time_limit=60)
    assert mine is not None and theirs.status is Status.OPTIMAL
    assert (mine.package, mine.has_ties) == (theirs.package, theirs.has_ties)
    assert mine.value is not None and theirs.value is not None
    assert ref.close(mine.value, theirs.value)


def test_red_lines_across_issues_are_kept_inside_their_group() -> None:
    """Linked issues form one part: the per-part best combination respects the links."""
    problem = make_family("linked", 8, 4, 3, seed=2)
    t = narrowing._parts(problem)
    assert t is not None
    assert any(len(group) > 1 for group in t.groups)
    for weights in ([1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]):
        package = t.package(t.argmax(np.asarray(weights)))
        assert all(problem.constraint_holds(c, package) for c in problem.constraints if c.clauses)


def test_a_budget_cut_below_the_bound_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: with reduced costs trusted beyond the bound, answers go wrong."""
    problem = make_family("opposed", 10, 4, 3, seed=1)
    monkeypatch.setattr(fixing, "MARGIN", -0.02)
    wrong = 0
    for rule in narrowing.RULES:
        mine = narrowing.narrowed_settlement(problem, rule)
        truth = enumerate_settlements(problem, [rule])[rule]
        wrong += mine is None or mine.package != truth.package or mine.ties != truth.ties
    assert wrong


def test_the_engine_answers_long_agendas_by_narrowing() -> None:
    long = make_family("opposed", 160, 6, 3, seed=1)
    for rule, answer in engine.settle(long, list(narrowing.RULES), time_limit=60).items():
        assert answer.status is Status.OPTIMAL and answer.method == narrowing.METHOD, rule


def test_too_many_packages_left_go_to_cp_sat_with_an_honest_label(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Beyond :data:`narrowing.LIMIT` the rule goes to CP-SAT; on its time limit the
    answer says so, with a bound at least its value."""
    monkeypatch.setattr(narrowing, "LIMIT", 0)
    problem = make_family("opposed", 40, 6, 3, seed=0)
    answer = engine.settle(problem, [SettlementRule.WELFARE], time_limit=0.3)[
        SettlementRule.WELFARE
    ]
    assert answer.method == "cp-sat"
    if answer.status is not Status.OPTIMAL:
        assert answer.status in (Status.FEASIBLE, Status.UNKNOWN)
        if answer.value is not None:
            assert answer.bound is not None and answer.bound >= answer.value


def test_a_failed_attempt_comes_out_of_cp_sat_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--time-limit`` bounds the whole answer: CP-SAT gets what the attempt left."""
    clock = [100.0]
    limits: list[float] = []
    problem = make_family("opposed", 40, 6, 3, seed=0)

    def attempt(problem: Problem, rule: SettlementRule) -> None:
        clock[0] += 4.0  # the attempt "takes" 4 s and does not answer

    def cp_sat(problem: Problem, rule: SettlementRule, time_limit: float) -> object:
        limits.append(time_limit)
        return narrowing.narrowed_settlement(problem, rule)  # a real, valid answer

    monkeypatch.setattr(engine, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    monkeypatch.setattr(engine, "narrowed_settlement", attempt)
    monkeypatch.setattr(engine, "cpsat_settle", cp_sat)
    engine.settle(problem, [SettlementRule.WELFARE], time_limit=10.0)
    engine.settle(problem, [SettlementRule.WELFARE], time_limit=3.0)
    assert limits == [6.0, 0.3]
