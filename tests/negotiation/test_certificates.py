"""Certificates of "no package is admissible", against brute force.

Every engine that can answer "infeasible" gives a certificate the validator proves;
:func:`~backchannel.solvers.certificates.decide` is sound (a proof only for a clash
that brute force cannot satisfy, a witness that respects the clash) and, on small
problems, never undecided.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.model.problem import Problem
from backchannel.model.results import Status, ZoneResult
from backchannel.solvers.certificates import ENUMERATED, Verdict, decide
from backchannel.solvers.cpsat import cpsat_clashes, cpsat_zone
from backchannel.solvers.dp_zone import dp_zone
from backchannel.solvers.enumeration import enumerate_zone
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
