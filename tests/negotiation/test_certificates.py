"""Certificates of "no package is admissible", against brute force.

Every engine that can answer "infeasible" gives a certificate the validator proves;
:func:`~backchannel.solvers.certificates.decide` is sound (a proof only for a clash
that brute force cannot satisfy, a witness that respects the clash) and, on small
problems, never undecided.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.model.case import IssueKind
from backchannel.model.problem import (
    AdditiveUtility,
    Constraint,
    ConstraintKind,
    IssueDomain,
    Literal,
    Problem,
)
from backchannel.model.results import Status, ZoneResult
from backchannel.solvers.certificates import ENUMERATED, Verdict, decide
from backchannel.solvers.cpsat import cpsat_clashes, cpsat_zone
from backchannel.solvers.dp_zone import dp_zone
from backchannel.solvers.enumeration import enumerate_zone
from backchannel.solvers.scoring import infeasibility_certificate
from backchannel.solvers.validate import validate_clashes, validate_zone

from . import reference as ref
from .strategies import infeasible_leaning_problems


def _zones(problem: Problem) -> list[ZoneResult]:
    answers = [enumerate_zone(problem), cpsat_zone(problem)]
    if problem.is_additive and len(problem.utility_parties) == 2:
        answers.append(dp_zone(problem))
    return answers


@settings(max_examples=80, deadline=None)
@given(infeasible_leaning_problems(rectangles=True))
def test_every_infeasible_answer_carries_a_certificate_the_validator_proves(
    problem: Problem,
) -> None:
    admissible = bool(ref.admissible(problem))
    for zone in _zones(problem):
        assert (zone.status is Status.INFEASIBLE) is not admissible, zone.method
        checked = validate_zone(problem, zone)
        if zone.status is Status.INFEASIBLE:
            assert checked.certificate is not None and checked.certificate.certified, zone.method
            assert not ref.satisfiable(problem, checked.certificate.clash)
    clashes = validate_clashes(problem, cpsat_clashes(problem))
    assert clashes.feasible is admissible
    if not admissible:
        assert clashes.certificate is not None and clashes.certificate.certified


@settings(max_examples=150, deadline=None)
@given(infeasible_leaning_problems(rectangles=True), st.data())
def test_decide_is_sound_and_settles_every_small_clash(
    problem: Problem, data: st.DataObject
) -> None:
    ids = [c.id for c in problem.constraints]
    clash = data.draw(st.lists(st.sampled_from(ids), unique=True) if ids else st.just([]))
    verdict = decide(problem, clash, "none", resolve=False)
    if ref.satisfiable(problem, clash):
        assert verdict.proof is None
        assert verdict.witness is not None  # small: the joint search always ends
        assert not problem.violated(verdict.witness, [problem.constraint(i) for i in clash])
    else:
        assert verdict == Verdict(ENUMERATED)


def _two_by_two(*constraints: Constraint) -> Problem:
    """Issues x and y with two options each; A prefers option 0, B option 1, equally."""
    issues = tuple(IssueDomain(n, IssueKind.UNORDERED, ("0", "1"), (0, 1)) for n in "xy")
    a = AdditiveUtility((np.array([0.5, 0.0]), np.array([0.5, 0.0])), np.array([0.5, 0.5]))
    b = AdditiveUtility((np.array([0.0, 0.5]), np.array([0.0, 0.5])), np.array([0.5, 0.5]))
    return Problem("2x2", issues, ("A", "B"), ("A", "B"), (a, b), (0.0, 0.0), constraints)


def _red_line(ident: str, *clauses: tuple[Literal, ...]) -> Constraint:
    return Constraint(ident, ident[0], ConstraintKind.REQUIRE, 1.0, True, ident, clauses)


def _floor(party: int, bound: float) -> Constraint:
    name = "AB"[party]
    return Constraint(
        f"reservation:{name}", name, ConstraintKind.RESERVATION, 1.0, False, name, (), party, bound
    )


def test_engines_name_a_clash_they_see_without_search_and_else_every_constraint() -> None:
    cond = _red_line("A-cond", (Literal(0, frozenset({1})), Literal(1, frozenset({0}))))
    never = _two_by_two(cond, _red_line("B-never", ()))
    assert infeasibility_certificate(never).clash == ("B-never",)
    assert decide(never, ["B-never"], "none", resolve=False) == Verdict(ENUMERATED)
    x0, x1 = (_red_line(f"{p}-x", (Literal(0, frozenset({o})),)) for p, o in (("A", 0), ("B", 1)))
    emptied = _two_by_two(cond, x0, x1, _floor(0, 0.0))
    assert infeasibility_certificate(emptied).clash == ("A-x", "B-x")
    assert decide(emptied, ["A-x", "B-x"], "none", resolve=False) == Verdict(ENUMERATED)
    floors = _two_by_two(cond, _floor(0, 0.6), _floor(1, 0.6))  # u_A + u_B = 1 everywhere
    every = ("A-cond", "reservation:A", "reservation:B")
    assert infeasibility_certificate(floors).clash == every
    assert decide(floors, every, "none", resolve=False) == Verdict(ENUMERATED)
    assert decide(floors, every[:2], "none", resolve=False).witness == (0, 0)
