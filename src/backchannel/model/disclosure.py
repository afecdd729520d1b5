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

The escalation watch releases two more kinds, made by :func:`escalation_disclosed` from
the facilitator's escalation model (never from an evaluation):

``equilibrium``
    "State S (the options each decision maker takes in it) is an equilibrium under C."
``path``
    The same, and the steps from the status quo to S: who moves, and the state after.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel, ConfigDict

from backchannel.errors import InputError
from backchannel.messages import Message, t_, verbatim
from backchannel.model.dialogue import condition_words, unacceptable_words
from backchannel.model.findings import Findings


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Kind(str, Enum):
    """The disclosures a facilitator can release."""

    ZONE = "zone"
    OVERLAP = "overlap"
    CLASH = "clash"
    PACKAGE = "package"
    EQUILIBRIUM = "equilibrium"
    PATH = "path"


ESCALATION_KINDS = frozenset({Kind.EQUILIBRIUM, Kind.PATH})
"""The kinds released from the escalation watch, not from an evaluation."""


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


class Disclosed(_Frozen):
    """What one audience is told: a headline, and the package when one is released (or
    the escalation finding)."""

    kind: Kind
    headline: str
    package: dict[str, str] | None = None
    escalation: EscalationFact | None = None


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
) -> Disclosed:
    """The record of an escalation finding (``kind`` is ``equilibrium`` or ``path``).

    It holds only what the facilitator chose to tell: the state, the options taken in it
    by each decision maker, the concept, and for a path its steps.
    """
    label = f"{state} ({state_name})" if state_name else state
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
    )
    return Disclosed(kind=kind, headline=headline, escalation=fact)


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
            f"{kind.value!r} findings come from the escalation watch, not from an evaluation",
            hint="release them from the escalation page",
        )
    if kind is Kind.ZONE:
        if findings.zone is None:
            raise InputError("the evaluation did not decide whether agreement is possible")
        answer = "yes" if findings.zone else "no"
        return Disclosed(
            kind=kind, headline=f"Agreement on the whole agenda is possible: {answer}."
        )
    if kind is Kind.OVERLAP:
        if parameter not in findings.overlap:
            raise InputError(f"unknown issue {parameter!r}", hint="pick an issue of the agenda")
        answer = "yes" if findings.overlap[parameter] else "no"
        return Disclosed(
            kind=kind, headline=f"Issue “{findings.issues[parameter]}” has overlap: {answer}."
        )
    if kind is Kind.CLASH:
        fact = findings.red_lines.get(parameter)
        if fact is None or audience_side is None or fact.side != audience_side:
            raise InputError(
                "a clash can only be disclosed to the side that owns the red line",
                hint="pick one of the audience's own red lines",
            )
        clashes = any(
            parameter in group and any(findings.red_lines[r].side != fact.side for r in group)
            for group in findings.clash_sets
        )
        answer = "yes" if clashes else "no"
        return Disclosed(
            kind=kind,
            headline=f"Your red line “{fact.text}” clashes with another side: {answer}.",
        )
    pool = findings.packages
    rule = parameter
    if parameter.startswith("partial:"):
        pool, rule = findings.partial_packages, parameter.removeprefix("partial:")
    package = pool.get(rule)
    if package is None:
        names = [*findings.packages, *("partial:" + r for r in findings.partial_packages)]
        raise InputError(
            f"the evaluation has no package {parameter!r}",
            hint=f"pick one of: {', '.join(names)}",
        )
    scope = "a partial deal" if parameter.startswith("partial:") else "the whole agenda"
    return Disclosed(
        kind=kind, headline=f"A package for discussion on {scope}:", package=dict(package)
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
        return Disclosed(
            kind=Kind.OVERLAP, headline=f"Issue “{issues[issue][0]}” has overlap: {answer}."
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
        )
    if finding in ("nash", "random") and exists and package is not None:
        chosen = {name: options[o] for (name, options), o in zip(issues, package, strict=True)}
        return Disclosed(
            kind=Kind.PACKAGE,
            headline="A package for discussion on the whole agenda:",
            package=chosen,
        )
    return Disclosed(
        kind=Kind.ZONE, headline=f"Agreement on the whole agenda is possible: {answer}."
    )


# ------------------------------------------------------------------ in the reader's language
YES_NO = {"yes": t_("yes"), "no": t_("no")}


def _answer(found: re.Match[str]) -> Message:
    return YES_NO[found["answer"]]


def _red_line(text: str) -> Message:
    """A red line's English words (:func:`~backchannel.model.dialogue.red_line_text`) in the
    reader's language, where they can be read back; else as they are."""
    found = re.fullmatch(r"(?P<issue>.+): not '(?P<option>[^']*)'", text, re.S)
    if found:
        return unacceptable_words(found["issue"], found["option"])
    found = re.fullmatch(
        r"if (?P<a>.+?) is (?P<x>.+), then (?P<b>.+?) must be (?P<y>.+)", text, re.S
    )
    if found:
        return condition_words(
            found["a"], found["x"].split(" or "), found["b"], found["y"].split(" or ")
        )
    return verbatim(text)


_HEADLINES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Message]], ...] = (
    (
        re.compile(r"Agreement on the whole agenda is possible: (?P<answer>yes|no)\."),
        lambda m: t_("Agreement on the whole agenda is possible: {answer}.", answer=_answer(m)),
    ),
    (
        re.compile(r"Issue “(?P<issue>.*)” has overlap: (?P<answer>yes|no)\.", re.S),
        lambda m: t_("Issue “{issue}” has overlap: {answer}.", issue=m["issue"], answer=_answer(m)),
    ),
    (
        re.compile(
            r"Your red line “(?P<line>.*)” clashes with another side: (?P<answer>yes|no)\.", re.S
        ),
        lambda m: t_(
            "Your red line “{red_line}” clashes with another side: {answer}.",
            red_line=_red_line(m["line"]),
            answer=_answer(m),
        ),
    ),
    (
        re.compile(
            r"Some package respects every side's red lines and conditions: (?P<answer>yes|no)\."
        ),
        lambda m: t_(
            "Some package respects every side's red lines and conditions: {answer}.",
            answer=_answer(m),
        ),
    ),
    (
        re.compile(r"A package for discussion on the whole agenda:"),
        lambda m: t_("A package for discussion on the whole agenda:"),
    ),
    (
        re.compile(r"A package for discussion on a partial deal:"),
        lambda m: t_("A package for discussion on a partial deal:"),
    ),
)


def headline_words(told: Disclosed) -> Message:
    """A release's headline in the reader's language.

    A record keeps its headline in English, as :func:`disclose` wrote it (so that the same
    finding makes the same record); it is read back here into a message, and shown as it
    is if it has another form.
    """
    for pattern, words in _HEADLINES:
        found = pattern.fullmatch(told.headline)
        if found:
            return words(found)
    return verbatim(told.headline)


_SUBJECT = re.compile(r"“(?P<subject>.*)”")


@dataclass(frozen=True)
class Facts:
    """What a :class:`Disclosed` record states, read back from it (for charts and
    translation): the yes/no answer, the issue or red line it is about, whether its
    package covers a partial deal."""

    answer: bool | None
    subject: str | None
    partial: bool


def facts_of(record: Disclosed) -> Facts:
    """The facts :func:`disclose` wrote into ``record`` (its headline is made only there)."""
    text = record.headline
    answer = True if text.endswith(": yes.") else False if text.endswith(": no.") else None
    found = _SUBJECT.search(text)
    subject = None if found is None else found.group("subject")
    return Facts(answer, subject, "partial deal" in text)
