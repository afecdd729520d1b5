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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel, ConfigDict

from backchannel.errors import InputError
from backchannel.model.findings import Findings


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Kind(str, Enum):
    """The disclosures a facilitator can release."""

    ZONE = "zone"
    OVERLAP = "overlap"
    CLASH = "clash"
    PACKAGE = "package"


class Disclosed(_Frozen):
    """What one audience is told: a headline, and the package when one is released."""

    kind: Kind
    headline: str
    package: dict[str, str] | None = None


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
