"""The demo dialogue of ``make run``: the US–Russia track 1.5 example on the platform.

Built from ``examples/us_russia_ukraine.yaml``: its agenda, the US and Russian
delegations (two members each) with the example's illustrative positions recorded in
round 1, Ukraine as an absent stakeholder with its stated red lines, a facilitator and
an observer. Every account gets a one-time password, printed once; running the demo
again resets those passwords.

In English the example's identifiers are shown as words (``freeze on line of contact``);
``language="ru"`` seeds the same case with the Russian names of :mod:`demo_ru` (title,
issues, options, parties, people, pseudonyms) and sets every demo account's language to
Russian.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from backchannel import i18n
from backchannel.errors import InputError
from backchannel.formats.cases import load_case
from backchannel.messages import t_
from backchannel.model.case import Case, Condition, IssueKind, PartyRole, RedLine
from backchannel.model.dialogue import Agenda, AgendaIssue, Firmness, IfThen, Position, Unacceptable
from backchannel.services import accounts, demo_ru, dialogues, positions, rounds
from backchannel.services.access import MEMBER, OBSERVER, Actor, Track
from backchannel.services.platform import Platform
from backchannel.storage import repo

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "us_russia_ukraine.yaml"
ACCOUNTS = (
    ("facilitator", "Dr. Ilse Marek (facilitator)", None, None),
    ("us-1", "Ann Whitfield", "US", Track.FORMER.value),
    ("us-2", "Raymond Cole", "US", Track.EXPERT.value),
    ("ru-1", "Pavel Orlov", "Russia", Track.SERVING.value),
    ("ru-2", "Elena Sokolova", "Russia", Track.FORMER.value),
    ("observer", "Track-1 liaison", OBSERVER, None),
)


@dataclass(frozen=True)
class Demo:
    """The demo dialogue and the one-time passwords of its accounts."""

    dialogue_id: str
    passwords: dict[str, str]
    created: bool


def _label(name: str) -> str:
    return name.replace("_", " ")


@dataclass(frozen=True)
class Wording:
    """How the demo names the example's things in one language."""

    title: str | None
    """The dialogue's title (``None``: the case's own)."""
    issues: Mapping[str, tuple[str, str]]
    """Issue identifier -> (name, description); a missing one is shown as words."""
    options: Mapping[str, str]
    """Option identifier -> name; a missing one is shown as words."""
    parties: Mapping[str, str]
    people: Mapping[str, str]
    """User name -> display name."""
    note: str
    alias: str
    trees: tuple[str, ...]

    def issue(self, name: str, description: str | None) -> tuple[str, str]:
        """An issue's name and description."""
        return self.issues.get(name) or (_label(name).capitalize(), description or "")

    def option(self, name: str) -> str:
        """An option's name."""
        return self.options.get(name) or _label(name)

    def party(self, name: str) -> str:
        """A party's name."""
        return self.parties.get(name, name)


ENGLISH = Wording(
    title=None,
    issues={},
    options={},
    parties={},
    people={username: display for username, display, *_ in ACCOUNTS},
    note="Illustrative position from the bundled example (ratings are not sourced).",
    alias="Delegate",
    trees=("Ash", "Birch", "Cedar", "Elm", "Oak", "Yew"),
)
RUSSIAN = Wording(
    title=demo_ru.TITLE,
    issues=demo_ru.ISSUES,
    options=demo_ru.OPTIONS,
    parties=demo_ru.PARTIES,
    people=demo_ru.PEOPLE,
    note=demo_ru.NOTE,
    alias=demo_ru.ALIAS,
    trees=demo_ru.TREES,
)
WORDINGS: Mapping[str, Wording] = {"en": ENGLISH, "ru": RUSSIAN}
"""The languages the demo can be seeded in."""


def _options(case: Case, issue: str) -> list[str]:
    found = next(i for i in case.issues if i.name == issue)
    return [o if isinstance(o, str) else o.name for o in found.options or []]


def _firmness(value: float) -> Firmness:
    return Firmness.FLEXIBLE if value <= 1 else Firmness.FIRM if value <= 3 else Firmness.ABSOLUTE


def _excluded(case: Case, condition: Condition, keep: bool) -> list[str]:
    """The options a condition rules out (``keep``: options outside it are ruled out)."""
    options = _options(case, condition.issue)
    inside = [str(o) for o in condition.options or []]
    return [o for o in options if (o not in inside) == keep]


def _red_lines(
    case: Case, ids: dict[str, str], red_lines: list[RedLine], words: Wording
) -> tuple[list[Unacceptable], list[IfThen]]:
    unacceptable: list[Unacceptable] = []
    rules: list[IfThen] = []
    for line in red_lines:
        firm = _firmness(float(line.firmness))
        out: list[tuple[str, str]] = []
        if line.forbid is not None:
            out = [(line.forbid.issue, o) for o in _excluded(case, line.forbid, keep=False)]
        elif line.require is not None:
            out = [(line.require.issue, o) for o in _excluded(case, line.require, keep=True)]
        elif line.at_least is not None or line.at_most is not None:
            bound = line.at_least or line.at_most
            assert bound is not None
            options = _options(case, bound.issue)
            k = options.index(str(bound.value))
            chosen = options[:k] if line.at_least is not None else options[k + 1 :]
            out = [(bound.issue, o) for o in chosen]
        elif line.if_ and line.then and len(line.if_) == 1 and len(line.then) == 1:
            first, then = line.if_[0], line.then[0]
            rules.append(
                IfThen(
                    if_issue=ids[first.issue],
                    if_options=[words.option(str(o)) for o in first.options or []],
                    then_issue=ids[then.issue],
                    then_options=[words.option(str(o)) for o in then.options or []],
                    firmness=firm,
                )
            )
        unacceptable += [
            Unacceptable(issue=ids[i], option=words.option(o), firmness=firm) for i, o in out
        ]
    return unacceptable, rules


def _agenda(case: Case, words: Wording) -> tuple[Agenda, dict[str, str]]:
    ids = {issue.name: f"i{k + 1}" for k, issue in enumerate(case.issues)}
    issues = []
    for issue in case.issues:
        name, description = words.issue(issue.name, issue.description)
        issues.append(
            AgendaIssue(
                id=ids[issue.name],
                name=name,
                kind=IssueKind.ORDERED if issue.kind is IssueKind.ORDERED else IssueKind.UNORDERED,
                options=[words.option(o) for o in _options(case, issue.name)],
                description=description[:2000],
            )
        )
    return Agenda(issues=issues), ids


def _position(case: Case, ids: dict[str, str], name: str, words: Wording) -> Position:
    party = next(p for p in case.parties if p.name == name)
    unacceptable, rules = _red_lines(case, ids, party.red_lines, words)
    if party.role is PartyRole.ABSENT:
        return Position(unacceptable=unacceptable, rules=rules)
    weights = party.weights or {}
    order = sorted(set(weights.values()), reverse=True)
    ratings = {
        ids[issue]: {words.option(o): round(float(v)) for o, v in table.items()}
        for issue, table in (party.ratings or {}).items()
        if isinstance(table, dict)
    }
    reservation = party.reservation
    level = (
        reservation
        if isinstance(reservation, (int, float)) or reservation is None
        else reservation.value
    )
    return Position(
        importance={ids[i]: order.index(w) + 1 for i, w in weights.items()},
        ratings=ratings,
        unacceptable=unacceptable,
        rules=rules,
        walk_away=None if level is None else round(float(level) * 100),
        note=words.note,
    )


def _alias(words: Wording) -> str:
    tree = secrets.choice(words.trees)
    return f"{words.alias} {tree}-{secrets.randbelow(90) + 10}"


def wording(language: str) -> Wording:
    """How the demo names things in ``language``; an InputError lists the languages the
    demo is written in."""
    words = WORDINGS.get(language)
    if words is None:
        raise InputError(
            t_("the demo is not written in {language}", language=repr(language)),
            hint=t_("choose one of: {languages}", languages=", ".join(WORDINGS)),
        )
    return words


def seed(platform: Platform, example: Path = EXAMPLE, language: str = i18n.SOURCE) -> Demo:
    """Create the demo dialogue, or reset its accounts' one-time passwords when it exists.

    ``language``: the language of the dialogue's names and of the accounts' pages
    (an InputError lists those the demo speaks); a demo already there keeps its own.
    """
    words = wording(language)
    with platform.unit() as s:
        existing = repo.user_by_name(s, "facilitator")
    if existing is not None:
        passwords = {}
        for username, *_ in ACCOUNTS:
            try:
                passwords[username] = accounts.reset_password(platform, username)
            except InputError:
                continue
        found = dialogues.my_dialogues(
            platform, Actor(existing.id, existing.username, existing.display_name)
        )
        return Demo(found[0][0] if found else "", passwords, created=False)
    case = load_case(example)
    agenda, ids = _agenda(case, words)
    passwords = {}
    users = {}
    for username, *_ in ACCOUNTS:
        user, secret = accounts.create_user(platform, username, words.people[username])
        passwords[username], users[username] = (
            secret,
            Actor(user.id, user.username, user.display_name),
        )
        if language != i18n.SOURCE:
            accounts.set_language(platform, users[username], language)
    facilitator = users["facilitator"]
    dialogue_id = dialogues.create_dialogue(platform, facilitator, words.title or case.title)
    dialogues.set_agenda(platform, facilitator, dialogue_id, agenda)
    sides = {
        p.name: dialogues.add_delegation(
            platform,
            facilitator,
            dialogue_id,
            words.party(p.name),
            absent=p.role is PartyRole.ABSENT,
        )
        for p in case.parties
    }
    for username, _, side, track in ACCOUNTS[1:]:
        role = OBSERVER if side == OBSERVER else MEMBER
        dialogues.add_member(
            platform,
            facilitator,
            dialogue_id,
            username,
            role,
            delegation_id=sides[side] if role == MEMBER else None,
            track=track,
            pseudonym=_alias(words) if role == MEMBER else None,
        )
    rounds.open_round(platform, facilitator, dialogue_id)
    members = {"US": users["us-1"], "Russia": users["ru-1"]}
    for party in case.parties:
        position = _position(case, ids, party.name, words)
        if party.role is PartyRole.ABSENT:
            positions.save_position(platform, facilitator, dialogue_id, position, sides[party.name])
        else:
            positions.save_position(platform, members[party.name], dialogue_id, position)
    return Demo(dialogue_id, passwords, created=True)
