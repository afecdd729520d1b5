"""Evaluations: the rationed analysis of a locked round.

Evaluations are **rationed** (``evaluations_per_round``, default 1), **capped** in all
rounds (``evaluations_per_dialogue``, default 20) and every one is written to the log
that every delegation reads, so nobody, the facilitator included, can probe a side's red
lines by repeated queries. Opening rounds does not renew the ration for free either: a
round whose case (the agenda and every side's position, as the engine reads them) is the
one the dialogue's last evaluation read, in an earlier round, is not evaluated again. Only
the facilitator runs one and reads its findings
(:class:`~backchannel.model.findings.Findings`); a side learns only what is released to
it (:mod:`~backchannel.services.releases`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backchannel.errors import NotAllowedNow
from backchannel.messages import t_, t_n
from backchannel.model.case import Case
from backchannel.model.compile import compile_case
from backchannel.model.dialogue import Agenda, Position, Side, build_case, prune
from backchannel.model.findings import EngineAnswers, Findings, build_findings
from backchannel.model.frontier import spread
from backchannel.model.problem import Problem
from backchannel.services import access, negotiation
from backchannel.services.access import Actor
from backchannel.services.dialogues import (
    current_round,
    name_of,
    read_agenda,
    state_name,
    title_of,
)
from backchannel.services.platform import DialogueKeys, Platform
from backchannel.services.positions import read_position
from backchannel.solvers import engine
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.tables import DialogueRow, EvaluationRow, RoundRow

SOURCE = "<dialogue>"
"""The name a dialogue's case goes by in the engine's messages."""

CHART_POINTS = 400
"""The most frontier points kept for the chart, evenly spread (a 420-pixel-wide drawing)."""


@dataclass(frozen=True)
class EvaluationView:
    """The facilitator's whole picture of an evaluation, with the side ids."""

    id: str
    round_number: int
    findings: Findings
    side_ids: list[str]
    created_at: datetime


def _answers(case: Case, problem: Problem, time_limit: float) -> EngineAnswers:
    """Run the engine on a dialogue's compiled case: the overview, and the frontier."""
    over = negotiation.overview_of(negotiation.Loaded(SOURCE, case, problem), time_limit=time_limit)
    frontier: tuple[tuple[float, ...], ...] = ()
    size = 0
    if over.zone.exists and len(problem.utility_parties) == 2:
        points = engine.frontier(problem, time_limit=time_limit).points
        rows, _ = spread(points.utilities, CHART_POINTS)
        frontier = tuple(map(tuple, points.utilities[rows].tolist()))
        size = len(points)
    return EngineAnswers(
        zone=over.zone,
        blocked=tuple(tuple(st.blocked_by for st in m.options) for m in over.redlines),
        clashes=over.clashes,
        partial_issues=over.partial_issues,
        settlements=over.settlements,
        settled_on=over.settled_on,
        frontier=frontier,
        frontier_size=size,
    )


def findings_of(agenda: Agenda, sides: list[Side], title: str, time_limit: float) -> Findings:
    """The findings for a round's inputs: build the case, run the engine (no database)."""
    return _findings(agenda, sides, build_case(title, agenda, sides), time_limit)


def _findings(agenda: Agenda, sides: list[Side], case: Case, time_limit: float) -> Findings:
    problem = compile_case(case, SOURCE)
    return build_findings(agenda, sides, case, problem, _answers(case, problem, time_limit))


def inputs_digest(keys: DialogueKeys, case: Case) -> str:
    """A digest of what an evaluation reads: the case, but for its title.

    Keyed (HMAC-SHA256) with a key derived from the dialogue's data key, so that the
    stored digest cannot be checked against guessed positions by whoever lacks that key;
    private notes are not in the case, so editing one changes nothing here.
    """
    body = json.dumps(
        case.model_copy(update={"title": ""}).model_dump(mode="json"),
        sort_keys=True,
        separators=(",", ":"),
    )
    key = hmac.new(keys.dek, b"backchannel evaluation inputs v1", hashlib.sha256).digest()
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class EvaluationInputs:
    """What an evaluation read: the agenda and every side's position at lock time."""

    agenda: Agenda
    sides: list[Side]


def inputs_doc(agenda: Agenda, sides: list[Side]) -> dict[str, Any]:
    """An evaluation's inputs as the JSON sealed with it (:func:`read_inputs` reads it)."""
    return {
        "agenda": agenda.model_dump(mode="json"),
        "sides": [side.model_dump(mode="json") for side in sides],
    }


def read_inputs(keys: DialogueKeys, row: EvaluationRow) -> EvaluationInputs | None:
    """A stored evaluation's inputs (unsealed); None for one made before they were kept."""
    if row.inputs_ct is None:
        return None
    body = keys.open("evaluations", "inputs", row.id, row.inputs_ct)
    return EvaluationInputs(
        Agenda.model_validate(body["agenda"]),
        [Side.model_validate(side) for side in body["sides"]],
    )


def read_findings(keys: DialogueKeys, row: EvaluationRow) -> Findings:
    """A stored evaluation's findings (unsealed)."""
    return Findings.model_validate(keys.open("evaluations", "result", row.id, row.result_ct))


def evaluable(s: Session, dialogue: DialogueRow) -> RoundRow:
    row = current_round(s, dialogue.id)
    if row.state not in ("locked", "evaluated"):
        raise NotAllowedNow(
            t_(
                "round {number} is {state}: only a locked round is evaluated",
                number=row.number,
                state=state_name(row.state),
            ),
            hint=t_("lock the round first") if row.state == "draft" else None,
        )
    if row.evaluations_used >= row.evaluations_allowed:
        raise NotAllowedNow(
            t_n(
                "the {n} evaluation of round {number} is used",
                "the {n} evaluations of round {number} are used",
                row.evaluations_allowed,
                number=row.number,
            ),
            hint=t_("open a new round"),
        )
    if repo.evaluation_count(s, dialogue.id) >= dialogue.evaluations_per_dialogue:
        raise NotAllowedNow(
            t_n(
                "the {n} evaluation this dialogue allows in all is used",
                "the {n} evaluations this dialogue allows in all are used",
                dialogue.evaluations_per_dialogue,
            ),
            hint=t_(
                "the cap was fixed when the dialogue was convened; a new dialogue starts "
                "with a new one"
            ),
        )
    return row


def _unchanged(last: EvaluationRow | None, round_id: str, digest: str) -> bool:
    """Whether the round's case is the one the dialogue's last evaluation, in an earlier
    round, read (a second evaluation of the same frozen round is the ration's business)."""
    return last is not None and last.round_id != round_id and last.inputs_digest == digest


def _inputs(
    s: Session, keys: DialogueKeys, row: RoundRow, agenda: Agenda
) -> tuple[list[Side], list[tuple[str, int]]]:
    """Every side of the round, and the (position, revision) pairs they were read from."""
    sides, versions = [], []
    for d in repo.delegations(s, row.dialogue_id):
        found = repo.position(s, row.id, d.id)
        if found is None and d.role == "delegation":
            raise NotAllowedNow(
                t_(
                    "delegation {name} has not recorded a position in this round",
                    name=repr(name_of(keys, d)),
                ),
                hint=t_("unlock the round so that it can, then lock it again"),
            )
        body = Position()
        if found is not None:
            body = read_position(keys, found)
            versions.append((found.id, found.revision))
        sides.append(
            Side(name=name_of(keys, d), absent=d.role == "absent", position=prune(agenda, body))
        )
    return sides, versions


def evaluate(platform: Platform, actor: Actor, dialogue_id: str) -> str:
    """Run one rationed evaluation of the locked round; returns its id.

    The inputs are read in one snapshot, the engine runs outside any transaction, and
    the result is written only if the round, its ration and every position are still
    as they were read (so two concurrent requests cannot exceed the ration or the cap).
    A round whose case is the one the dialogue's last evaluation read is refused.
    """
    with platform.view() as s:
        access.facilitator(s, actor, dialogue_id)
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        assert dialogue is not None
        if dialogue.blind:
            raise NotAllowedNow(
                t_(
                    "this is a blind dialogue: the positions stay on the delegations' nodes, "
                    "so the server cannot evaluate the round"
                ),
                hint=t_("ask the nodes for a finding on the Blind page"),
            )
        row = evaluable(s, dialogue)
        keys = platform.keys(s, dialogue_id)
        agenda = read_agenda(keys, dialogue)
        sides, versions = _inputs(s, keys, row, agenda)
        title, round_id, used = title_of(keys, dialogue), row.id, row.evaluations_used
        last = repo.last_evaluation(s, dialogue_id)
    case = build_case(title, agenda, sides)
    digest = inputs_digest(keys, case)
    if _unchanged(last, round_id, digest):
        raise NotAllowedNow(
            t_(
                "nothing changed since the last evaluation: the agenda and every position are "
                "as they were then, so it would tell nothing new"
            ),
            hint=t_(
                "unlock the round so that the delegations can revise their positions "
                "(or change the agenda), then lock it and evaluate"
            ),
        )
    findings = _findings(agenda, sides, case, platform.settings.evaluation_time_limit)
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        assert dialogue is not None
        row = evaluable(s, dialogue)
        now = [(p.id, p.revision) for p in repo.positions_in(s, round_id)]
        if row.id != round_id or row.evaluations_used != used or sorted(now) != sorted(versions):
            raise NotAllowedNow(
                t_("the round changed while it was being evaluated"),
                hint=t_("reload and try again"),
            )
        evaluation = EvaluationRow(
            dialogue_id=dialogue_id, round_id=row.id, result_ct=b"", inputs_digest=digest
        )
        repo.add(s, evaluation)
        evaluation.result_ct = keys.seal(
            "evaluations", "result", evaluation.id, findings.model_dump(mode="json")
        )
        evaluation.inputs_ct = keys.seal(
            "evaluations", "inputs", evaluation.id, inputs_doc(agenda, sides)
        )
        spend_evaluation(platform, s, row, actor, "round.evaluated", evaluation.id)
        return evaluation.id


def spend_evaluation(
    platform: Platform,
    s: Session,
    row: RoundRow,
    actor: Actor,
    action: str,
    target: str,
    **detail: str,
) -> None:
    """Count one evaluation of the round ``row`` (a clear one, or a blind computation), mark
    the round evaluated and log it for every side, with the ration's count."""
    row.evaluations_used += 1
    row.state = "evaluated"
    platform.log(
        s,
        action,
        dialogue_id=row.dialogue_id,
        actor_id=actor.user_id,
        target=target,
        audience="all",
        detail={
            "round": row.number,
            **detail,
            "evaluation": row.evaluations_used,
            "of": row.evaluations_allowed,
        },
    )


def evaluations(platform: Platform, actor: Actor, dialogue_id: str) -> list[EvaluationView]:
    """Every evaluation of the dialogue, newest first (facilitator only)."""
    with platform.view() as s:
        access.facilitator(s, actor, dialogue_id)
        keys = platform.keys(s, dialogue_id)
        side_ids = [d.id for d in repo.delegations(s, dialogue_id)]
        out = []
        for r in repo.rounds(s, dialogue_id):
            for e in repo.evaluations(s, r.id):
                body = read_findings(keys, e)
                out.append(
                    EvaluationView(e.id, r.number, body, side_ids[: len(body.sides)], e.created_at)
                )
        return list(reversed(out))
