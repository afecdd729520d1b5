"""The facilitator's whole picture of one evaluation, and the pure function that builds it.

An evaluation compiles the dialogue's case, runs the engine and keeps its answers as
a :class:`Findings` record (sealed at rest). :func:`build_findings` turns the agenda,
the sides, the case, its compiled problem and the engine's answers
(:class:`EngineAnswers`) into that record. It runs no solver and reads no database,
so the service that evaluates a round, the web pages and a readout can all use it;
what a side may learn of the record is :func:`backchannel.model.disclosure.disclose`.

Issues and red lines are named by their agenda ids (red-line ids from
:func:`backchannel.model.dialogue.red_line_id`), sides by their order in the dialogue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from backchannel.messages import Message, t_, verbatim
from backchannel.model.case import Case
from backchannel.model.dialogue import Agenda, Side, condition_words, unacceptable_words
from backchannel.model.problem import Problem
from backchannel.model.results import ClashesResult, Settlement, SettlementRule, ZoneResult


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RedLineFact(_Frozen):
    """A red line in the findings: whose (side index), its text, its firmness."""

    side: int
    text: str
    firmness: float
    stated: bool


class Findings(_Frozen):
    """The facilitator's whole picture of one evaluation (sealed at rest)."""

    sides: list[str]
    zone: bool | None
    admissible_count: int | None = None
    issues: dict[str, str]  # issue id -> name, agenda order
    options: dict[str, list[str]]  # issue id -> options
    viable: dict[str, list[str]]  # issue id -> options used by an admissible package
    overlap: dict[str, bool]  # issue id -> some option left open by single-issue red lines
    blocked: dict[str, dict[str, list[str]]]  # issue id -> option -> red-line ids
    red_lines: dict[str, RedLineFact]
    clash_sets: list[list[str]] = Field(
        default_factory=list,
        # evaluations sealed before the rename stored this list as "conflict_sets"
        validation_alias=AliasChoices("clash_sets", "conflict_sets"),
    )
    relaxations: list[tuple[list[str], float]] = Field(default_factory=list)
    packages: dict[str, dict[str, str]] = Field(default_factory=dict)  # rule -> issue -> option
    utilities: dict[str, dict[str, float]] = Field(default_factory=dict)  # rule -> side -> u
    partial_issues: list[str] = Field(default_factory=list)
    partial_packages: dict[str, dict[str, str]] = Field(default_factory=dict)
    frontier: list[list[float]] = Field(default_factory=list)
    frontier_size: int = 0  # points on the whole frontier; 0 in evaluations kept whole before
    notes: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class EngineAnswers:
    """What the engine answered about a dialogue's compiled problem.

    Attributes
    ----------
    zone:
        Whether any package respects every red line, and the viable options.
    blocked:
        Per issue of the problem, per option: the ids of the single-issue red lines
        that rule the option out (the red-line map).
    clashes:
        The clashing sets of red lines and the cheapest relaxations, when the zone
        is empty (else None).
    partial_issues:
        Names of the issues of a partial deal, when the whole agenda has no zone.
    settlements:
        The package each bargaining rule recommends, on ``settled_on``.
    settled_on:
        The problem the settlements were computed on (the partial deal's, if any).
    frontier:
        The Pareto frontier's utility points (two sides at the table only), at most a
        chart's worth of them, evenly spread.
    frontier_size:
        How many points the whole frontier has.
    """

    zone: ZoneResult
    blocked: tuple[tuple[tuple[str, ...], ...], ...]
    clashes: ClashesResult | None
    partial_issues: tuple[str, ...]
    settlements: Mapping[SettlementRule, Settlement]
    settled_on: Problem
    frontier: tuple[tuple[float, ...], ...]
    frontier_size: int = 0


def build_findings(
    agenda: Agenda, sides: Sequence[Side], case: Case, problem: Problem, answers: EngineAnswers
) -> Findings:
    """The findings of an evaluation, from its inputs and the engine's answers.

    Parameters
    ----------
    agenda:
        The dialogue's agenda (issue ids and options).
    sides:
        Every side of the round, in the dialogue's order.
    case:
        The case built from them (:func:`backchannel.model.dialogue.build_case`).
    problem:
        The case compiled for the engine (issues in the agenda's order).
    answers:
        What the engine answered about ``problem``.

    Returns
    -------
    Findings
        The facilitator's whole picture, keyed by agenda ids.
    """
    names = [s.name for s in sides]
    ids = {i.name: i.id for i in agenda.issues}
    issue_ids = [ids[d.name] for d in problem.issues]
    described = {r.id: r.description for party in case.parties for r in party.red_lines}
    facts = {
        c.id: RedLineFact(
            side=names.index(c.party),
            text=described.get(c.id) or ("walk-away level" if c.is_utility else c.text),
            firmness=c.firmness,
            stated=c.stated,
        )
        for c in problem.constraints
    }
    packages: dict[str, dict[str, str]] = {}
    partial_packages: dict[str, dict[str, str]] = {}
    utilities: dict[str, dict[str, float]] = {}
    on = answers.settled_on
    for rule, settlement in answers.settlements.items():
        if settlement.package is None:
            continue
        target = partial_packages if answers.partial_issues else packages
        target[rule.value] = on.package_labels(settlement.package)
        utilities[rule.value] = dict(zip(on.utility_parties, settlement.utilities, strict=True))
    clashes = answers.clashes
    return Findings(
        sides=names,
        zone=answers.zone.exists,
        admissible_count=answers.zone.count,
        issues={i.id: i.name for i in agenda.issues},
        options={i.id: list(i.options) for i in agenda.issues},
        viable={
            issue_ids[i]: [problem.issues[i].labels[o] for o in options]
            for i, options in enumerate(answers.zone.viable)
        },
        overlap={
            issue_ids[i]: any(not by for by in options) for i, options in enumerate(answers.blocked)
        },
        blocked={
            issue_ids[i]: {problem.issues[i].labels[o]: list(by) for o, by in enumerate(options)}
            for i, options in enumerate(answers.blocked)
        },
        red_lines=facts,
        clash_sets=[list(c.constraint_ids) for c in clashes.clash_sets] if clashes else [],
        relaxations=[(list(r.constraint_ids), r.cost) for r in clashes.relaxations]
        if clashes
        else [],
        packages=packages,
        utilities=utilities,
        partial_issues=[ids[name] for name in answers.partial_issues],
        partial_packages=partial_packages,
        frontier=[list(point) for point in answers.frontier],
        frontier_size=answers.frontier_size,
    )


def _option_indexes(digits: str, options: Sequence[str]) -> list[str] | None:
    """The options named by a red-line id's digits (one digit an option), if they can be
    read (an issue of more than ten options cannot: its digits run together)."""
    if len(options) > 10 or not digits.isdigit() or any(int(k) >= len(options) for k in digits):
        return None
    return [options[int(k)] for k in digits]


def _from_id(findings: Findings, rid: str) -> Message | None:
    """The red line ``rid`` in words, rebuilt from its id and the agenda in the findings."""
    _, _, rest = rid.partition("-")
    for issue, options in findings.options.items():
        name = findings.issues[issue]
        if rest.startswith(f"no-{issue}-"):
            index = rest.removeprefix(f"no-{issue}-")
            if index.isdigit() and int(index) < len(options):
                return unacceptable_words(name, options[int(index)])
        if rest.startswith(f"if-{issue}-"):
            digits, _, then = rest.removeprefix(f"if-{issue}-").partition("-then-")
            chosen = _option_indexes(digits, options)
            for other, then_options in findings.options.items():
                if chosen is not None and then.startswith(f"{other}-"):
                    picked = _option_indexes(then.removeprefix(f"{other}-"), then_options)
                    if picked is not None:
                        return condition_words(name, chosen, findings.issues[other], picked)
    return None


def red_line_words(findings: Findings, rid: str) -> Message:
    """A red line of the findings in the reader's language.

    A red line of a position is rebuilt from its id (:func:`red_line_id`) and the agenda
    the findings keep; a walk-away level is named so; anything else (a red line of a case
    file) is shown as the findings keep it.
    """
    fact = findings.red_lines[rid]
    if rid.startswith("reservation"):
        return t_("walk-away level")
    return _from_id(findings, rid) or verbatim(fact.text)
