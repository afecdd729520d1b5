"""Lagrangian reduced-cost fixing: every final package stays inside the domains, and
the tie-break answers exactly as it did without them, in far fewer solves."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

from backchannel.model.problem import Problem
from backchannel.model.results import SettlementRule
from backchannel.solvers.cpsat import cpsat_settle, fixing, search
from backchannel.solvers.cpsat.objectives import Welfare, objective
from backchannel.solvers.cpsat.package_model import Budget, PackageModel, slack
from backchannel.solvers.cpsat.settle import admissible_model
from benchmarks.synthetic import make_problem

from . import reference as ref
from .strategies import problems


def _finals(problem: Problem, rule: SettlementRule) -> tuple[float, float, list[tuple[int, ...]]]:
    """The optimum, the best welfare among its ties, and every final package (brute force)."""
    found = ref.optimum(problem, rule)
    assert found is not None
    top, optimal = found
    welfare = {x: sum(problem.utility(x)) for x in optimal}
    best = max(welfare.values())
    return top, best, [x for x in optimal if ref.close(welfare[x], best)]


@settings(max_examples=60, deadline=None)
@given(problems(min_parties=2, max_parties=4, max_options=4, max_issues=5))
def test_every_final_package_lies_inside_the_domains(problem: Problem) -> None:
    if not ref.admissible(problem):
        return
    pm = PackageModel(problem)
    for rule in SettlementRule:
        top, best, finals = _finals(problem, rule)
        obj = objective(pm, rule, ref.ideals(problem))
        domains = fixing.final_domains(problem, obj.floors(top), best - 2 * slack(best) - 1e-12)
        assert domains is not None
        for x in finals:
            assert all(o in row for o, row in zip(x, domains, strict=True)), (rule, x, domains)


def test_the_soundness_check_fails_when_the_budget_is_cut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Negative control: a budget cut below ``B`` drops options that final packages use."""
    problem = _synthetic(4, 3, seed=1)  # 47 admissible packages
    for rule in SettlementRule:
        _, best, finals = _finals(problem, rule)
        floor = best - 2 * slack(best) - 1e-12
        honest = fixing.final_domains(problem, [-1e9] * 3, floor)
        assert honest is not None
        assert all(all(o in r for o, r in zip(x, honest, strict=True)) for x in finals)
    monkeypatch.setattr(fixing, "MARGIN", -0.05)
    cut = fixing.final_domains(problem, [-1e9] * 3, floor)
    assert cut is not None
    assert not all(all(o in r for o, r in zip(x, cut, strict=True)) for x in finals)


def _synthetic(n: int, parties: int, seed: int) -> Problem:
    return make_problem(n, 6, parties, red_lines_per_party=3, seed=seed)


def test_the_lexicographic_search_answers_as_without_the_domains_in_fewer_solves() -> None:
    """Inside the welfare optimum's window, the smallest package is the same with the
    domains (a handful of chunks) as without them (a chunk per ~15 issues)."""
    problem = _synthetic(80, 3, seed=1)
    best = cpsat_settle(problem, SettlementRule.WELFARE, time_limit=60)
    assert best.package is not None
    w_star = sum(best.utilities)
    answers = []
    for use in (True, False):
        pm = admissible_model(problem)
        level = pm.new_phase()
        Welfare(pm).window(w_star - slack(w_star), level)
        domains = (
            fixing.final_domains(problem, [-math.inf] * 3, w_star - 2 * slack(w_star) - 1e-12)
            if use
            else None
        )
        calls: list[int] = []
        original = pm.solve

        def counted(
            *a: object, _solve: object = original, _calls: list[int] = calls, **k: object
        ) -> object:
            _calls.append(1)
            return _solve(*a, **k)  # type: ignore[operator]

        pm.solve = counted  # type: ignore[method-assign]
        found = pm.lexmin(Budget(60), [level], domains)
        assert found.proven and found.package is not None
        answers.append((found.package, len(calls)))
    (fixed, fewer), (plain, more) = answers
    assert fixed == plain == best.package
    assert fewer < more


@pytest.mark.parametrize("rule", list(SettlementRule))
def test_the_tie_break_answers_as_without_the_domains(
    rule: SettlementRule, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = _synthetic(80, 3, seed=1)
    fixed = cpsat_settle(problem, rule, time_limit=60)
    monkeypatch.setattr(search, "final_domains", lambda *a, **k: None)
    plain = cpsat_settle(problem, rule, time_limit=60)
    assert fixed.package == plain.package and fixed.status == plain.status
    assert fixed.has_ties == plain.has_ties
