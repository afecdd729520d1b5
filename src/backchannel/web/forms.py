"""Reading the page forms: plain fields in, checked values out, errors that name their field.

Every refusal is a :class:`FieldError` naming the form field it concerns, so that the
page shows the form again as it was typed (:class:`Typed`) with the message beside that
field. Position field names: ``importance:<issue>``, ``rating:<issue>:<k>``,
``no:<issue>:<k>`` (a checkbox: option ``k`` is unacceptable), ``firm:<issue>:<k>``,
``rule:<n>:if_issue``, ``rule:<n>:if:<issue>`` (checkboxes: the options of that issue),
``rule:<n>:then_issue``, ``rule:<n>:then:<issue>``, ``rule:<n>:firmness``,
``rule:<n>:drop``, ``walk_away`` and ``note``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from backchannel.errors import FieldError, InputError, listing
from backchannel.messages import Text, t_
from backchannel.model.dialogue import (
    NOTE_LIMIT,
    Agenda,
    AgendaIssue,
    Firmness,
    IfThen,
    Position,
    Unacceptable,
)
from backchannel.model.results import SettlementRule
from backchannel.services import accounts, dialogues
from backchannel.services.evaluation_robustness import (
    DEFAULT_NOISE,
    DEFAULT_RULE,
    DEFAULT_SAMPLES,
    NOISE_POINTS,
    SAMPLE_COUNTS,
)

MAX_RULES = 20
TITLE_LIMIT = 200
"""The most characters of a dialogue's title (the service's rule)."""
HIDDEN = frozenset({"csrf", "once"})
"""Fields of every form that are not typed by the user."""

T = TypeVar("T")

_SIDE_WORD = {"if": t_("if"), "then": t_("then")}
"""The words of a condition's two sides, as the form shows them."""


def _in_field(field: str, check: Callable[[], T]) -> T:
    """``check()``, its InputError turned into a :class:`FieldError` of ``field``."""
    try:
        return check()
    except InputError as error:
        raise FieldError(field, error.message, hint=error.hint) from None


@dataclass(frozen=True)
class Typed:
    """A form's fields as typed (or as saved), to fill the form with again."""

    fields: Mapping[str, list[str]]
    rules: int = 0
    """The condition rows in use."""

    def value(self, name: str, default: object = "") -> str:
        """The text of a field (``default`` when it is empty or absent)."""
        found = self.fields.get(name)
        return found[0] if found and found[0] != "" else str(default)

    def chosen(self, name: str) -> list[str]:
        """Every value given for a field (the boxes ticked)."""
        return list(self.fields.get(name, []))

    def checked(self, name: str, value: str = "yes") -> bool:
        """Whether a checkbox was ticked."""
        return value in self.fields.get(name, [])


def typed_from_form(form: Any) -> Typed:
    """The form as it was sent (the hidden fields left out)."""
    fields = {k: [str(v) for v in form.getlist(k)] for k in form if k not in HIDDEN}
    used = [
        n
        for n in range(MAX_RULES)
        if any(k.startswith(f"rule:{n}:") and k != f"rule:{n}:firmness" for k in fields)
    ]
    return Typed(fields, max(used) + 1 if used else 0)


def typed_from_position(agenda: Agenda, position: Position) -> Typed:
    """A saved position as the form's fields."""
    fields: dict[str, list[str]] = {}
    for issue in agenda.issues:
        if issue.id in position.importance:
            fields[f"importance:{issue.id}"] = [str(position.importance[issue.id])]
        for k, option in enumerate(issue.options):
            rating = position.ratings.get(issue.id, {}).get(option)
            if rating is not None:
                fields[f"rating:{issue.id}:{k}"] = [str(rating)]
    places = {(i.id, o): k for i in agenda.issues for k, o in enumerate(i.options)}
    for line in position.unacceptable:
        place = places.get((line.issue, line.option))
        if place is not None:
            fields[f"no:{line.issue}:{place}"] = ["yes"]
            fields[f"firm:{line.issue}:{place}"] = [line.firmness.value]
    for n, rule in enumerate(position.rules):
        fields[f"rule:{n}:if_issue"] = [rule.if_issue]
        fields[f"rule:{n}:if:{rule.if_issue}"] = list(rule.if_options)
        fields[f"rule:{n}:then_issue"] = [rule.then_issue]
        fields[f"rule:{n}:then:{rule.then_issue}"] = list(rule.then_options)
        fields[f"rule:{n}:firmness"] = [rule.firmness.value]
    if position.walk_away is not None:
        fields["walk_away"] = [str(position.walk_away)]
    fields["note"] = [position.note]
    return Typed(fields, len(position.rules))


def _int(value: Any, field: str, what: Text, low: int, high: int) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        raise FieldError(
            field,
            t_("{what}: {text!r} is not a whole number", what=what, text=text),
            hint=t_("write {low} to {high}", low=low, high=high),
        ) from None
    if not low <= number <= high:
        raise FieldError(
            field,
            t_(
                "{what}: {number} is outside {low} to {high}",
                what=what,
                number=number,
                low=low,
                high=high,
            ),
        )
    return number


def _firmness(value: Any, field: str) -> Firmness:
    try:
        return Firmness(str(value or "firm"))
    except ValueError:
        raise FieldError(
            field,
            t_("unknown firmness {value!r}", value=value),
            hint=t_("flexible, firm or absolute"),
        ) from None


def position_from_form(agenda: Agenda, form: Any, *, absent: bool = False) -> Position:
    """The position the form describes (every value checked, with a clear message)."""
    try:
        return _position(agenda, form, absent)
    except ValidationError:
        raise InputError(
            t_("the form could not be read"), hint=t_("reload the page and fill it in again")
        ) from None


def _position(agenda: Agenda, form: Any, absent: bool) -> Position:
    importance: dict[str, int] = {}
    ratings: dict[str, dict[str, int]] = {}
    unacceptable: list[Unacceptable] = []
    for issue in agenda.issues:
        if not absent:
            field = f"importance:{issue.id}"
            rank = _int(
                form.get(field), field, t_("importance of {issue}", issue=issue.name), 1, 99
            )
            if rank is not None:
                importance[issue.id] = rank
        for k, option in enumerate(issue.options):
            if not absent:
                field = f"rating:{issue.id}:{k}"
                what = t_("{issue} / {option}", issue=issue.name, option=option)
                value = _int(form.get(field), field, what, 0, 100)
                if value is not None:
                    ratings.setdefault(issue.id, {})[option] = value
            if form.get(f"no:{issue.id}:{k}"):
                firm = f"firm:{issue.id}:{k}"
                unacceptable.append(
                    Unacceptable(
                        issue=issue.id, option=option, firmness=_firmness(form.get(firm), firm)
                    )
                )
    rules = [rule for n in range(MAX_RULES) if (rule := _rule(agenda, form, n)) is not None]
    walk_away = (
        None if absent else _int(form.get("walk_away"), "walk_away", t_("walk-away level"), 0, 100)
    )
    note = str(form.get("note") or "")
    if len(note) > NOTE_LIMIT:
        raise FieldError(
            "note",
            t_(
                "the note has {n} characters; it may have at most {limit}",
                n=len(note),
                limit=NOTE_LIMIT,
            ),
            hint=t_("shorten it by {n} characters; nothing was cut", n=len(note) - NOTE_LIMIT),
        )
    return Position(
        importance=importance,
        ratings=ratings,
        unacceptable=unacceptable,
        rules=rules,
        walk_away=walk_away,
        note=note,
    )


def _rule(agenda: Agenda, form: Any, n: int) -> IfThen | None:
    """Condition row ``n``: None when it is empty or marked to be removed."""
    if form.get(f"rule:{n}:drop"):
        return None
    first = _side(agenda, form, n, "if")
    then = _side(agenda, form, n, "then")
    if first is None and then is None:
        return None
    if first is None or then is None:
        missing = "if" if first is None else "then"
        raise FieldError(
            f"rule:{n}:{missing}_issue",
            t_("this condition has no issue after “{side}”", side=_SIDE_WORD[missing]),
            hint=t_("choose an issue and tick its options, or tick “remove”"),
        )
    return IfThen(
        if_issue=first[0].id,
        if_options=first[1],
        then_issue=then[0].id,
        then_options=then[1],
        firmness=_firmness(form.get(f"rule:{n}:firmness"), f"rule:{n}:firmness"),
    )


def _side(agenda: Agenda, form: Any, n: int, side: str) -> tuple[AgendaIssue, list[str]] | None:
    """One side of condition row ``n``: its issue and the options ticked of it."""
    chosen = str(form.get(f"rule:{n}:{side}_issue") or "")
    ticked = {
        i.id: [str(v) for v in form.getlist(f"rule:{n}:{side}:{i.id}")] for i in agenda.issues
    }
    field = f"rule:{n}:{side}_options"
    if not chosen:
        stray = [o for options in ticked.values() for o in options]
        if stray:
            raise FieldError(
                f"rule:{n}:{side}_issue",
                t_(
                    "options are ticked after “{side}” but no issue is chosen",
                    side=_SIDE_WORD[side],
                ),
                hint=t_("choose the issue these options belong to"),
            )
        return None
    issue = next((i for i in agenda.issues if i.id == chosen), None)
    if issue is None:
        raise FieldError(f"rule:{n}:{side}_issue", t_("this issue is no longer on the agenda"))
    for other in agenda.issues:
        if other.id != issue.id and ticked[other.id]:
            raise FieldError(
                field,
                t_(
                    "{options} belong to {other!r}, but this part of the condition is about"
                    " {issue!r}",
                    options=listing(map(repr, ticked[other.id])),
                    other=other.name,
                    issue=issue.name,
                ),
                hint=t_(
                    "tick options of {issue!r}: {options}",
                    issue=issue.name,
                    options=listing(issue.options),
                ),
            )
    options = ticked[issue.id]
    unknown = [o for o in options if o not in issue.options]
    if unknown:
        raise FieldError(
            field,
            t_(
                "{options} is not an option of {issue!r}",
                options=listing(map(repr, unknown)),
                issue=issue.name,
            ),
            hint=t_("the options are: {options}", options=listing(issue.options)),
        )
    if not options:
        raise FieldError(
            field,
            t_(
                "tick at least one option of {issue!r} after “{side}”",
                issue=issue.name,
                side=_SIDE_WORD[side],
            ),
            hint=t_("or tick “remove” to drop the condition"),
        )
    return issue, options


@dataclass(frozen=True)
class NewDialogue:
    """What the form convening a dialogue asks for."""

    title: str
    evaluations_per_round: int
    evaluations_per_dialogue: int
    monotone_red_lines: bool
    mfa_required: bool
    blind: bool = False


def dialogue_from_form(form: Any) -> NewDialogue:
    """The new dialogue the form describes, each field checked."""
    title = str(form.get("title") or "").strip()
    if not 1 <= len(title) <= TITLE_LIMIT:
        raise FieldError(
            "title",
            t_(
                "a dialogue needs a title of 1 to {limit} characters (this one has {n})",
                limit=TITLE_LIMIT,
                n=len(title),
            )
            if title
            else t_("a dialogue needs a title of 1 to {limit} characters", limit=TITLE_LIMIT),
            hint=t_("write a short title, e.g. “Strategic stability, spring round”"),
        )
    most = dialogues.MOST_EVALUATIONS_PER_DIALOGUE
    per_round = _int(
        form.get("evaluations_per_round"),
        "evaluations_per_round",
        t_("evaluations per round"),
        1,
        10,
    )
    in_all = _int(
        form.get("evaluations_per_dialogue"),
        "evaluations_per_dialogue",
        t_("evaluations in all"),
        1,
        most,
    )
    return NewDialogue(
        title=title,
        evaluations_per_round=1 if per_round is None else per_round,
        evaluations_per_dialogue=dialogues.EVALUATIONS_PER_DIALOGUE if in_all is None else in_all,
        monotone_red_lines=bool(form.get("monotone")),
        mfa_required=bool(form.get("mfa_required")),
        blind=bool(form.get("blind")),
    )


@dataclass(frozen=True)
class Joining:
    """What the invitation form asks of a new member."""

    username: str
    display_name: str
    password: str
    pseudonym: str


def invitation_from_form(form: Any) -> Joining:
    """The new account the invitation form describes, each field checked."""
    username = str(form.get("username") or "")
    _in_field("username", lambda: accounts.valid_username(username))
    display_name = str(form.get("display_name") or "")
    password = str(form.get("password") or "")
    _in_field("password", lambda: accounts.check_password_rules(password))
    return Joining(username, display_name, password, str(form.get("pseudonym") or ""))


@dataclass(frozen=True)
class RobustnessAsked:
    """What the form "How robust is this recommendation?" asks for."""

    rule: SettlementRule
    noise: int
    samples: int


def robustness_from_form(form: Any) -> RobustnessAsked:
    """The robustness check the form describes, each field checked (empty: the default)."""
    text = str(form.get("rule") or DEFAULT_RULE.value)
    try:
        rule = SettlementRule(text)
    except ValueError:
        raise FieldError(
            "rule",
            t_("unknown rule {value!r}", value=text),
            hint=t_("nash, ks, egalitarian or welfare"),
        ) from None
    noise = _int(form.get("noise"), "noise", t_("noise"), *NOISE_POINTS)
    samples = _int(form.get("samples"), "samples", t_("samples"), *SAMPLE_COUNTS)
    return RobustnessAsked(
        rule,
        DEFAULT_NOISE if noise is None else noise,
        DEFAULT_SAMPLES if samples is None else samples,
    )
