"""The transcript's shape does not depend on the other side's private inputs.

Two cases differ only in delegation B's ratings, red lines and reservation, and give
the same opened findings; every party must then send exactly as many bytes to every
peer in both runs (MPyC sends fixed-size field elements, so equal byte counts per peer
mean messages of the same number and sizes).
"""

from __future__ import annotations

from typing import Any

import pytest

from backchannel.blind.plan import Finding, make_plan
from backchannel.blind.run import run_blind
from backchannel.blind.session import Credentials
from backchannel.model.case import Case
from backchannel.model.compile import compile_case
from backchannel.model.results import SettlementRule
from backchannel.services.node import throwaway_credentials
from backchannel.solvers import engine
from backchannel.solvers.redline_map import redline_map

ISSUES = [
    {"name": "i0", "kind": "ordered", "options": ["o0", "o1", "o2"]},
    {"name": "i1", "kind": "ordered", "options": ["o0", "o1", "o2"]},
]
SIDE_A = {
    "name": "A",
    "weights": {"i0": 60, "i1": 40},
    "ratings": {"i0": {"o0": 0, "o1": 50, "o2": 100}, "i1": {"o0": 100, "o1": 50, "o2": 0}},
    "red_lines": [{"id": "a1", "forbid": {"issue": "i0", "options": ["o0"]}}],
    "reservation": 0.2,
}


def _case(b: dict[str, Any]) -> Case:
    return Case.model_validate({"title": "t", "issues": ISSUES, "parties": [SIDE_A, b]})


FIRST = _case(
    {
        "name": "B",
        "weights": {"i0": 50, "i1": 50},
        "ratings": {"i0": {"o0": 100, "o1": 60, "o2": 0}, "i1": {"o0": 0, "o1": 50, "o2": 100}},
        "red_lines": [],
        "reservation": 0.1,
    }
)
SECOND = _case(
    {
        "name": "B",
        "weights": {"i0": 30, "i1": 70},
        "ratings": {"i0": {"o0": 90, "o1": 80, "o2": 10}, "i1": {"o0": 20, "o1": 70, "o2": 100}},
        "red_lines": [
            {
                "id": "b1",
                "if": {"issue": "i0", "options": ["o2"]},
                "then": {"issue": "i1", "options": ["o2"]},
            },
            {"id": "b2", "min_utility": 0.3},
        ],
        "reservation": 0.25,
    }
)


def _clear(case: Case) -> tuple[object, ...]:
    problem = compile_case(case)
    nash = engine.settle(problem, [SettlementRule.NASH])[SettlementRule.NASH]
    overlap = tuple(m.has_overlap for m in redline_map(problem))
    return overlap, engine.check(problem).exists, nash.package


def test_the_two_cases_differ_but_open_the_same_findings() -> None:
    assert FIRST != SECOND
    assert _clear(FIRST) == _clear(SECOND)


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> list[Credentials]:
    """Three throwaway identities: the runs take the pinned-TLS path of real nodes."""
    return throwaway_credentials(3, tmp_path_factory.mktemp("identities"))


@pytest.mark.parametrize("finding", [Finding.OVERLAP, Finding.EXISTS, Finding.NASH])
def test_every_party_sends_the_same_bytes_to_every_peer(
    finding: Finding, credentials: list[Credentials]
) -> None:
    plan = make_plan(finding, (3, 3), delegations=2, helpers=1)
    first = run_blind(FIRST, plan, credentials=credentials)
    second = run_blind(SECOND, plan, credentials=credentials)
    assert first.opened == second.opened
    for one, other in zip(first.parties, second.parties, strict=True):
        assert one.bytes_sent == other.bytes_sent
        assert all(count > 0 for count in one.bytes_sent.values())


def test_the_random_efficient_package_sends_the_same_bytes_whatever_is_drawn(
    credentials: list[Credentials],
) -> None:
    # Each run draws its own package; what the parties send depends on neither the draw
    # nor the other side's inputs.
    plan = make_plan(Finding.RANDOM, (3, 3), delegations=2, helpers=1)
    first = run_blind(FIRST, plan, credentials=credentials, warm=True)
    second = run_blind(SECOND, plan, credentials=credentials, warm=True)
    assert first.opened.exists is second.opened.exists is True
    for one, other in zip(first.parties, second.parties, strict=True):
        assert one.bytes_sent == other.bytes_sent
        assert all(count > 0 for count in one.bytes_sent.values())
