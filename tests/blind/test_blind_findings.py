"""Every blind finding equals the clear engine's on the same case.

Each example runs one OS process per party (loopback; forked from the warm party server),
so the examples are few.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from hypothesis import HealthCheck, given, settings

from backchannel.blind.local import links
from backchannel.blind.plan import Finding, make_plan
from backchannel.blind.pruning import public_pruning
from backchannel.blind.run import BlindResult, run_blind
from backchannel.model.case import Case
from backchannel.model.compile import compile_case
from backchannel.model.problem import Problem
from backchannel.model.results import SettlementRule
from backchannel.solvers import engine
from backchannel.solvers.redline_map import redline_map
from benchmarks.blind_bench import synthetic_case

from .strategies import cases

FEW = settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))


def _blind(case: Case, finding: Finding, helpers: int = 1) -> tuple[Problem, BlindResult]:
    """The blind finding, options an absent stakeholder forbids pruned (as nodes do)."""
    problem = compile_case(case)
    sizes = tuple(issue.size for issue in problem.issues)
    delegations = len(problem.utility_parties)
    kept = public_pruning(case)
    plan = make_plan(finding, sizes, delegations, helpers, links(problem), kept)
    return problem, run_blind(case, plan, timeout=300, warm=True)


def _clear_nash(problem: Problem) -> tuple[int, ...] | None:
    return engine.settle(problem, [SettlementRule.NASH])[SettlementRule.NASH].package


@FEW
@given(cases())
def test_overlap_is_the_red_line_map(case: Case) -> None:
    problem, result = _blind(case, Finding.OVERLAP)
    assert result.opened.overlap == tuple(m.has_overlap for m in redline_map(problem))
    assert result.opened.exists is None and result.opened.package is None


@FEW
@given(cases())
def test_existence_is_the_zone(case: Case) -> None:
    problem, result = _blind(case, Finding.EXISTS)
    assert result.opened.exists is engine.check(problem).exists
    assert result.opened.overlap is None and result.opened.package is None


@FEW
@given(cases())
def test_red_line_existence_by_components_is_the_zone_without_walk_away_levels(
    case: Case,
) -> None:
    problem, result = _blind(case, Finding.REDLINES)
    walk_away = [c.id for c in problem.constraints if c.is_utility]
    assert result.opened.exists is engine.check(problem.without(walk_away)).exists
    assert result.opened.overlap is None and result.opened.package is None


@FEW
@given(cases())
def test_nash_package_is_the_clear_engines(case: Case) -> None:
    problem, result = _blind(case, Finding.NASH)
    clear = _clear_nash(problem)
    assert result.opened.package == clear
    assert result.opened.exists is (clear is not None)


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases())
def test_nash_compared_a_few_packages_at_a_time_is_the_same(case: Case) -> None:
    problem = compile_case(case)
    sizes = tuple(issue.size for issue in problem.issues)
    plan = replace(make_plan(Finding.NASH, sizes, len(problem.utility_parties), 1), chunk=5)
    assert run_blind(case, plan, timeout=300).opened.package == _clear_nash(problem)


def _efficient(problem: Problem) -> set[tuple[int, ...]]:
    """Admissible packages that no admissible package Pareto-dominates (utilities on a grid)."""
    grid = itertools.product(*(range(issue.size) for issue in problem.issues))
    points = {
        x: tuple(round(u, 6) for u in problem.utility(x)) for x in grid if problem.is_admissible(x)
    }

    def dominated(u: tuple[float, ...]) -> bool:
        return any(
            all(a >= b for a, b in zip(v, u, strict=True)) and v != u for v in points.values()
        )

    return {x for x, u in points.items() if not dominated(u)}


@FEW
@given(cases(max_issues=3))
def test_random_package_is_admissible_and_pareto_efficient(case: Case) -> None:
    problem, result = _blind(case, Finding.RANDOM)
    efficient = _efficient(problem)
    if efficient:
        assert result.opened.package in efficient and result.opened.exists is True
    else:
        assert result.opened.package is None and result.opened.exists is False


@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases(delegations=(3, 3), max_issues=3))
def test_five_parties_three_delegations_two_helpers(case: Case) -> None:
    problem, result = _blind(case, Finding.NASH, helpers=2)
    assert len(result.parties) == 5
    assert result.opened.package == _clear_nash(problem)


def test_pruned_options_change_no_finding_and_the_package_names_the_agendas_options() -> None:
    case = synthetic_case(4, 4)
    absent = {
        "name": "UN",
        "role": "absent",
        "red_lines": [
            {"id": "u1", "forbid": {"issue": "i3", "options": ["o0", "o2"]}},
            {"id": "u2", "require": {"issue": "i1", "options": ["o1", "o3"]}},
        ],
    }
    case = Case.model_validate(
        {
            **case.model_dump(mode="json", exclude_none=True),
            "parties": [*case.model_dump(mode="json", exclude_none=True)["parties"], absent],
        }
    )
    problem, nash = _blind(case, Finding.NASH)
    assert nash.plan.enumerated == (4, 2, 4, 2)
    assert nash.opened.package == _clear_nash(problem) is not None
    assert nash.opened.package[3] in (1, 3) and nash.opened.package[1] in (1, 3)
    _, exists = _blind(case, Finding.EXISTS)
    assert exists.opened.exists is engine.check(problem).exists


def test_with_no_admissible_package_nash_and_random_open_none() -> None:
    case = synthetic_case(4, 3)
    doc = case.model_dump(mode="json", exclude_none=True)
    doc["parties"][0]["red_lines"].append(
        {"id": "all-but-o0", "forbid": {"issue": "i3", "options": ["o1", "o2"]}}
    )
    doc["parties"][1]["red_lines"].append(
        {"id": "not-o0", "forbid": {"issue": "i3", "options": ["o0"]}}
    )
    case = Case.model_validate(doc)
    problem = compile_case(case)
    assert not engine.check(problem).exists
    for finding in (Finding.NASH, Finding.RANDOM):
        _, result = _blind(case, finding)
        assert (result.opened.exists, result.opened.package) == (False, None)
