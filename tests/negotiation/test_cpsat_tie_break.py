"""The CP-SAT tie-break: interchangeable options and the smallest final package."""

from __future__ import annotations

import numpy as np
import pytest

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
from backchannel.solvers.cpsat import cpsat_settle
from backchannel.solvers.cpsat.settle import admissible_model

from . import reference as ref


def _problem(forbid_first: bool) -> Problem:
    """Three parties, four issues; on every issue options 1 and 2 score the same for all."""
    names = ("a", "b", "c", "d")
    issues = tuple(
        IssueDomain(f"i{k}", IssueKind.UNORDERED, names, tuple(range(4))) for k in range(4)
    )
    rows = {
        "A": [0.0, 0.5, 0.5, 1.0],
        "B": [1.0, 0.5, 0.5, 0.0],
        "C": [0.2, 0.6, 0.6, 0.4],
    }
    utilities = tuple(
        AdditiveUtility(tuple(np.array(rows[p]) * 0.25 for _ in issues), np.full(len(issues), 0.25))
        for p in rows
    )
    constraints: tuple[Constraint, ...] = ()
    if forbid_first:  # a red line that tells options 1 and 2 of issue i0 apart
        constraints = (
            Constraint(
                "no-b",
                "A",
                ConstraintKind.FORBID,
                1.0,
                True,
                "i0 is not b",
                ((Literal(0, frozenset({0, 2, 3})),),),
            ),
        )
    return Problem(
        "ties", issues, tuple(rows), tuple(rows), utilities, (0.0, 0.0, 0.0), constraints
    )


def test_representatives_merge_only_what_nothing_tells_apart() -> None:
    plain = admissible_model(_problem(forbid_first=False)).representatives()
    assert plain == [[0, 1, 1, 3]] * 4
    guarded = admissible_model(_problem(forbid_first=True)).representatives()
    assert guarded[0] == [0, 1, 2, 3]  # the red line holds for c, not for b
    assert guarded[1:] == [[0, 1, 1, 3]] * 3


@pytest.mark.parametrize("forbid_first", [False, True])
@pytest.mark.parametrize("rule", list(SettlementRule))
def test_tie_break_returns_the_smallest_final_package(
    rule: SettlementRule, forbid_first: bool
) -> None:
    problem = _problem(forbid_first)
    expected = ref.settlement(problem, rule)
    assert expected is not None
    value, package, ties = expected
    assert ties > 0  # options 1 and 2 are interchangeable: ties are certain
    answer = cpsat_settle(problem, rule)
    assert answer.status is Status.OPTIMAL
    assert answer.value is not None and ref.close(answer.value, value)
    assert answer.package == package
    assert answer.has_ties is True


def test_egalitarian_fine_gains_regression() -> None:
    """A case on which CP-SAT returned a wrong optimum when the fine scale was 10**10."""
    sizes = (2, 3, 3)
    issues = tuple(
        IssueDomain(
            f"i{k}",
            IssueKind.ORDERED,
            tuple(f"o{j}" for j in range(n)),
            tuple(range(n)),
        )
        for k, n in enumerate(sizes)
    )
    a = (np.zeros(2), np.zeros(3), np.array([0.0, 0.0, 0.05]))
    c = (np.zeros(2), np.array([0.0, 0.07, 0.15]), np.array([0.0, 0.0, 0.24]))
    utilities = (
        AdditiveUtility(a, np.array([0.0, 0.0, 1.0])),
        AdditiveUtility(a, np.array([0.0, 0.0, 1.0])),
        AdditiveUtility(c, np.array([0.0, 0.2, 0.8])),
    )
    parties = ("A", "B", "C")
    problem = Problem("regression", issues, parties, parties, utilities, (0.0, 0.0, 0.15), ())
    answer = cpsat_settle(problem, SettlementRule.EGALITARIAN)
    expected = ref.settlement(problem, SettlementRule.EGALITARIAN)
    assert expected is not None
    assert answer.value is not None and ref.close(answer.value, expected[0])
    assert answer.package == expected[1]


def test_an_unproven_ideal_never_gives_a_ks_value_above_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A KS search whose ideal point was cut short holds only the best utility found per
    party; the package it then returns may beat that on every side. Its value is taken
    against an ideal raised to the package (at most 1), its bound is the trivial 1, and the
    answer is unproven and passes the validator (a 4 s limit on a 10^40 domain under load
    gave 1.0019 and an InvalidAnswer)."""
    from backchannel.solvers.cpsat import settle as cpsat_settle_module
    from backchannel.solvers.validate import validate_settlement

    real = cpsat_settle_module._ks_ideal

    def halved(pm: object, budget: object) -> tuple[object, list[float], bool]:
        stop, ideal, _ = real(pm, budget)  # type: ignore[arg-type]
        low = [d + (i - d) / 10 for i, d in zip(ideal, pm.problem.disagreement, strict=True)]  # type: ignore[attr-defined]
        return stop, low, False

    monkeypatch.setattr(cpsat_settle_module, "_ks_ideal", halved)
    problem = _problem(forbid_first=False)
    found = cpsat_settle(problem, SettlementRule.KS, time_limit=10)
    assert found.status is Status.FEASIBLE and found.package is not None
    assert found.value is not None and 0.0 <= found.value <= 1.0
    assert found.bound == 1.0
    validate_settlement(problem, found)
