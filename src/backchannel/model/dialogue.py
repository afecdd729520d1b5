"""What people enter on the platform: the agenda and each delegation's position.

A delegation member records a position without utility theory: the issues in order
of importance, a rating 0-100 per option, options that are unacceptable, "if ...
then ..." conditions and a walk-away level. :func:`build_case` turns the agenda and
every side's position into the engine's :class:`~backchannel.model.case.Case`:

* issue weights are **rank-order centroid** weights of the importance order
  (``w_k = (1/n) sum_{j >= k} 1/j`` for the k-th of n issues; issues given the same
  rank share the average of their places' weights);
* an unacceptable option is a ``forbid`` red line, a condition an ``if/then`` red
  line, each with the firmness chosen (flexible 1, firm 3, absolute 10);
* the walk-away level ``w`` (0-100) is the reservation value ``w / 100``; an
  unrated option counts as 0.

Red-line ids are built from the agenda ids, so they stay the same from round to round.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from backchannel.errors import InputError, listing
from backchannel.messages import Message, t_, verbatim
from backchannel.model.case import (
    Case,
    Condition,
    Issue,
    IssueKind,
    Party,
    PartyRole,
    RedLine,
    Reservation,
    Visibility,
)

MAX_OPTIONS = 24
NOTE_LIMIT = 4000
"""The most characters of a position's internal note."""


def _not_a_truth_value(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError(t_("a whole number is needed, not true or false"))
    return value


NOT_TRUTH_VALUE = BeforeValidator(_not_a_truth_value)
"""Put after the bounds of an ``int`` (``Annotated[int, Field(ge=..), NOT_TRUTH_VALUE]``):
a whole number as JSON has it, ``50`` or ``50.0``, never ``true`` (which Python's ``int``
takes for 1). After the bounds, so that the OpenAPI description still shows them."""
Name = Annotated[str, Field(min_length=1, max_length=120)]
IssueId = Annotated[str, Field(min_length=1, max_length=32)]


Rank = Annotated[int, Field(ge=1, le=99), NOT_TRUTH_VALUE]
"""An issue's place in the order of importance (1: the most important)."""
Rating = Annotated[int, Field(ge=0, le=100), NOT_TRUTH_VALUE]
"""A rating or a walk-away level, 0-100."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgendaIssue(_Strict):
    """One issue on the shared agenda, with options in order (least to most if ordered)."""

    id: IssueId
    name: Name
    kind: IssueKind = IssueKind.UNORDERED
    options: Annotated[
        list[Name],
        Field(min_length=2, max_length=MAX_OPTIONS, json_schema_extra={"uniqueItems": True}),
    ]
    description: Annotated[str, Field(max_length=2000)] = ""

    @model_validator(mode="after")
    def _distinct(self) -> AgendaIssue:
        if len(set(self.options)) != len(self.options):
            raise ValueError(f"issue {self.name!r} lists the same option twice")
        return self


class Agenda(_Strict):
    """The agenda of a dialogue: issues in the order the facilitator set."""

    issues: list[AgendaIssue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct(self) -> Agenda:
        names = [issue.name for issue in self.issues]
        if len(set(names)) != len(names):
            raise ValueError("two issues have the same name")
        ids = [issue.id for issue in self.issues]
        if len(set(ids)) != len(ids):
            raise ValueError("two issues have the same id")
        return self

    def issue(self, issue_id: str) -> AgendaIssue:
        """The issue with this id."""
        for issue in self.issues:
            if issue.id == issue_id:
                return issue
        raise InputError(
            t_("unknown issue {issue}", issue=repr(issue_id)),
            hint=t_("pick an issue of this agenda"),
        )


class Firmness(str, Enum):
    """How costly relaxing a red line would be (used by the cheapest relaxations)."""

    FLEXIBLE = "flexible"
    FIRM = "firm"
    ABSOLUTE = "absolute"

    @property
    def weight(self) -> int:
        """The firmness number the engine minimises."""
        return {"flexible": 1, "firm": 3, "absolute": 10}[self.value]


class Unacceptable(_Strict):
    """An option the side will not accept."""

    issue: IssueId
    option: Name
    firmness: Firmness = Firmness.FIRM


class IfThen(_Strict):
    """A condition: "if issue A is one of these options, issue B must be one of those".

    A conditional red line of a position, entered on the position page's "if ... then
    ..." conditions; stored (and sent by the API) under the position's ``rules`` key.
    """

    if_issue: IssueId
    if_options: Annotated[list[Name], Field(min_length=1, max_length=MAX_OPTIONS)]
    then_issue: IssueId
    then_options: Annotated[list[Name], Field(min_length=1, max_length=MAX_OPTIONS)]
    firmness: Firmness = Firmness.FIRM


class Position(_Strict):
    """A delegation's private position (an absent stakeholder's holds red lines only)."""

    importance: dict[IssueId, Annotated[int, Field(ge=1, le=99), NOT_TRUTH_VALUE]] = Field(
        default_factory=dict
    )
    ratings: dict[IssueId, dict[Name, Annotated[int, Field(ge=0, le=100), NOT_TRUTH_VALUE]]] = (
        Field(default_factory=dict)
    )
    unacceptable: list[Unacceptable] = Field(default_factory=list)
    rules: list[IfThen] = Field(default_factory=list)
    walk_away: Rating | None = None
    note: Annotated[str, Field(max_length=NOTE_LIMIT)] = ""


def check_position(agenda: Agenda, position: Position) -> None:
    """Every issue and option the position names exists on the agenda."""

    def known(issue_id: str, options: list[str], where: Message) -> None:
        issue = agenda.issue(issue_id)
        unknown = [o for o in options if o not in issue.options]
        if unknown:
            raise InputError(
                t_(
                    "{where}: {options} is not an option of {issue}",
                    where=where,
                    options=listing(map(repr, unknown)),
                    issue=repr(issue.name),
                ),
                hint=t_("the options are: {options}", options=listing(issue.options)),
            )

    for issue_id in position.importance:
        agenda.issue(issue_id)
    for issue_id, ratings in position.ratings.items():
        known(issue_id, list(ratings), t_("ratings"))
    for item in position.unacceptable:
        known(item.issue, [item.option], t_("unacceptable options"))
    for rule in position.rules:
        known(rule.if_issue, rule.if_options, t_("condition"))
        known(rule.then_issue, rule.then_options, t_("condition"))
        if rule.if_issue == rule.then_issue:
            raise InputError(t_("a condition links an issue to itself"), hint=t_("pick two issues"))


def importance_weights(agenda: Agenda, importance: dict[str, int]) -> dict[str, float]:
    """Rank-order centroid weights (in percent) from ranks 1 = most important."""
    n = len(agenda.issues)
    worst = max(importance.values(), default=1) + 1
    ranks = sorted(agenda.issues, key=lambda i: importance.get(i.id, worst))
    place_weight = [sum(1 / j for j in range(k, n + 1)) / n for k in range(1, n + 1)]
    weights: dict[str, float] = {}
    k = 0
    while k < n:
        rank = importance.get(ranks[k].id, worst)
        group = [i for i in ranks[k:] if importance.get(i.id, worst) == rank]
        share = sum(place_weight[k : k + len(group)]) / len(group)
        for issue in group:
            weights[issue.name] = 100 * share
        k += len(group)
    return weights


def either(options: Sequence[str]) -> Message:
    """Options joined by "or" in the reader's language ("a or b or c")."""
    if len(options) <= 1:
        return verbatim("".join(options))
    return t_("{options} or {option}", options=either(options[:-1]), option=options[-1])


def unacceptable_words(issue: str, option: str) -> Message:
    """ "Issue: not 'option'" in the reader's language."""
    return t_("{issue}: not {option}", issue=issue, option=repr(option))


def condition_words(
    issue: str, options: Sequence[str], then_issue: str, then_options: Sequence[str]
) -> Message:
    """ "if A is x, then B must be y or z" in the reader's language."""
    return t_(
        "if {issue} is {options}, then {then_issue} must be {then_options}",
        issue=issue,
        options=either(options),
        then_issue=then_issue,
        then_options=either(then_options),
    )


def red_line_words(agenda: Agenda, item: Unacceptable | IfThen) -> Message:
    """The red line in words, as its own side wrote it, in the reader's language."""
    if isinstance(item, Unacceptable):
        return unacceptable_words(agenda.issue(item.issue).name, item.option)
    first, then = agenda.issue(item.if_issue), agenda.issue(item.then_issue)
    return condition_words(first.name, item.if_options, then.name, item.then_options)


FIRMNESS_WORDS = {
    "flexible": t_("flexible"),
    "firm": t_("firm"),
    "absolute": t_("absolute"),
}
"""The name of each firmness of a red line, in the reader's language."""


def firm_words(agenda: Agenda, item: Unacceptable | IfThen) -> Message:
    """The red line in words with its firmness: "Issue: not 'x' (firm)"."""
    return t_(
        "{red_line} ({firmness})",
        red_line=red_line_words(agenda, item),
        firmness=FIRMNESS_WORDS[item.firmness.value],
    )


def red_line_text(agenda: Agenda, item: Unacceptable | IfThen) -> str:
    """The red line in words, in English (as a case file and an evaluation keep it)."""
    return str(red_line_words(agenda, item))


def red_line_id(side: int, item: Unacceptable | IfThen, agenda: Agenda) -> str:
    """A stable id: the side's number and the agenda ids of what the red line names."""
    if isinstance(item, Unacceptable):
        option = agenda.issue(item.issue).options.index(item.option)
        return f"s{side}-no-{item.issue}-{option}"
    first, then = agenda.issue(item.if_issue), agenda.issue(item.then_issue)
    a = "".join(str(first.options.index(o)) for o in item.if_options)
    b = "".join(str(then.options.index(o)) for o in item.then_options)
    return f"s{side}-if-{item.if_issue}-{a}-then-{item.then_issue}-{b}"


def _party(
    agenda: Agenda, side: int, name: str, absent: bool, position: Position, stated: bool
) -> Party:
    visibility = Visibility.STATED if stated else Visibility.PRIVATE
    red_lines = [
        RedLine(
            id=red_line_id(side, item, agenda),
            forbid=Condition(issue=agenda.issue(item.issue).name, options=[item.option]),
            firmness=item.firmness.weight,
            visibility=visibility,
            description=red_line_text(agenda, item),
        )
        for item in position.unacceptable
    ]
    red_lines += [
        RedLine.model_validate(
            {
                "id": red_line_id(side, rule, agenda),
                "if": [{"issue": agenda.issue(rule.if_issue).name, "options": rule.if_options}],
                "then": [
                    {"issue": agenda.issue(rule.then_issue).name, "options": rule.then_options}
                ],
                "firmness": rule.firmness.weight,
                "visibility": visibility,
                "description": red_line_text(agenda, rule),
            }
        )
        for rule in position.rules
    ]
    unique = {r.id: r for r in red_lines}  # the same red line entered twice counts once
    if absent:
        return Party(name=name, role=PartyRole.ABSENT, red_lines=list(unique.values()))
    ratings = {
        issue.name: {o: position.ratings.get(issue.id, {}).get(o, 0) for o in issue.options}
        for issue in agenda.issues
    }
    reservation = None
    if position.walk_away is not None:
        reservation = Reservation(value=position.walk_away / 100)
    return Party(
        name=name,
        weights=importance_weights(agenda, position.importance),
        ratings=ratings,
        red_lines=list(unique.values()),
        reservation=reservation,
    )


class Side(_Strict):
    """One party of the dialogue as the engine sees it."""

    name: Name
    absent: bool = False
    position: Position


def build_case(title: str, agenda: Agenda, sides: list[Side]) -> Case:
    """The engine's case: the agenda and every side (absent stakeholders' lines stated)."""
    if not agenda.issues:
        raise InputError(
            t_("the agenda has no issues yet"), hint=t_("add issues before evaluating")
        )
    if sum(not s.absent for s in sides) < 2:
        raise InputError(
            t_("an evaluation needs at least two delegations at the table"),
            hint=t_("add delegations on the dialogue page"),
        )
    parties = [
        _party(agenda, n, s.name, s.absent, s.position, stated=s.absent)
        for n, s in enumerate(sides)
    ]
    return Case(title=title, issues=_issues(agenda), parties=parties)


def _issues(agenda: Agenda) -> list[Issue]:
    return [
        Issue(name=i.name, kind=i.kind, options=list(i.options), description=i.description or None)
        for i in agenda.issues
    ]


def agenda_document(title: str, agenda: Agenda, absent: Sequence[Side]) -> dict[str, Any]:
    """The public case of a blind dialogue: title, issues and the absent stakeholders'
    stated red lines, as a case-file document (no delegation at the table, ever).

    Each delegation's node adds its own side to it; with no absent stakeholder its
    ``parties`` list is empty (so it is not a whole case on its own).
    """
    dump = {"mode": "json", "by_alias": True, "exclude_none": True}
    parties = [
        _party(agenda, n, s.name, True, s.position, stated=True) for n, s in enumerate(absent)
    ]
    return {
        "title": title,
        "issues": [i.model_dump(**dump) for i in _issues(agenda)],  # type: ignore[arg-type]
        "parties": [p.model_dump(**dump) for p in parties],  # type: ignore[arg-type]
    }


def prune(agenda: Agenda, position: Position) -> Position:
    """The position without references to issues or options no longer on the agenda."""
    options = {i.id: set(i.options) for i in agenda.issues}

    def ok(issue: str, names: list[str]) -> bool:
        return issue in options and all(n in options[issue] for n in names)

    return Position(
        importance={k: v for k, v in position.importance.items() if k in options},
        ratings={
            k: {o: r for o, r in v.items() if o in options[k]}
            for k, v in position.ratings.items()
            if k in options
        },
        unacceptable=[u for u in position.unacceptable if ok(u.issue, [u.option])],
        rules=[
            r
            for r in position.rules
            if ok(r.if_issue, r.if_options) and ok(r.then_issue, r.then_options)
        ],
        walk_away=position.walk_away,
        note=position.note,
    )


def tightened(old: Position, new: Position) -> list[str]:
    """How ``new`` is stricter than ``old`` (empty when it only loosens or keeps them).

    A red line may be dropped or weakened, never added or strengthened: no new
    unacceptable option; every condition of ``new`` is implied by one of ``old`` with
    the same issues, no more triggering options and no fewer allowed ones; the
    walk-away level does not rise.
    """
    problems = []
    before = {(u.issue, u.option) for u in old.unacceptable}
    for u in new.unacceptable:
        if (u.issue, u.option) not in before:
            problems.append(f"option {u.option!r} was acceptable in the previous round")
    for rule in new.rules:
        covered = any(
            r.if_issue == rule.if_issue
            and r.then_issue == rule.then_issue
            and set(rule.if_options) <= set(r.if_options)
            and set(rule.then_options) >= set(r.then_options)
            for r in old.rules
        )
        if not covered:
            problems.append("a condition is new or stricter than in the previous round")
    if (new.walk_away or 0) > (old.walk_away or 0):
        problems.append(f"the walk-away level rose from {old.walk_away or 0} to {new.walk_away}")
    return problems
