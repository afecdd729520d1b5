"""Negative controls for the solver-independent validator.

Correct answers of the engine on two small hand-made problems (one with a zone of
agreement, one where two red lines clash) pass every check; each one corrupted in a
single field (with :func:`dataclasses.replace`) is rejected with
:class:`~backchannel.errors.InvalidAnswer` and a message naming what is wrong: an
inadmissible or out-of-range package, wrong utilities, a wrong rule value, a bound
below the value, a proven optimum with a gap, a dominated frontier point, a
satisfiable or non-minimal "clash set", a relaxation with a wrong cost or an
inadmissible witness, a MESO offer outside the band, a duplicated offer, a wrong
spread, a zone witness using a non-viable option, an infeasible zone with a witness.

"No package is admissible" must carry a certificate: a wrong one (red lines that can
hold together, unknown ids, none at all) is refuted, also when only another engine
can decide it, and one that nothing can prove within the limits is reported as not
certified.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from backchannel.errors import InvalidAnswer
from backchannel.model.case import IssueKind
from backchannel.model.frontier import FrontierPoints
from backchannel.model.problem import (
    AdditiveUtility,
    Constraint,
    ConstraintKind,
    IssueDomain,
    Literal,
    Problem,
)
from backchannel.model.results import (
    Certificate,
    ClashesResult,
    ClashSet,
    FrontierPoint,
    FrontierResult,
    MesoResult,
    Relaxation,
    Settlement,
    SettlementRule,
    Status,
    ZoneResult,
)
from backchannel.solvers import certificates, engine
from backchannel.solvers.cpsat import (
    cpsat_clashes,
    cpsat_frontier,
    cpsat_meso,
    cpsat_settle,
    cpsat_zone,
)
from backchannel.solvers.frontier_dp import NotApplicable
from backchannel.solvers.validate import (
    validate_clashes,
    validate_frontier,
    validate_meso,
    validate_settlement,
    validate_zone,
)

ALL_RULES = [
    SettlementRule.NASH,
    SettlementRule.KS,
    SettlementRule.EGALITARIAN,
    SettlementRule.WELFARE,
]

INADMISSIBLE = (0, 0, 0)
"""Violates ``A-no-cheap`` and A's reservation."""

DOMINATED = (1, 0, 1)
"""Admissible, utilities (0.45, 0.6): dominated by (2, 0, 0) with (0.5, 0.6)."""

FAR_FOR_A = (2, 2, 0)
"""Admissible, A's utility 0.8: outside the MESO band 0.5 +- 0.1."""


def _issue(name: str, size: int) -> IssueDomain:
    labels = tuple(f"{name}{j}" for j in range(size))
    return IssueDomain(name, IssueKind.UNORDERED, labels, tuple(range(size)))


def _constraint(
    ident: str,
    kind: ConstraintKind,
    firmness: float,
    clauses: tuple[tuple[Literal, ...], ...] = (),
    utility_party: int | None = None,
    bound: float = 0.0,
) -> Constraint:
    stated = kind is not ConstraintKind.RESERVATION
    party = ident.split("-", maxsplit=1)[0] if stated else ident.split(":")[1]
    return Constraint(ident, party, kind, firmness, stated, ident, clauses, utility_party, bound)


def _problem(*, clash: bool) -> Problem:
    """3 x 3 x 2 packages, parties A and B; ``clash`` adds B's red line "price must be 0".

    Admissible without the clash: (1,0,1) (1,1,0) (1,1,1) (1,2,0) (1,2,1) (2,0,0)
    (2,1,0) (2,2,0); with it, none (A forbids price 0): the only minimal clash set
    is {B-cheap, A-no-cheap}, relaxed by dropping B-cheap (firmness 1).
    """
    issues = (_issue("price", 3), _issue("term", 3), _issue("service", 2))
    a = AdditiveUtility(
        (np.array([0.0, 0.25, 0.5]), np.array([0.0, 0.15, 0.3]), np.array([0.0, 0.2])),
        np.array([0.5, 0.3, 0.2]),
    )
    b = AdditiveUtility(
        (np.array([0.4, 0.2, 0.0]), np.array([0.4, 0.2, 0.0]), np.array([0.2, 0.0])),
        np.array([0.4, 0.4, 0.2]),
    )
    constraints = [
        _constraint("A-no-cheap", ConstraintKind.FORBID, 2.0, ((Literal(0, frozenset({1, 2})),),)),
        _constraint(
            "B-service",
            ConstraintKind.CONDITIONAL,
            3.0,
            ((Literal(0, frozenset({0, 1})), Literal(2, frozenset({0}))),),
        ),
        _constraint("reservation:A", ConstraintKind.RESERVATION, 4.0, utility_party=0, bound=0.3),
        _constraint("reservation:B", ConstraintKind.RESERVATION, 4.0, utility_party=1, bound=0.2),
    ]
    if clash:
        cheap = _constraint(
            "B-cheap", ConstraintKind.REQUIRE, 1.0, ((Literal(0, frozenset({0})),),)
        )
        constraints.insert(0, cheap)
    title = "clash" if clash else "zone"
    return Problem(title, issues, ("A", "B"), ("A", "B"), (a, b), (0.3, 0.2), tuple(constraints))


ZONE_PROBLEM = _problem(clash=False)
CLASH_PROBLEM = _problem(clash=True)

Corrupt = Callable[[Any], Any]


def _case(ident: str, corrupt: Corrupt, match: str) -> Any:
    return pytest.param(corrupt, match, id=ident)


# ------------------------------------------------------------ correct answers pass
def test_engine_answers_of_both_problems_pass() -> None:
    zone = engine.check(ZONE_PROBLEM)
    assert zone.status is Status.OPTIMAL and zone.count == 8 and zone.certificate is None
    assert validate_zone(ZONE_PROBLEM, zone) == zone
    clash_zone = engine.check(CLASH_PROBLEM)
    assert clash_zone.status is Status.INFEASIBLE
    assert clash_zone.certificate is not None and clash_zone.certificate.certified
    assert validate_zone(CLASH_PROBLEM, clash_zone) == clash_zone
    for settlement in engine.settle(ZONE_PROBLEM, ALL_RULES).values():
        assert settlement.status is Status.OPTIMAL
        validate_settlement(ZONE_PROBLEM, settlement)
    for settlement in engine.settle(CLASH_PROBLEM, ALL_RULES).values():
        assert settlement.status is Status.INFEASIBLE
        validate_settlement(CLASH_PROBLEM, settlement)
    front = engine.frontier(ZONE_PROBLEM)
    assert front.status is Status.OPTIMAL and front.exact
    validate_frontier(ZONE_PROBLEM, front)
    no_front = engine.frontier(CLASH_PROBLEM)
    assert no_front.status is Status.INFEASIBLE and not no_front.points
    validate_frontier(CLASH_PROBLEM, no_front)
    no_clash = engine.clashes(ZONE_PROBLEM)
    assert no_clash.feasible and no_clash.certificate is None
    assert validate_clashes(ZONE_PROBLEM, no_clash) == no_clash
    clashes = engine.clashes(CLASH_PROBLEM)
    assert {frozenset(s.constraint_ids) for s in clashes.clash_sets} == {
        frozenset({"B-cheap", "A-no-cheap"})
    }
    assert [r.constraint_ids for r in clashes.relaxations] == [("B-cheap",)]
    assert clashes.certificate is not None and clashes.certificate.certified
    assert validate_clashes(CLASH_PROBLEM, clashes) == clashes
    offers = engine.meso(ZONE_PROBLEM, "A", k=2, tolerance=0.1)
    assert offers.status is Status.OPTIMAL and len(offers.points) == 2
    validate_meso(ZONE_PROBLEM, offers)


def test_cpsat_answers_pass() -> None:
    zone = cpsat_zone(ZONE_PROBLEM)
    assert validate_zone(ZONE_PROBLEM, zone).status is Status.OPTIMAL
    clash_zone = validate_zone(CLASH_PROBLEM, cpsat_zone(CLASH_PROBLEM))
    assert clash_zone.status is Status.INFEASIBLE
    assert clash_zone.certificate is not None and clash_zone.certificate.certified
    for rule in ALL_RULES:
        settlement = cpsat_settle(ZONE_PROBLEM, rule)
        assert settlement.status is Status.OPTIMAL
        validate_settlement(ZONE_PROBLEM, settlement)
        nothing = cpsat_settle(CLASH_PROBLEM, rule)
        assert nothing.status is Status.INFEASIBLE
        validate_settlement(CLASH_PROBLEM, nothing)
    front = cpsat_frontier(ZONE_PROBLEM)
    assert front.status is Status.OPTIMAL
    validate_frontier(ZONE_PROBLEM, front)
    clashes = validate_clashes(CLASH_PROBLEM, cpsat_clashes(CLASH_PROBLEM))
    assert not clashes.feasible and clashes.relaxation_status is Status.OPTIMAL
    assert clashes.certificate is not None and clashes.certificate.certified
    offers = cpsat_meso(ZONE_PROBLEM, "B", k=3, tolerance=0.2, target=0.5)
    assert offers.status is Status.OPTIMAL
    validate_meso(ZONE_PROBLEM, offers)


# ---------------------------------------------------------------------------- zone
@pytest.fixture(scope="module")
def zone() -> ZoneResult:
    result = engine.check(ZONE_PROBLEM)
    assert result.witness == (1, 0, 1)
    assert result.viable == ((1, 2), (0, 1, 2), (0, 1))
    return result


@pytest.mark.parametrize(
    ("corrupt", "match"),
    [
        _case(
            "inadmissible witness",
            lambda z: dataclasses.replace(
                z, witness=INADMISSIBLE, viable=((0, 1, 2), (0, 1, 2), (0, 1))
            ),
            r"package \(0, 0, 0\) violates A-no-cheap, reservation:A",
        ),
        _case(
            "witness uses a non-viable option",
            lambda z: dataclasses.replace(z, viable=((2,), *z.viable[1:])),
            "the witness uses option 1 of issue 0, not viable",
        ),
        _case(
            "infeasible with a witness",
            lambda z: dataclasses.replace(z, status=Status.INFEASIBLE, count=None),
            "no zone of agreement is claimed, yet a package is reported",
        ),
        _case(
            "infeasible with viable options",
            lambda z: dataclasses.replace(z, status=Status.INFEASIBLE, witness=None, count=None),
            "no zone of agreement is claimed",
        ),
        _case(
            "zone without a witness",
            lambda z: dataclasses.replace(z, witness=None),
            "a zone of agreement is claimed without a package in it",
        ),
        _case(
            "viable option out of range",
            lambda z: dataclasses.replace(z, viable=((1, 2, 3), *z.viable[1:])),
            r"viable options \(1, 2, 3\) of issue 'price' are invalid",
        ),
        _case(
            "viable option repeated",
            lambda z: dataclasses.replace(z, viable=((1, 1, 2), *z.viable[1:])),
            "are invalid",
        ),
        _case(
            "viable options of too few issues",
            lambda z: dataclasses.replace(z, viable=z.viable[:2]),
            "viable options are not given for every issue",
        ),
        _case(
            "count contradicts the witness",
            lambda z: dataclasses.replace(z, count=0),
            "count 0 contradicts the witness",
        ),
        _case(
            "witness of the wrong length",
            lambda z: dataclasses.replace(z, witness=(1, 0)),
            r"package \(1, 0\) has 2 options for 3",
        ),
    ],
)
def test_corrupted_zone_is_rejected(zone: ZoneResult, corrupt: Corrupt, match: str) -> None:
    validate_zone(ZONE_PROBLEM, zone)
    with pytest.raises(InvalidAnswer, match=match):
        validate_zone(ZONE_PROBLEM, corrupt(zone))


def test_unknown_zone_is_accepted_as_undecided(zone: ZoneResult) -> None:
    """Control: an undecided answer is not judged (only its shape is)."""
    validate_zone(ZONE_PROBLEM, dataclasses.replace(zone, status=Status.UNKNOWN, witness=None))


# --------------------------------------------------- certificates of "no agreement"
EVERY_ID = tuple(c.id for c in ZONE_PROBLEM.constraints)


def _no_zone(certificate: Certificate | None, method: str = "enumeration") -> ZoneResult:
    """The answer "no package is admissible": wrong on ZONE_PROBLEM, right on CLASH_PROBLEM."""
    return ZoneResult(Status.INFEASIBLE, ((), (), ()), None, 0, method, 0.0, certificate)


@pytest.mark.parametrize(
    ("certificate", "match"),
    [
        _case("no certificate", None, "no package is admissible, it says, without a certificate"),
        _case(
            "two red lines that hold together",
            Certificate(("A-no-cheap", "B-service")),
            r"\('A-no-cheap', 'B-service'\) can all hold together: \(\d, \d, \d\) respects",
        ),
        _case(
            "two reservations that hold together",
            Certificate(("reservation:A", "reservation:B")),
            "can all hold together",
        ),
        _case("every constraint", Certificate(EVERY_ID), "can all hold together"),
        _case("no constraint at all", Certificate(()), r"\(\) can all hold together"),
        _case("an unknown id", Certificate(("A-no-cheap", "B-dear")), "names unknown ids"),
        _case("a repeated id", Certificate(("A-no-cheap", "A-no-cheap")), "names unknown ids"),
    ],
)
def test_a_wrong_no_agreement_is_refuted(certificate: Certificate | None, match: str) -> None:
    """Negative control: a solver that wrongly answers "infeasible" is caught."""
    with pytest.raises(InvalidAnswer, match=match):
        validate_zone(ZONE_PROBLEM, _no_zone(certificate))


def test_a_certificate_beside_a_zone_is_refused(zone: ZoneResult) -> None:
    with pytest.raises(InvalidAnswer, match="status optimal with a certificate of no agreement"):
        validate_zone(ZONE_PROBLEM, dataclasses.replace(zone, certificate=Certificate(EVERY_ID)))


def test_the_engine_catches_a_solver_that_wrongly_answers_infeasible(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Negative control through the dispatcher: the wrong answer never reaches the caller."""
    monkeypatch.setattr(engine, "enumerate_zone", lambda p: _no_zone(Certificate(EVERY_ID)))
    with pytest.raises(
        InvalidAnswer, match=r"^the check answer failed validation: .* can all hold"
    ):
        engine.check(ZONE_PROBLEM)


def _not_feasible(certificate: Certificate | None) -> ClashesResult:
    """A wrong answer of ``clashes`` on ZONE_PROBLEM: not feasible, nothing else found."""
    return ClashesResult(False, (), True, (), Status.OPTIMAL, "cp-sat", 0.0, certificate)


def test_a_wrong_not_feasible_is_refuted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control for ``clashes``: without a certificate, with a wrong one, via the engine."""
    with pytest.raises(InvalidAnswer, match="without a certificate"):
        validate_clashes(ZONE_PROBLEM, _not_feasible(None))
    with pytest.raises(InvalidAnswer, match="can all hold together"):
        validate_clashes(ZONE_PROBLEM, _not_feasible(Certificate(EVERY_ID)))
    monkeypatch.setattr(engine, "dp_exists", lambda p: False)
    monkeypatch.setattr(
        engine, "cpsat_clashes", lambda p, **kw: _not_feasible(Certificate(EVERY_ID))
    )
    with pytest.raises(InvalidAnswer, match=r"^the clashes answer failed validation: "):
        engine.clashes(ZONE_PROBLEM)


def test_an_undecided_clashes_answer_needs_no_certificate() -> None:
    """Control: the time limit stopped the search before anything was decided."""
    undecided = ClashesResult(False, (), False, (), Status.UNKNOWN, "cp-sat", 30.0)
    assert validate_clashes(ZONE_PROBLEM, undecided) == undecided


@pytest.mark.parametrize(
    ("method", "enumeration_limit", "proof"),
    [
        ("enumeration", 10**6, "re-solved by frontier-dp"),
        ("cp-sat", 10**6, "re-solved by frontier-dp"),
        ("frontier-dp", 10**6, "re-solved by enumeration"),
        ("frontier-dp", 0, "re-solved by cp-sat"),
    ],
)
def test_out_of_the_enumeration_limits_another_engine_decides(
    monkeypatch: pytest.MonkeyPatch, method: str, enumeration_limit: int, proof: str
) -> None:
    """Never the engine that answered: its certificate is re-solved by a different one."""
    monkeypatch.setattr(certificates, "COMPONENT_LIMIT", 0)
    monkeypatch.setattr(certificates, "ENUMERATION_LIMIT", enumeration_limit)
    checked = validate_zone(CLASH_PROBLEM, _no_zone(Certificate(("B-cheap", "A-no-cheap")), method))
    assert checked.certificate == Certificate(("B-cheap", "A-no-cheap"), proof)
    with pytest.raises(InvalidAnswer, match="can all hold together"):  # and a wrong one fails
        validate_zone(ZONE_PROBLEM, _no_zone(Certificate(EVERY_ID), method))


def test_a_certificate_no_proof_reaches_is_reported_uncertified(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Out of every limit (no enumeration fits, no other engine applies) the answer says so."""

    def not_applicable(problem: Problem) -> ZoneResult:
        raise NotApplicable("as for three delegations")

    monkeypatch.setattr(certificates, "COMPONENT_LIMIT", 0)
    monkeypatch.setattr(certificates, "ENUMERATION_LIMIT", 0)
    monkeypatch.setattr(certificates, "dp_zone", not_applicable)
    answer = validate_zone(CLASH_PROBLEM, cpsat_zone(CLASH_PROBLEM))
    assert answer.status is Status.INFEASIBLE
    assert answer.certificate is not None
    assert answer.certificate.proof is None and not answer.certificate.certified


# ---------------------------------------------------------------------- settlement
@pytest.fixture(scope="module")
def settlements() -> dict[SettlementRule, Settlement]:
    answers = engine.settle(ZONE_PROBLEM, ALL_RULES)
    assert answers[SettlementRule.NASH].package == (2, 0, 0)
    assert answers[SettlementRule.NASH].value == pytest.approx(0.08)
    return answers


@pytest.mark.parametrize(
    ("rule", "corrupt", "match"),
    [
        pytest.param(
            SettlementRule.NASH,
            lambda s: dataclasses.replace(
                s, package=INADMISSIBLE, utilities=ZONE_PROBLEM.utility(INADMISSIBLE)
            ),
            r"package \(0, 0, 0\) violates",
            id="inadmissible package",
        ),
        pytest.param(
            SettlementRule.NASH,
            lambda s: dataclasses.replace(s, package=(3, 0, 0)),
            "option index 3 is out of range for issue 'price'",
            id="option out of range",
        ),
        pytest.param(
            SettlementRule.WELFARE,
            lambda s: dataclasses.replace(s, utilities=(0.5, 0.5)),
            r"utilities \(0.5, 0.5\) of \(2, 0, 0\) are really",
            id="wrong utilities",
        ),
        pytest.param(
            SettlementRule.WELFARE,
            lambda s: dataclasses.replace(s, utilities=s.utilities[:1]),
            "are really",
            id="utilities of one party only",
        ),
        pytest.param(
            SettlementRule.NASH,
            lambda s: dataclasses.replace(s, value=0.09, bound=0.09),
            "value 0.09 is really 0.08",
            id="wrong nash value",
        ),
        pytest.param(
            SettlementRule.EGALITARIAN,
            lambda s: dataclasses.replace(s, value=0.3, bound=0.3),
            r"value 0.3 is really 0.2",
            id="wrong egalitarian value",
        ),
        pytest.param(
            SettlementRule.WELFARE,
            lambda s: dataclasses.replace(s, value=1.0, bound=1.0),
            r"value 1.0 is really 1.1",
            id="wrong welfare value",
        ),
        pytest.param(
            SettlementRule.KS,
            lambda s: dataclasses.replace(s, value=1.5, bound=1.5),
            r"Kalai-Smorodinsky value 1.5 is outside \[0, 1\]",
            id="ks value out of range",
        ),
        pytest.param(
            SettlementRule.NASH,
            lambda s: dataclasses.replace(s, value=None),
            "a package without its rule value",
            id="missing value",
        ),
        pytest.param(
            SettlementRule.NASH,
            lambda s: dataclasses.replace(s, status=Status.FEASIBLE, bound=0.05),
            "bound 0.05 is below the value",
            id="bound below value",
        ),
        pytest.param(
            SettlementRule.WELFARE,
            lambda s: dataclasses.replace(s, bound=1.2),
            "proven optimal, yet the bound 1.2 exceeds",
            id="optimal with a gap",
        ),
        pytest.param(
            SettlementRule.NASH,
            lambda s: dataclasses.replace(s, package=None, utilities=(), value=None, bound=None),
            "status optimal without a package",
            id="optimal without a package",
        ),
        pytest.param(
            SettlementRule.NASH,
            lambda s: dataclasses.replace(s, status=Status.INFEASIBLE),
            "status infeasible with a package",
            id="infeasible with a package",
        ),
        pytest.param(
            SettlementRule.EGALITARIAN,
            lambda s: dataclasses.replace(s, has_ties=False),
            "3 ties counted but has_ties=False",
            id="ties contradict has_ties",
        ),
    ],
)
def test_corrupted_settlement_is_rejected(
    settlements: dict[SettlementRule, Settlement],
    rule: SettlementRule,
    corrupt: Corrupt,
    match: str,
) -> None:
    settlement = settlements[rule]
    validate_settlement(ZONE_PROBLEM, settlement)
    with pytest.raises(InvalidAnswer, match=match):
        validate_settlement(ZONE_PROBLEM, corrupt(settlement))


def test_unproven_settlement_with_a_gap_is_accepted(
    settlements: dict[SettlementRule, Settlement],
) -> None:
    """Control: a gap is fine when the answer does not claim to be optimal."""
    welfare = settlements[SettlementRule.WELFARE]
    validate_settlement(
        ZONE_PROBLEM, dataclasses.replace(welfare, status=Status.FEASIBLE, bound=1.2)
    )


# ------------------------------------------------------------------------ frontier
@pytest.fixture(scope="module")
def front() -> FrontierResult:
    result = engine.frontier(ZONE_PROBLEM)
    assert [p.package for p in result.points] == [(2, 0, 0), (2, 1, 0), (2, 2, 0)]
    return result


def _points(*points: FrontierPoint) -> FrontierPoints:
    return FrontierPoints.of(points, len(ZONE_PROBLEM.issues), len(ZONE_PROBLEM.utilities))


def _with_point(result: FrontierResult, package: tuple[int, ...]) -> FrontierResult:
    point = FrontierPoint(package, ZONE_PROBLEM.utility(package))
    return dataclasses.replace(result, points=_points(*result.points, point))


@pytest.mark.parametrize(
    ("corrupt", "match"),
    [
        _case(
            "dominated point",
            lambda f: _with_point(f, DOMINATED),
            r"point \(1, 0, 1\) is dominated by \(2, 0, 0\)",
        ),
        _case(
            "inadmissible point",
            lambda f: _with_point(f, INADMISSIBLE),
            r"package \(0, 0, 0\) violates",
        ),
        _case(
            "wrong utilities",
            lambda f: dataclasses.replace(
                f, points=_points(FrontierPoint((2, 0, 0), (0.9, 0.9)), *f.points[1:])
            ),
            r"utilities \(0.9, 0.9\) of \(2, 0, 0\) are really",
        ),
        _case(
            "optimal with no point",
            lambda f: dataclasses.replace(f, points=_points()),
            "status optimal with no point",
        ),
    ],
)
def test_corrupted_frontier_is_rejected(
    front: FrontierResult, corrupt: Corrupt, match: str
) -> None:
    validate_frontier(ZONE_PROBLEM, front)
    with pytest.raises(InvalidAnswer, match=match):
        validate_frontier(ZONE_PROBLEM, corrupt(front))


# ----------------------------------------------------------------------- clashes
@pytest.fixture(scope="module")
def clashes() -> ClashesResult:
    result = engine.clashes(CLASH_PROBLEM)
    assert not result.feasible and result.complete
    assert result.relaxations == (Relaxation(("B-cheap",), 1.0, result.relaxations[0].witness),)
    return result


def _with_sets(result: ClashesResult, *sets: ClashSet) -> ClashesResult:
    return dataclasses.replace(result, clash_sets=sets)


def _with_relaxations(result: ClashesResult, *relaxations: Relaxation) -> ClashesResult:
    return dataclasses.replace(result, relaxations=relaxations)


@pytest.mark.parametrize(
    ("corrupt", "match"),
    [
        _case(
            "satisfiable clash set",
            lambda c: _with_sets(c, ClashSet(("A-no-cheap", "B-service"), True)),
            r"\('A-no-cheap', 'B-service'\) can all hold together",
        ),
        _case(
            "satisfiable set not even claimed minimal",
            lambda c: _with_sets(c, ClashSet(("B-cheap", "reservation:A"), False)),
            "can all hold together",
        ),
        _case(
            "non-minimal set marked minimal",
            lambda c: _with_sets(c, ClashSet(("B-cheap", "A-no-cheap", "B-service"), True)),
            "is not minimal: drop B-service",
        ),
        _case(
            "unknown constraint id",
            lambda c: _with_sets(c, ClashSet(("B-cheap", "A-no-price"), True)),
            "names unknown ids",
        ),
        _case(
            "repeated constraint id",
            lambda c: _with_sets(c, ClashSet(("B-cheap", "B-cheap"), True)),
            "names unknown ids",
        ),
        _case(
            "relaxation with a wrong cost",
            lambda c: _with_relaxations(c, dataclasses.replace(c.relaxations[0], cost=2.0)),
            "relaxation cost 2.0 is really 1.0",
        ),
        _case(
            "relaxation with an inadmissible witness",
            lambda c: _with_relaxations(
                c, dataclasses.replace(c.relaxations[0], witness=INADMISSIBLE)
            ),
            r"package \(0, 0, 0\) violates A-no-cheap, reservation:A",
        ),
        _case(
            "relaxation naming an unknown id",
            lambda c: _with_relaxations(
                c, dataclasses.replace(c.relaxations[0], constraint_ids=("B-dear",))
            ),
            r"relaxation \('B-dear',\) names unknown ids",
        ),
        _case(
            "cheapest relaxations of different costs",
            lambda c: _with_relaxations(
                c, c.relaxations[0], Relaxation(("A-no-cheap",), 2.0, (0, 2, 1))
            ),
            r"the cheapest relaxations have different costs \[1.0, 2.0\]",
        ),
        _case(
            "feasible with clashes",
            lambda c: dataclasses.replace(c, feasible=True),
            "agreement is possible, yet clashes are reported",
        ),
    ],
)
def test_corrupted_clashes_are_rejected(
    clashes: ClashesResult, corrupt: Corrupt, match: str
) -> None:
    validate_clashes(CLASH_PROBLEM, clashes)
    with pytest.raises(InvalidAnswer, match=match):
        validate_clashes(CLASH_PROBLEM, corrupt(clashes))


def test_non_minimal_clash_set_not_marked_minimal_is_accepted(clashes: ClashesResult) -> None:
    """Control: a real clash that does not claim minimality passes."""
    superset = ClashSet(("B-cheap", "A-no-cheap", "B-service"), False)
    validate_clashes(CLASH_PROBLEM, _with_sets(clashes, superset))


def test_relaxation_witness_is_judged_on_the_relaxed_problem(clashes: ClashesResult) -> None:
    """Control: the witness may break the relaxed red line, and only that one."""
    witness = (0, 2, 1)  # price 0: breaks A-no-cheap, respects everything else
    relaxation = Relaxation(("A-no-cheap",), 2.0, witness)
    validate_clashes(CLASH_PROBLEM, _with_relaxations(clashes, relaxation))
    with pytest.raises(InvalidAnswer, match=r"package \(0, 2, 1\) violates A-no-cheap"):
        validate_clashes(
            CLASH_PROBLEM,
            _with_relaxations(clashes, Relaxation(("B-cheap",), 1.0, witness)),
        )


# ---------------------------------------------------------------------------- meso
@pytest.fixture(scope="module")
def offers() -> MesoResult:
    result = engine.meso(ZONE_PROBLEM, "A", k=2, tolerance=0.1)
    assert result.target == pytest.approx(0.5)
    assert len(result.points) == 2
    assert result.spread > 0
    return result


@pytest.mark.parametrize(
    ("corrupt", "match"),
    [
        _case(
            "offer outside the band",
            lambda m: dataclasses.replace(
                m, points=(*m.points, FrontierPoint(FAR_FOR_A, ZONE_PROBLEM.utility(FAR_FOR_A)))
            ),
            r"offer \(2, 2, 0\) is outside the band of A",
        ),
        _case(
            "band moved away from the offers",
            lambda m: dataclasses.replace(m, target=0.8),
            "is outside the band of A",
        ),
        _case(
            "wrong spread",
            lambda m: dataclasses.replace(m, spread=m.spread + 0.1),
            r"spread .* is really",
        ),
        _case(
            "offer listed twice",
            lambda m: dataclasses.replace(m, points=(*m.points, m.points[0])),
            "the same offer is listed twice",
        ),
        _case(
            "inadmissible offer",
            lambda m: dataclasses.replace(
                m,
                points=(FrontierPoint(INADMISSIBLE, ZONE_PROBLEM.utility(INADMISSIBLE)),),
                spread=0.0,
            ),
            r"package \(0, 0, 0\) violates",
        ),
        _case(
            "wrong offer utilities",
            lambda m: dataclasses.replace(
                m, points=(FrontierPoint(m.points[0].package, (0.5, 0.0)), *m.points[1:])
            ),
            "are really",
        ),
        _case(
            "unknown party",
            lambda m: dataclasses.replace(m, party="Q"),
            "unknown party 'Q'",
        ),
    ],
)
def test_corrupted_meso_is_rejected(offers: MesoResult, corrupt: Corrupt, match: str) -> None:
    validate_meso(ZONE_PROBLEM, offers)
    with pytest.raises(InvalidAnswer, match=match):
        validate_meso(ZONE_PROBLEM, corrupt(offers))


def test_every_message_names_the_failed_question() -> None:
    """The validator's messages say which answer failed, for the engine-bug report."""
    zone = engine.check(ZONE_PROBLEM)
    with pytest.raises(InvalidAnswer, match=r"^the check answer failed validation: "):
        validate_zone(ZONE_PROBLEM, dataclasses.replace(zone, witness=INADMISSIBLE))
    nash = engine.settle(ZONE_PROBLEM, [SettlementRule.NASH])[SettlementRule.NASH]
    with pytest.raises(InvalidAnswer, match=r"^the settle \(nash\) answer failed validation: "):
        validate_settlement(ZONE_PROBLEM, dataclasses.replace(nash, value=0.5))


def test_a_frontier_drops_points_that_differ_only_by_float_noise() -> None:
    """Two exactly non-dominated packages: one gives up 6e-10 to party A (less than the
    tolerance: equal) and gains 5e-9 for B. The frontier keeps only the better one; it
    used to keep both, and its own validator then refused it as a bug."""
    issues = (
        IssueDomain("a", IssueKind.UNORDERED, ("x", "y"), ("x", "y")),
        IssueDomain("b", IssueKind.UNORDERED, ("p", "q"), ("p", "q")),
    )
    utilities = (
        AdditiveUtility((np.array([0.5, 0.5 - 6e-10]), np.array([0.0, 0.2])), np.ones(2)),
        AdditiveUtility((np.array([0.3, 0.3 + 5e-9]), np.array([0.2, 0.0])), np.ones(2)),
    )
    problem = Problem("noise", issues, ("A", "B"), ("A", "B"), utilities, (0.0, 0.0), ())
    front = engine.frontier(problem)
    assert [p.package for p in front.points] == [(1, 0), (1, 1)]
    validate_frontier(problem, front)
