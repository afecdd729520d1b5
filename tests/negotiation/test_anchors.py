"""Every anchor domain from the field loads, and every analysis runs on it.

The folders are read in place from ../shared/anchors/genius-domains (never copied).
Each answer has already passed the solver-independent validator inside the engine;
these tests add the facts we know about the domains.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backchannel.formats.cases import load_problem
from backchannel.model.results import SettlementRule, Status
from backchannel.solvers import engine
from backchannel.solvers.scoring import rule_value, tolerance

ANCHORS = Path(__file__).resolve().parents[3] / "shared" / "anchors" / "genius-domains"
FOLDERS = sorted(p.name for p in ANCHORS.iterdir() if p.is_dir())
TIME_LIMIT = 20.0
SHORT_LIMITS = {"anac2014-50issues": 4.0}
"""Domains that no rule proves in reasonable time (10^40 packages, non-linear): a short
limit, so the unproven answers are what is checked."""


def test_all_fifteen_anchor_folders_are_present() -> None:
    assert len(FOLDERS) == 15


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_analysis_runs(folder: str) -> None:
    _, problem = load_problem(ANCHORS / folder)
    limit = SHORT_LIMITS.get(folder, TIME_LIMIT)
    zone = engine.check(problem, limit)
    assert zone.status in (Status.OPTIMAL, Status.INFEASIBLE, Status.FEASIBLE)
    if zone.exists is False:
        found = engine.clashes(problem, limit=3, time_limit=limit)
        assert found.relaxations
        return
    answers = engine.settle(problem, list(SettlementRule), limit)
    for settlement in answers.values():
        assert settlement.package is not None
        assert problem.is_admissible(settlement.package)
    for rule, settlement in answers.items():
        if rule is SettlementRule.KS or settlement.value is None:
            continue
        for other in answers.values():  # unproven answers take the others' better packages
            assert other.package is not None
            value = rule_value(rule, problem.utility(other.package), problem.disagreement, None)
            assert value <= settlement.value + tolerance(settlement.value), (rule, other.rule)
    front = engine.frontier(problem, time_limit=limit, max_points=12)
    assert front.points
    nash = answers[SettlementRule.NASH]
    assert nash.package is not None
    best = max(problem.utility(p.package)[0] for p in front.points)
    # The frontier reaches at least as far for the first party as the Nash package does.
    assert best >= nash.utilities[0] - 1e-9
    offers = engine.meso(problem, problem.utility_parties[0], k=2, time_limit=limit)
    assert len(offers.points) >= 1


def test_party_and_size_facts() -> None:
    facts = {
        "anac2015-group9-killer_robot": (5, 240_000),
        "anac2016-AgentHp2": (3, 7**8),
        "anac2014-50issues": (2, 10**40),
        "other-QODomain": (8, 1_296),
        "other-AMPOvsCity": (2, 1_944_000),
    }
    for folder, (parties, packages) in facts.items():
        _, problem = load_problem(ANCHORS / folder)
        assert len(problem.utility_parties) == parties, folder
        assert problem.n_packages == packages, folder
