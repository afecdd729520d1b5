"""What a side may be told: the menu of disclosures and the pure functions behind it.

An evaluation produces a :class:`~backchannel.model.findings.Findings` record (the
facilitator's whole picture). A side never sees it: it sees only :class:`Disclosed`
records, each made by :func:`disclose` from the findings, the kind of disclosure the
facilitator picked and its parameter. ``disclose`` is pure and reads only what its kind
needs, so two private inputs of another side that give the same disclosure give the
same record, byte for byte; that record is all the audience learns (property-tested).

Kinds
-----
``zone``
    "Agreement on the whole agenda is possible: yes/no."
``overlap`` (parameter: an issue id)
    "Issue X has overlap: yes/no" (some option survives every side's red lines on X).
``clash`` (parameter: one of the audience's own red-line ids)
    "Your red line R clashes with another side: yes/no", never saying whose or which.
``package`` (parameter: a rule, or ``partial:`` and a rule)
    "A package for discussion: P" (options only, no utilities).
``frontier``
    The Pareto frontier the analysis page draws (two delegations at the table): every
    point's utilities and the recommended packages' points, as the chart needs them.

The escalation watch releases two more kinds, made by :func:`escalation_disclosed` from
the facilitator's escalation model (never from an evaluation):

``equilibrium``
    "State S (the options each decision maker takes in it) is an equilibrium under C."
``path``
    The same, and the steps from the status quo to S: who moves, and the state after.

Every record keeps its English ``headline`` (the CLI, the log) and, beside it, its
:class:`Facts`: the kind and the values it states, a small typed and versioned document.
Every reader words a record from its facts in the reader's language (:func:`words`, the
one reader); a record stored before the facts existed gets them from its headline when
it is read (:func:`_facts_of_headline`, the only place that parses a headline).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from backchannel.errors import InputError
from backchannel.messages import Message, t_, t_n, verbatim
from backchannel.model.dialogue import condition_words, unacceptable_words
from backchannel.model.findings import Findings
from backchannel.model.frontier import spread_points


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Kind(str, Enum):
    """The disclosures a facilitator can release."""

    ZONE = "zone"
    OVERLAP = "overlap"
    CLASH = "clash"
    PACKAGE = "package"
    FRONTIER = "frontier"
    EQUILIBRIUM = "equilibrium"
    PATH = "path"


ESCALATION_KINDS = frozenset({Kind.EQUILIBRIUM, Kind.PATH})
"""The kinds released from the escalation watch, not from an evaluation."""

CONCEPT_NAMES = {
    "nash": t_("Nash stability (R)"),
    "gmr": t_("general metarationality (GMR)"),
    "smr": t_("symmetric metarationality (SMR)"),
    "seq": t_("sequential stability (SEQ)"),
    "sim": t_("simultaneous stability (SIM)"),
    "seqsim": t_("simultaneous sequential stability (SEQ&SIM)"),
    "limited": t_("limited-move stability (L)"),
}
"""Each solution concept's name, as the escalation page and a released finding give it."""


class EscalationStep(_Frozen):
    """One move on a path from the status quo: who moves, the state after it, and the
    options each decision maker (by name) takes in that state."""

    mover: str
    state: str
    taken: dict[str, list[str]]


class EscalationFact(_Frozen):
    """A released finding of the escalation watch, for the page to word in its language."""

    concept: str
    concept_name: str
    state: str
    state_name: str | None = None
    taken: dict[str, list[str]]
    steps: list[EscalationStep] | None = None
    horizon: int | None = None
    """The moves each side looks ahead, for limited-move stability (None for the others)."""


class FrontierFact(_Frozen):
    """A released Pareto frontier: the two delegations (utility of the first across, of
    the second up), the points drawn (a spread subset of ``total``), and each recommended
    package's point by its settlement rule."""

    sides: tuple[str, str]
    points: list[list[float]]
    total: int
    marks: dict[str, list[float]]


class RedLineWords(_Frozen):
    """A red line's parts, to word it in any language: "issue: not option" (``options``
    has one option, no ``then_issue``), "if issue is options, then then_issue must be
    then_options", or only its ``text`` as written when it has neither form."""

    issue: str | None = None
    options: list[str] = []
    then_issue: str | None = None
    then_options: list[str] = []
    text: str = ""


FACTS_VERSION: Literal[1] = 1
"""The version of :class:`Facts` that :func:`disclose` writes."""


class Facts(_Frozen):
    """What a released finding states, as data: its kind and its values (version 1).

    ``answer``: the yes/no of ``zone``, ``overlap`` and ``clash``; ``issue``: the issue's
    name (``overlap``); ``red_line``: the audience's red line (``clash``); ``partial``:
    the package covers a partial deal (``package``); ``red_lines_only``: a ``zone`` that
    decided the red lines and conditions alone, walk-away levels aside (a blind
    dialogue's ``redlines`` finding). The package, the frontier and an
    escalation finding keep their values in the record's own fields.
    """

    version: Literal[1] = FACTS_VERSION
    kind: Kind
    answer: bool | None = None
    issue: str | None = None
    red_line: RedLineWords | None = None
    partial: bool = False
    red_lines_only: bool = False


class Disclosed(_Frozen):
    """What one audience is told: its facts and its English headline, and the package, the
    frontier or the escalation finding when one is released.

    ``facts`` None: a record stored before facts were kept whose headline has none of the
    forms :func:`disclose` writes (shown as it is).
    """

    kind: Kind
    headline: str
    facts: Facts | None = None
    package: dict[str, str] | None = None
    frontier: FrontierFact | None = None
    escalation: EscalationFact | None = None

    @model_validator(mode="before")
    @classmethod
    def _stored_before_facts(cls, data: Any) -> Any:
        """A record stored without facts gets them from its headline."""
        if isinstance(data, dict) and "facts" not in data and "kind" in data:
            return {**data, "facts": _facts_of_headline(Kind(data["kind"]), data["headline"])}
        return data


def _taken_text(taken: dict[str, list[str]]) -> str:
    return "; ".join(f"{who}: {', '.join(options) or 'nothing'}" for who, options in taken.items())


def escalation_disclosed(
    kind: Kind,
    *,
    concept: str,
    concept_name: str,
    state: str,
    state_name: str | None,
    taken: dict[str, list[str]],
    steps: list[EscalationStep] | None = None,
    horizon: int | None = None,
) -> Disclosed:
    """The record of an escalation finding (``kind`` is ``equilibrium`` or ``path``).

    It holds only what the facilitator chose to tell: the state, the options taken in it
    by each decision maker, the concept (and, for limited-move stability, its horizon),
    and for a path its steps.
    """
    label = f"{state} ({state_name})" if state_name else state
    if horizon is not None:
        concept_name = f"{concept_name} with a horizon of {horizon}"
    headline = f"State {label} [{_taken_text(taken)}] is an equilibrium under {concept_name}."
    if kind is Kind.PATH:
        moves = " → ".join(f"{step.mover} moves to {step.state}" for step in steps or [])
        headline = f"{headline} From the status quo: {moves or 'it is the status quo'}."
    fact = EscalationFact(
        concept=concept,
        concept_name=concept_name,
        state=state,
        state_name=state_name,
        taken=taken,
        steps=list(steps or []) if kind is Kind.PATH else None,
        horizon=horizon,
    )
    return Disclosed(kind=kind, headline=headline, facts=Facts(kind=kind), escalation=fact)


def frontier_sides(findings: Findings) -> tuple[str, str] | None:
    """The two delegations a frontier is drawn for (None: not two at the table)."""
    at_table = [n for n in findings.sides if any(n in u for u in findings.utilities.values())]
    return (at_table[0], at_table[1]) if len(at_table) == 2 else None


def _frontier(findings: Findings, kind: Kind) -> Disclosed:
    sides = frontier_sides(findings)
    if not findings.frontier or sides is None:
        raise InputError(
            t_("this evaluation has no Pareto frontier to release"),
            hint=t_(
                "a frontier is drawn for two delegations when agreement is possible; "
                "release another finding"
            ),
        )
    points = spread_points(findings.frontier, MOST_POINTS)
    total = max(findings.frontier_size, len(findings.frontier))
    marks = {rule: [u[sides[0]], u[sides[1]]] for rule, u in findings.utilities.items()}
    fact = FrontierFact(sides=sides, points=points, total=total, marks=marks)
    return Disclosed(
        kind=kind,
        headline=f"The Pareto frontier of the evaluation: {total} points.",
        facts=Facts(kind=kind),
        frontier=fact,
    )


MOST_POINTS = 400
"""The most frontier points a release keeps (the chart draws as many)."""


def disclose(
    findings: Findings, kind: Kind, parameter: str, audience_side: int | None
) -> Disclosed:
    """The record an audience receives (``audience_side`` None: the observers).

    Raises
    ------
    InputError
        The parameter does not fit the kind (unknown issue, a red line of another side,
        a package the evaluation did not produce).
    """
    if kind in ESCALATION_KINDS:
        raise InputError(
            t_(
                "{kind} findings come from the escalation watch, not from an evaluation",
                kind=repr(kind.value),
            ),
            hint=t_("release them from the escalation page"),
        )
    if kind is Kind.FRONTIER:
        return _frontier(findings, kind)
    if kind is Kind.ZONE:
        if findings.zone is None:
            raise InputError(
                t_("the evaluation did not decide whether agreement is possible"),
                hint=t_("release another finding, or evaluate again with more time"),
            )
        answer = "yes" if findings.zone else "no"
        return Disclosed(
            kind=kind,
            headline=f"Agreement on the whole agenda is possible: {answer}.",
            facts=Facts(kind=kind, answer=findings.zone),
        )
    if kind is Kind.OVERLAP:
        if parameter not in findings.overlap:
            raise InputError(
                t_("unknown issue {issue}", issue=repr(parameter)),
                hint=t_("pick an issue of the agenda"),
            )
        name = findings.issues[parameter]
        found = findings.overlap[parameter]
        return Disclosed(
            kind=kind,
            headline=f"Issue “{name}” has overlap: {'yes' if found else 'no'}.",
            facts=Facts(kind=kind, answer=found, issue=name),
        )
    if kind is Kind.CLASH:
        fact = findings.red_lines.get(parameter)
        if fact is None or audience_side is None or fact.side != audience_side:
            raise InputError(
                t_("a clash can only be disclosed to the side that owns the red line"),
                hint=t_("pick one of the audience's own red lines"),
            )
        clashes = any(
            parameter in group and any(findings.red_lines[r].side != fact.side for r in group)
            for group in findings.clash_sets
        )
        return Disclosed(
            kind=kind,
            headline=(
                f"Your red line “{fact.text}” clashes with another side: "
                f"{'yes' if clashes else 'no'}."
            ),
            facts=Facts(kind=kind, answer=clashes, red_line=red_line_parts(fact.text)),
        )
    pool = findings.packages
    rule = parameter
    partial = parameter.startswith("partial:")
    if partial:
        pool, rule = findings.partial_packages, parameter.removeprefix("partial:")
    package = pool.get(rule)
    if package is None:
        names = [*findings.packages, *("partial:" + r for r in findings.partial_packages)]
        raise InputError(
            t_("the evaluation has no package {package}", package=repr(parameter)),
            hint=t_("pick one of: {choices}", choices=", ".join(names) or "—"),
        )
    scope = "a partial deal" if partial else "the whole agenda"
    return Disclosed(
        kind=kind,
        headline=f"A package for discussion on {scope}:",
        facts=Facts(kind=kind, partial=partial),
        package=dict(package),
    )


BLIND_FINDINGS = ("overlap", "exists", "redlines", "nash", "random")
"""The findings a blind dialogue's nodes open (``backchannel.blind.plan.Finding``)."""


def blind_disclosed(
    finding: str,
    overlap: Sequence[bool] | None,
    exists: bool | None,
    package: Sequence[int] | None,
    issues: Sequence[tuple[str, Sequence[str]]],
    issue: int | None = None,
) -> Disclosed:
    """The record an audience receives of a blind dialogue's opened finding.

    ``issues`` are the agenda's (name, options); ``issue`` the one issue whose overlap is
    released (``overlap`` only). The records have the same forms as :func:`disclose`'s,
    so a side reads them the same way; ``redlines`` says what it decided (walk-away
    levels aside).

    Raises
    ------
    InputError
        An overlap without a valid issue, or a finding that did not open what it needs.
    """
    if finding == "overlap":
        if overlap is None or issue is None or not 0 <= issue < len(overlap):
            raise InputError(
                t_("pick the issue whose overlap is released"), hint=t_("one issue of the agenda")
            )
        answer = "yes" if overlap[issue] else "no"
        name = issues[issue][0]
        return Disclosed(
            kind=Kind.OVERLAP,
            headline=f"Issue “{name}” has overlap: {answer}.",
            facts=Facts(kind=Kind.OVERLAP, answer=overlap[issue], issue=name),
        )
    if exists is None:
        raise InputError(
            t_("the blind finding {finding} opened nothing to release", finding=repr(finding))
        )
    answer = "yes" if exists else "no"
    if finding == "redlines":
        return Disclosed(
            kind=Kind.ZONE,
            headline=f"Some package respects every side's red lines and conditions: {answer}.",
            facts=Facts(kind=Kind.ZONE, answer=exists, red_lines_only=True),
        )
    if finding in ("nash", "random") and exists and package is not None:
        chosen = {name: options[o] for (name, options), o in zip(issues, package, strict=True)}
        return Disclosed(
            kind=Kind.PACKAGE,
            headline="A package for discussion on the whole agenda:",
            facts=Facts(kind=Kind.PACKAGE),
            package=chosen,
        )
    return Disclosed(
        kind=Kind.ZONE,
        headline=f"Agreement on the whole agenda is possible: {answer}.",
        facts=Facts(kind=Kind.ZONE, answer=exists),
    )


# ------------------------------------------------------------------ in the reader's language
def red_line_parts(text: str) -> RedLineWords:
    """The parts of a red line's English words (as
    :func:`~backchannel.model.dialogue.red_line_text` writes them and an evaluation keeps
    them); only the text when it has neither form."""
    found = re.fullmatch(r"(?P<issue>.+): not '(?P<option>[^']*)'", text, re.S)
    if found:
        return RedLineWords(issue=found["issue"], options=[found["option"]])
    found = re.fullmatch(
        r"if (?P<a>.+?) is (?P<x>.+), then (?P<b>.+?) must be (?P<y>.+)", text, re.S
    )
    if found:
        return RedLineWords(
            issue=found["a"],
            options=found["x"].split(" or "),
            then_issue=found["b"],
            then_options=found["y"].split(" or "),
        )
    return RedLineWords(text=text)


def _facts_of_headline(kind: Kind, headline: str) -> dict[str, Any] | None:
    """The facts of a record stored before they were kept, read from its English headline
    (None: it has none of the forms :func:`disclose` wrote)."""
    if kind in ESCALATION_KINDS:
        return {"kind": kind.value}
    answer = re.search(r": (yes|no)\.$", headline)
    yes = None if answer is None else answer[1] == "yes"
    if kind is Kind.ZONE and yes is not None:
        only = headline.startswith("Some package respects every side's red lines")
        return {"kind": kind.value, "answer": yes, "red_lines_only": only}
    subject = re.search(r"“(.*)”", headline, re.S)
    if kind is Kind.OVERLAP and yes is not None and subject is not None:
        return {"kind": kind.value, "answer": yes, "issue": subject[1]}
    if kind is Kind.CLASH and yes is not None and subject is not None:
        line = red_line_parts(subject[1]).model_dump()
        return {"kind": kind.value, "answer": yes, "red_line": line}
    if kind is Kind.PACKAGE and headline.startswith("A package for discussion on"):
        return {"kind": kind.value, "partial": "partial deal" in headline}
    return None


YES_NO = {True: t_("yes"), False: t_("no")}


def red_line_words(line: RedLineWords) -> Message:
    """A released red line in the reader's language."""
    if line.issue is None:
        return verbatim(line.text)
    if line.then_issue is None:
        return unacceptable_words(line.issue, line.options[0])
    return condition_words(line.issue, line.options, line.then_issue, line.then_options)


def _taken_words(taken: dict[str, list[str]]) -> Message:
    """Each decision maker's options in a state ("A: x, y; B: nothing")."""
    said: Message = verbatim("")
    for k, (who, options) in enumerate(taken.items()):
        shown = ", ".join(options) if options else t_("nothing")
        one = t_("{who}: {options}", who=who, options=shown)
        said = one if k == 0 else t_("{earlier}; {later}", earlier=said, later=one)
    return said


def _moves_words(steps: list[EscalationStep]) -> Message:
    """The moves of a path ("A moves to S1 → B moves to S2")."""
    said: Message = t_("it is the status quo")
    for k, step in enumerate(steps):
        one = t_("{who} moves to {state}", who=step.mover, state=step.state)
        said = one if k == 0 else t_("{earlier} → {later}", earlier=said, later=one)
    return said


def _escalation_words(found: EscalationFact, kind: Kind) -> Message:
    concept = CONCEPT_NAMES.get(found.concept, verbatim(found.concept_name))
    if found.horizon is not None:
        concept = t_n(
            "{concept} with a horizon of {n} move",
            "{concept} with a horizon of {n} moves",
            n=found.horizon,
            concept=concept,
        )
    state = f"{found.state} ({found.state_name})" if found.state_name else found.state
    said = t_(
        "State {state} [{taken}] is an equilibrium under {concept}.",
        state=state,
        taken=_taken_words(found.taken),
        concept=concept,
    )
    if kind is not Kind.PATH:
        return said
    moves = _moves_words(found.steps or [])
    return t_("{said} From the status quo: {moves}.", said=said, moves=moves)


def _answer_words(facts: Facts) -> Message | None:
    """A yes/no finding in words (None: its facts lack what its kind needs)."""
    if facts.answer is None:
        return None
    answer = YES_NO[facts.answer]
    if facts.kind is Kind.ZONE and facts.red_lines_only:
        return t_(
            "Some package respects every side's red lines and conditions: {answer}.",
            answer=answer,
        )
    if facts.kind is Kind.ZONE:
        return t_("Agreement on the whole agenda is possible: {answer}.", answer=answer)
    if facts.kind is Kind.OVERLAP and facts.issue is not None:
        return t_("Issue “{issue}” has overlap: {answer}.", issue=facts.issue, answer=answer)
    if facts.kind is Kind.CLASH and facts.red_line is not None:
        return t_(
            "Your red line “{red_line}” clashes with another side: {answer}.",
            red_line=red_line_words(facts.red_line),
            answer=answer,
        )
    return None


def words(told: Disclosed) -> Message:
    """What ``told`` states, in the reader's language: the one reader of released
    findings (the pages, the API and the readouts show it)."""
    facts = told.facts
    said: Message | None = None
    if facts is None:
        said = None
    elif facts.kind in ESCALATION_KINDS and told.escalation is not None:
        said = _escalation_words(told.escalation, facts.kind)
    elif facts.kind is Kind.FRONTIER and told.frontier is not None:
        said = t_n(
            "The Pareto frontier of the evaluation: {n} point.",
            "The Pareto frontier of the evaluation: {n} points.",
            n=told.frontier.total,
        )
    elif facts.kind is Kind.PACKAGE:
        said = (
            t_("A package for discussion on a partial deal:")
            if facts.partial
            else t_("A package for discussion on the whole agenda:")
        )
    else:
        said = _answer_words(facts)
    return verbatim(told.headline) if said is None else said
