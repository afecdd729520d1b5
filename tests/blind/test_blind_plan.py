"""Refusals made before any process starts: no helper, too many parties, too many packages;
and what the plan leaves out of the enumeration (public pruning)."""

from __future__ import annotations

import pytest

from backchannel.blind.plan import PACKAGE_LIMIT, Finding, components, make_plan
from backchannel.blind.pruning import public_pruning
from backchannel.errors import AnalysisError
from backchannel.model.case import Case


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


def _agenda(absent_lines: list[dict[str, object]]) -> Case:
    issues = [
        {"name": f"i{k}", "kind": "ordered", "options": [f"o{o}" for o in range(8)]}
        for k in range(6)
    ]
    parties = [{"name": "UN", "role": "absent", "red_lines": absent_lines}]
    return Case.model_validate({"title": "t", "issues": issues, "parties": parties})


def test_options_an_absent_stakeholder_forbids_are_not_enumerated() -> None:
    case = _agenda(
        [
            {"id": "u1", "forbid": {"issue": "i0", "options": ["o0", "o1", "o2", "o3"]}},
            {"id": "u2", "require": {"issue": "i5", "options": ["o7"]}},
            # linking two issues: no option of either is forbidden on its own
            {
                "id": "u3",
                "if": {"issue": "i1", "options": ["o0"]},
                "then": {"issue": "i2", "options": ["o0"]},
            },
        ]
    )
    kept = public_pruning(case)
    assert kept == ((4, 5, 6, 7), *([tuple(range(8))] * 4), (7,))
    # 8^6 = 262,144 packages: beyond nash's limit unless pruned to 4 * 8^4 = 16,384
    with pytest.raises(AnalysisError, match="262,144 packages"):
        make_plan(Finding.NASH, (8,) * 6, delegations=2, helpers=1)
    plan = make_plan(Finding.NASH, (8,) * 6, delegations=2, helpers=1, kept=kept)
    assert (plan.enumerated, plan.packages) == ((4, 8, 8, 8, 8, 1), 16_384)
    # the per-issue and per-component findings keep every option (they enumerate no package)
    assert make_plan(Finding.OVERLAP, (8,) * 6, delegations=2, helpers=1, kept=kept).kept == ()


def test_nothing_is_pruned_when_an_issue_would_keep_no_option() -> None:
    every = [f"o{o}" for o in range(8)]
    assert public_pruning(_agenda([{"id": "u", "forbid": {"issue": "i3", "options": every}}])) == ()
    assert public_pruning(_agenda([])) == ()
