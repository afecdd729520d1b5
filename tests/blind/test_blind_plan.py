"""Refusals made before any process starts: no helper, too many parties, too many packages."""

from __future__ import annotations

import pytest

from backchannel.blind.plan import PACKAGE_LIMIT, Finding, make_plan
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
    with pytest.raises(AnalysisError, match=r"2,097,152 packages.*estimated [\d,]+ s") as caught:
        make_plan(Finding.NASH, sizes, delegations=2, helpers=1)
    assert "--finding overlap" in " ".join(caught.value.lines())


def test_overlap_never_enumerates_packages() -> None:
    plan = make_plan(Finding.OVERLAP, (50,) * 20, delegations=4, helpers=3)
    assert plan.parties == 7
