"""The findings of an evaluation are built by a pure function, without a database.

:func:`build_findings` takes the agenda, the sides, the case, its compiled problem and
the engine's answers; the evaluation service only runs the engine and passes them in.
"""

from __future__ import annotations

from backchannel.model.compile import compile_case
from backchannel.model.dialogue import (
    Agenda,
    AgendaIssue,
    Position,
    Side,
    Unacceptable,
    build_case,
    prune,
)
from backchannel.model.findings import EngineAnswers, Findings, build_findings
from backchannel.model.results import ClashesResult, ClashSet, Relaxation, Status, ZoneResult
from backchannel.services import dialogues, evaluations, positions, rounds
from conftest import World

from .conftest import position_a, position_b

AGENDA = Agenda(
    issues=[
        AgendaIssue(id="i1", name="Ceasefire", options=["a", "b"]),
        AgendaIssue(id="i2", name="Monitors", options=["x", "y"]),
    ]
)
SIDES = [
    Side(name="Side A", position=Position(unacceptable=[Unacceptable(issue="i1", option="b")])),
    Side(name="Side B", position=Position(unacceptable=[Unacceptable(issue="i1", option="a")])),
]


def test_findings_come_from_the_answers_given_without_running_the_engine() -> None:
    case = build_case("Talks", AGENDA, SIDES)
    problem = compile_case(case, "<test>")
    a_line, b_line = "s0-no-i1-1", "s1-no-i1-0"
    answers = EngineAnswers(
        zone=ZoneResult(Status.INFEASIBLE, ((), ()), None, 0, "by hand", 0.0),
        blocked=(((b_line,), (a_line,)), ((), ())),
        clashes=ClashesResult(
            feasible=False,
            clash_sets=(ClashSet((a_line, b_line), minimal=True),),
            complete=True,
            relaxations=(Relaxation((a_line,), 3.0, witness=(0, 0)),),
            relaxation_status=Status.OPTIMAL,
            method="by hand",
            seconds=0.0,
        ),
        partial_issues=("Monitors",),
        settlements={},
        settled_on=problem,
        frontier=((0.25, 0.75),),
    )
    findings = build_findings(AGENDA, SIDES, case, problem, answers)
    assert findings.sides == ["Side A", "Side B"]
    assert (findings.zone, findings.admissible_count) == (False, 0)
    assert findings.issues == {"i1": "Ceasefire", "i2": "Monitors"}
    assert findings.viable == {"i1": [], "i2": []}
    assert findings.overlap == {"i1": False, "i2": True}
    assert findings.blocked == {"i1": {"a": [b_line], "b": [a_line]}, "i2": {"x": [], "y": []}}
    assert findings.red_lines[a_line].side == 0
    assert findings.red_lines[a_line].text == "Ceasefire: not 'b'"
    assert findings.red_lines[b_line].side == 1
    assert findings.clash_sets == [[a_line, b_line]]
    assert findings.relaxations == [([a_line], 3.0)]
    assert findings.partial_issues == ["i2"]
    assert (findings.packages, findings.partial_packages) == ({}, {})
    assert findings.frontier == [[0.25, 0.75]]


def test_an_evaluation_stores_what_the_pure_function_builds(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, f, d)
    evaluations.evaluate(p, f, d)
    (stored,) = evaluations.evaluations(p, f, d)
    agenda = dialogues.view(p, f, d).agenda
    sides = [
        Side(name="Side A", position=prune(agenda, position_a(world))),
        Side(name="Side B", position=prune(agenda, position_b(world))),
        Side(name="Absent Z", absent=True, position=Position()),
    ]
    time_limit = p.settings.evaluation_time_limit
    assert evaluations.findings_of(agenda, sides, "Channel talks", time_limit) == stored.findings


def test_findings_sealed_before_the_clash_rename_still_load() -> None:
    """Evaluations stored before the rename keep their clash sets under the old key."""
    stored = {
        "sides": ["A", "B"],
        "zone": False,
        "issues": {},
        "options": {},
        "viable": {},
        "overlap": {},
        "blocked": {},
        "red_lines": {},
        "conflict_sets": [["a-1", "b-1"]],
    }
    old = Findings.model_validate(stored)
    assert old.clash_sets == [["a-1", "b-1"]]
    assert "clash_sets" in old.model_dump(mode="json")
    assert "conflict_sets" not in old.model_dump(mode="json")
