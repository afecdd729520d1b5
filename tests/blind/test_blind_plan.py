"""Refusals made before any process starts: no helper, too many parties, too many packages."""

from __future__ import annotations

import pytest

from backchannel.blind.plan import PACKAGE_LIMIT, Finding, components, make_plan
from backchannel.errors import AnalysisError


def test_two_delegations_without_a_helper_are_refused_with_the_reason() -> None:
    with pytest.raises(AnalysisError, match="threshold 0") as caught:
        make_plan(Finding.OVERLAP, (3, 3), delegations=2, helpers=0)
    assert "--helpers 1" in " ".join(caught.value.lines())


def test_three_delegations_still_need_a_helper() -> None:
    with pytest.raises(AnalysisError, match="at least one helper"):
        make_plan(Finding.EXISTS, (3, 3), delegations=3, helpers=0)


@pytest.mark.parametrize("delegations", [1, 5])
def test_delegation_count_is_checked(delegations: int) -> None:
    with pytest.raises(AnalysisError, match="2 to 4 delegations"):
        make_plan(Finding.OVERLAP, (3,), delegations=delegations, helpers=1)


def test_too_many_packages_is_refused_with_the_estimate() -> None:
    sizes = (8,) * 7  # 2,097,152 packages
    assert PACKAGE_LIMIT[Finding.NASH] < 8**7
    expected = r"2,097,152 packages.*65,536.*estimated [\d,]+ s"
    with pytest.raises(AnalysisError, match=expected) as caught:
        make_plan(Finding.NASH, sizes, delegations=2, helpers=1)
    assert "--finding overlap" in " ".join(caught.value.lines())


def test_overlap_never_enumerates_packages() -> None:
    plan = make_plan(Finding.OVERLAP, (50,) * 20, delegations=4, helpers=3)
    assert plan.parties == 7


def test_components_follow_the_links_of_conditions() -> None:
    links = [frozenset({0, 3}), frozenset({3, 4}), frozenset({1, 2})]
    assert components((2,) * 6, links) == ((0, 3, 4), (1, 2), (5,))
    assert components((2, 2), []) == ((0,), (1,))


def test_redlines_enumerates_only_within_components() -> None:
    sizes = (10,) * 12  # 10^12 packages: far beyond any enumeration
    plan = make_plan(Finding.REDLINES, sizes, 2, 1, [frozenset({0, 1}), frozenset({1, 2})])
    assert plan.component_packages == 1_000 + 9 * 10
    with pytest.raises(AnalysisError, match="10,000,050 packages"):
        make_plan(Finding.REDLINES, sizes, 2, 1, [frozenset(range(7))])


def test_the_benchmark_agendas_have_the_sizes_of_the_targets() -> None:
    from backchannel.blind.local import links
    from backchannel.model.compile import compile_case
    from benchmarks.blind_bench import synthetic_case

    problem = compile_case(synthetic_case(8, 4))
    assert problem.n_packages == 65_536 and len(problem.utility_parties) == 2
    plan = make_plan(Finding.REDLINES, (6,) * 8, 2, 1, links(compile_case(synthetic_case(8, 6))))
    assert plan.component_packages < 6**8


def test_the_random_efficient_package_is_refused_beyond_its_quadratic_limit() -> None:
    assert make_plan(Finding.RANDOM, (4, 4, 4, 4), 2, 1).packages == 256
    with pytest.raises(AnalysisError, match="1,024 packages"):
        make_plan(Finding.RANDOM, (4,) * 5, 2, 1)
