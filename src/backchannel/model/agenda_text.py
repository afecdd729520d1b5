"""An agenda typed as text, one issue per line: ``Issue: option; option; option``.

The facilitator pastes or types the agenda in one box; :func:`parse_agenda_text` reads it
into issues and reports every problem by its line, so that the text can be corrected and
sent again. The syntax:

* one issue per line, its name, a colon, then its options separated by semicolons;
* ``(ordered)`` right after the name marks an ordered issue, its options from least to
  most (``Troop ceiling (ordered): 500; 800; 1200``); a Russian agenda may write
  ``(по порядку)``;
* blank lines and lines that start with ``#`` are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from backchannel.errors import InputError
from backchannel.messages import Message, as_message, t_
from backchannel.model.case import IssueKind
from backchannel.model.dialogue import MAX_OPTIONS

MAX_NAME = 120
MAX_LINES = 200
"""The most lines an agenda text may have (an agenda is a few dozen issues at most)."""
ORDERED_MARKS = ("(ordered)", "(по порядку)")
"""What marks an ordered issue after its name, in each language of the pages."""


@dataclass(frozen=True)
class TypedIssue:
    """One issue read from a line of the text."""

    line: int
    name: str
    kind: IssueKind
    options: tuple[str, ...]


def _issue_of(number: int, text: str) -> TypedIssue:
    """The issue on line ``number``; InputError naming the line when it is not one."""
    name, colon, rest = text.partition(":")
    if not colon:
        raise InputError(
            t_("line {n}: no colon between the issue and its options", n=number),
            hint=t_("write it as 'Issue: option; option'"),
        )
    name = name.strip()
    kind = IssueKind.UNORDERED
    for mark in ORDERED_MARKS:
        if name.lower().endswith(mark):
            name, kind = name[: -len(mark)].strip(), IssueKind.ORDERED
    if not name:
        raise InputError(
            t_("line {n}: the issue has no name", n=number),
            hint=t_("write the name before the colon"),
        )
    if len(name) > MAX_NAME:
        raise InputError(
            t_(
                "line {n}: the issue's name is longer than {most} characters",
                n=number,
                most=MAX_NAME,
            )
        )
    options = [o.strip() for o in rest.split(";") if o.strip()]
    if len(options) < 2:
        raise InputError(
            t_("line {n}: an issue needs at least two options", n=number),
            hint=t_("separate the options with semicolons"),
        )
    if len(options) > MAX_OPTIONS:
        raise InputError(
            t_(
                "line {n}: {count} options; an issue has at most {most}",
                n=number,
                count=len(options),
                most=MAX_OPTIONS,
            )
        )
    long = [o for o in options if len(o) > MAX_NAME]
    if long:
        raise InputError(
            t_("line {n}: an option is longer than {most} characters", n=number, most=MAX_NAME)
        )
    twice = sorted({o for o in options if options.count(o) > 1})
    if twice:
        raise InputError(
            t_("line {n}: the option {option} is listed twice", n=number, option=repr(twice[0]))
        )
    return TypedIssue(number, name, kind, tuple(options))


def parse_agenda_text(text: str, taken: frozenset[str] = frozenset()) -> list[TypedIssue]:
    """The issues of an agenda text, in order.

    Parameters
    ----------
    text:
        One issue per line, ``Issue: option; option`` (see the module's docstring).
    taken:
        Names of issues already on the agenda (compared without regard to case).

    Returns
    -------
    list of TypedIssue
        At least one issue.

    Raises
    ------
    InputError
        Every problem, each named by its line (``line 3: an issue needs at least two
        options``), in one message.
    """
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise InputError(
            t_(
                "the text has {n} lines; an agenda has at most {most}",
                n=len(lines),
                most=MAX_LINES,
            )
        )
    issues: list[TypedIssue] = []
    problems: list[Message] = []
    seen = {name.lower(): t_("the agenda") for name in taken}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            issue = _issue_of(number, line)
        except InputError as error:
            problems.append(as_message(error.text))
            continue
        earlier = seen.get(issue.name.lower())
        if earlier is not None:
            problems.append(
                t_(
                    "line {n}: {earlier} already has an issue {name}",
                    n=number,
                    earlier=earlier,
                    name=repr(issue.name),
                )
            )
            continue
        seen[issue.name.lower()] = t_("line {n}", n=issue.line)
        issues.append(issue)
    if problems:
        shown = problems[0]
        for problem in problems[1:5]:
            shown = t_("{problems}; {problem}", problems=shown, problem=problem)
        if len(problems) > 5:
            shown = t_("{problems}; and {n} more", problems=shown, n=len(problems) - 5)
        raise InputError(shown, hint=t_("one issue per line: 'Issue: option; option; option'"))
    if not issues:
        raise InputError(
            t_("no issue in the text"), hint=t_("write one issue per line: 'Issue: a; b'")
        )
    return issues


ABSENT_MARKS = ("(absent)", "(отсутствует)")
"""What marks an absent stakeholder after its name in a list of parties."""
MAX_PARTIES = 20


def parse_parties(text: str) -> list[tuple[str, bool]]:
    """The parties of a text, one per line: a delegation's name, or an absent
    stakeholder's name followed by ``(absent)``; blank lines are skipped.

    Returns
    -------
    list[tuple[str, bool]]
        Each party's name and whether it is an absent stakeholder, in order (the names are
        checked when the dialogue is created).
    """
    found = []
    for line in text.splitlines():
        name, absent = line.strip(), False
        for mark in ABSENT_MARKS:
            if name.lower().endswith(mark):
                name, absent = name[: -len(mark)].strip(), True
        if name:
            found.append((name, absent))
    if len(found) > MAX_PARTIES:
        raise InputError(
            t_("{n} parties; a dialogue has at most {most}", n=len(found), most=MAX_PARTIES)
        )
    return found
