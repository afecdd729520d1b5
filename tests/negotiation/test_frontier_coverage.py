"""The coverage of a representative frontier (3 or more parties), against brute force.

For the points ``R`` a representative set lists, the brute-force gap is
``max over admissible y of min over r in R of max over p of u_p(y) - u_p(r)``: how far
some admissible package is ahead of every listed point. The answer's ``bound`` must never
be below it (it is stated as proven), its ``gap`` never above it (a package that far ahead
was found), and when the search completed the two meet it up to the rounding of the
scaled utilities. Tightening to a target adds efficient points until the bound meets it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.cli import main
from backchannel.formats.case_file import dump_case
from backchannel.model.problem import Problem
from backchannel.model.results import Coverage
from backchannel.solvers.cpsat import cpsat_frontier
from backchannel.solvers.cpsat.coverage import coverage, distance
from backchannel.solvers.cpsat.package_model import Budget
from backchannel.solvers.cpsat.settle import admissible_model
from backchannel.solvers.narrowing import ideal_utilities, weighted_best
from benchmarks.families_bench import to_case
from benchmarks.synthetic import make_family

from . import reference as ref
from .strategies import problems

ROUNDING = 1e-4
"""How far a proven bound may exceed the exact gap: the scaled utilities' rounding."""


def _exact_gap(problem: Problem, listed: list[tuple[int, ...]]) -> float:
    return max(distance(problem, y, listed) for y in ref.admissible(problem))


def _check(problem: Problem, covered: Coverage | None, listed: list[tuple[int, ...]]) -> float:
    assert covered is not None
    exact = _exact_gap(problem, listed)
    assert covered.gap <= exact + 1e-9 <= covered.bound + 2e-9
    if covered.proven:
        assert covered.bound - exact <= ROUNDING
    return exact


@settings(max_examples=40, deadline=None)
@given(problems(min_parties=3, max_parties=4, rectangles=True))
def test_the_coverage_of_a_sample_brackets_its_exact_gap(problem: Problem) -> None:
    result = cpsat_frontier(problem, max_points=4)
    if not result.points:
        assert result.coverage is None
        return
    listed = [point.package for point in result.points]
    _check(problem, result.coverage, listed)
    assert result.coverage is not None and result.coverage.target is None


@settings(max_examples=25, deadline=None)
@given(problems(min_parties=3, max_parties=4), st.sampled_from([0.02, 0.1]))
def test_tightening_adds_efficient_points_until_the_bound_meets_the_target(
    problem: Problem, target: float
) -> None:
    result = cpsat_frontier(problem, max_points=3, target_gap=target)
    if not result.points:
        return
    listed = [point.package for point in result.points]
    exact = _check(problem, result.coverage, listed)
    assert result.coverage is not None and result.coverage.target == target
    if result.coverage.bound <= target:
        assert exact <= target + 1e-9
    else:  # only when the points ran out: at most as many again as the sample
        assert len(listed) >= 2
    frontier = ref.frontier(problem)
    assert all(ref.key(point.utilities) in frontier for point in result.points)


def test_a_search_with_no_time_left_still_bounds_the_gap_by_the_ideals() -> None:
    problem = make_family("opposed", 6, 3, 3, seed=0)
    pm = admissible_model(problem)
    listed = [point.package for point in cpsat_frontier(problem, max_points=3).points]
    ceilings = [max(problem.utility(y)[p] for y in ref.admissible(problem)) for p in range(3)]
    covered = coverage(pm, Budget(0.0), list(listed), [1, 1, 1], ceilings, max_points=10)
    assert not covered.proven
    exact = _exact_gap(problem, listed)
    assert covered.bound >= exact
    assert covered.bound == pytest.approx(
        min(max(c - u for c, u in zip(ceilings, problem.utility(r), strict=True)) for r in listed)
    )


def _three_sides(tmp_path: Path) -> Path:
    """A 3-party case too large to enumerate (3^16 = 43 million packages)."""
    path = tmp_path / "three.json"
    case = to_case(make_family("opposed", 16, 3, 3, seed=1))
    path.write_text(dump_case(case, json_syntax=True), encoding="utf-8")
    return path


def test_the_cli_states_the_coverage_and_refuses_a_gap_outside_0_to_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _three_sides(tmp_path)
    assert main(["frontier", str(path), "--json", "--max-points", "6", "--gap", "0.2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["exact"] is False
    covered = doc["coverage"]
    assert set(covered) == {"gap", "bound", "proven", "target"}
    assert covered["target"] == 0.2 and 0 <= covered["gap"] <= covered["bound"] <= 1
    assert main(["frontier", str(path), "--max-points", "6"]) == 0
    assert "Coverage: every admissible package has a point here" in capsys.readouterr().out
    for wrong in ("0", "1.5", "-0.1"):
        assert main(["frontier", str(path), "--gap", wrong]) == 2
        assert "--gap must lie between 0 and 1" in capsys.readouterr().err


@settings(max_examples=40, deadline=None)
@given(
    problems(min_parties=3, max_parties=4),
    st.lists(st.integers(1, 100), min_size=4, max_size=4),
)
def test_narrowing_answers_a_weighted_sum_exactly_where_it_applies(
    problem: Problem, weights: list[int]
) -> None:
    w = weights[: len(problem.utilities)]
    found = weighted_best(problem, w)
    pool = ref.admissible(problem)
    if not pool:
        assert found is None
        return
    if found is None:  # narrowing declined: the sample asks CP-SAT instead
        return
    assert problem.is_admissible(found)

    def value(y: tuple[int, ...]) -> float:
        return sum(wp * u for wp, u in zip(w, problem.utility(y), strict=True))

    assert value(found) >= max(value(y) for y in pool) - 1e-9 * sum(w)


@settings(max_examples=25, deadline=None)
@given(problems(min_parties=3, max_parties=4))
def test_a_sample_by_narrowing_is_efficient_and_its_coverage_holds(problem: Problem) -> None:
    result = cpsat_frontier(
        problem, max_points=6, weighted=weighted_best, fast_ideals=ideal_utilities
    )
    frontier = ref.frontier(problem)
    assert bool(result.points) is bool(frontier)
    assert all(ref.key(point.utilities) in frontier for point in result.points)
    if result.points:
        _check(problem, result.coverage, [point.package for point in result.points])
