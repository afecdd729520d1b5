"""Lagrangian reduced-cost fixing: every final package stays inside the domains, and
the tie-break answers exactly as it did without them, in far fewer solves."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

from backchannel.model.problem import Problem
from backchannel.model.results import Rule
from backchannel.solvers.cpsat import cpsat_settle, fixing, search
from backchannel.solvers.cpsat.model import PackageModel, slack
from backchannel.solvers.cpsat.objectives import objective

from . import reference as ref
from .strategies import problems

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _finals(problem: Problem, rule: Rule) -> tuple[float, float, list[tuple[int, ...]]]:
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
    for rule in Rule:
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
    for rule in Rule:
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
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from synthetic import make_problem
    finally:
        sys.path.remove(str(BENCHMARKS))
    return make_problem(n, 6, parties, red_lines_per_party=3, seed=seed)


@pytest.mark.parametrize("rule", list(Rule))
def test_the_tie_break_answers_as_without_the_domains_in_fewer_solves(
    rule: Rule, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = _synthetic(80, 3, seed=1)  # every rule meets genuine ties here
    solves: list[int] = []
    original = PackageModel.lexmin

    def counted(self: PackageModel, *args: object, **kwargs: object) -> object:
        before = self.model  # the chunk solves of one lexicographic search
        calls = 0
        solve = self.solve

        def one(*a: object, **k: object) -> object:
            nonlocal calls
            calls += 1
            return solve(*a, **k)  # type: ignore[arg-type]

        self.solve = one  # type: ignore[method-assign]
        try:
            return original(self, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            del self.solve
            solves.append(calls)
            assert self.model is before

    monkeypatch.setattr(PackageModel, "lexmin", counted)
    fixed = cpsat_settle(problem, rule, time_limit=60)
    with_domains = list(solves)
    solves.clear()
    monkeypatch.setattr(search, "final_domains", lambda *a, **k: None)
    plain = cpsat_settle(problem, rule, time_limit=60)
    assert fixed.package == plain.package and fixed.status == plain.status
    assert fixed.has_ties == plain.has_ties
    assert with_domains and solves  # both searches reached the lexicographic chunks
    assert sum(with_domains) < sum(solves)
