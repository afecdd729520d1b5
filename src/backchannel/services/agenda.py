"""The agenda in bulk: issues typed as text, imported from a case file, edited and reordered.

Every change here is one transaction that reads the agenda, changes it and writes it with
its ``agenda.changed`` audit entry (the entry of every agenda change), under the
dialogue's lock. Adding issues follows the rule of :func:`dialogues.set_agenda` (only while
the current round is a draft); editing and reordering issues only before the first round
opens, so that no saved position ever refers to an issue whose meaning changed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

from pydantic import ValidationError

from backchannel.errors import BackchannelError, InputError, NotAllowedNow
from backchannel.formats.cases import load_agenda
from backchannel.messages import Message, t_, verbatim
from backchannel.model.agenda_text import MAX_NAME, TypedIssue, parse_agenda_text, parse_parties
from backchannel.model.case import Issue, IssueKind, Option
from backchannel.model.dialogue import MAX_OPTIONS, Agenda, AgendaIssue
from backchannel.services import access, dialogues
from backchannel.services.access import Actor
from backchannel.services.dialogues import read_agenda
from backchannel.services.platform import Platform
from backchannel.storage import repo
from backchannel.storage.tables import DialogueRow, new_id

MAX_CASE_BYTES = 1_000_000
"""The largest case file the agenda is imported from (a case of a few hundred issues)."""
CASE_SUFFIXES = (".yaml", ".yml", ".json", ".xml")


def _change(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    change: Callable[[Agenda], Agenda],
    *,
    before_first_round: bool = False,
) -> Agenda:
    """Apply ``change`` to the agenda in one transaction (facilitator), logged."""
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        found = repo.rounds(s, dialogue_id)
        if before_first_round and found:
            raise NotAllowedNow(
                t_("issues can be edited and reordered only before the first round opens"),
                hint=t_("remove the issue and add it again while the round is a draft"),
            )
        if found and found[-1].state != "draft":
            raise NotAllowedNow(
                t_("the agenda can only change while the current round is a draft"),
                hint=t_("open a new round first"),
            )
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        assert dialogue is not None
        keys = platform.keys(s, dialogue_id)
        agenda = change(read_agenda(keys, dialogue))
        dialogue.agenda_ct = keys.seal(
            "dialogues", "agenda", dialogue_id, agenda.model_dump(mode="json")
        )
        platform.log(
            s,
            "agenda.changed",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            audience="all",
            detail={"issues": len(agenda.issues)},
        )
        return agenda


def _issue(name: str, kind: IssueKind, options: list[str], description: str = "") -> AgendaIssue:
    """An agenda issue, or InputError in plain words."""
    try:
        return AgendaIssue(
            id=new_id(), name=name, kind=kind, options=options, description=description
        )
    except ValidationError as error:
        raise InputError(
            _plain(error, name), hint=t_("each issue needs a name and 2 or more distinct options")
        ) from None


def _plain(error: ValidationError, name: str) -> Message:
    """The first problem of an issue's validation, in words."""
    first = error.errors()[0]
    field = str(first["loc"][0]) if first.get("loc") else ""
    named = repr(name)
    if field == "name":
        return t_("an issue needs a name of 1 to {most} characters", most=MAX_NAME)
    if field == "options" and first["type"] == "too_short":
        return t_("issue {name} needs at least two options", name=named)
    if field == "options" and first["type"] == "too_long":
        return t_("issue {name} has more than {most} options", name=named, most=MAX_OPTIONS)
    if field == "options":
        return t_(
            "an option of {name} is empty or longer than {most} characters",
            name=named,
            most=MAX_NAME,
        )
    if field == "description":
        return t_("the description of {name} is longer than 2,000 characters", name=named)
    return verbatim(str(first["msg"]).removeprefix("Value error, "))


def add_typed_issues(platform: Platform, actor: Actor, dialogue_id: str, text: str) -> int:
    """Add the issues of an agenda text (one per line, ``Issue: option; option``).

    Returns
    -------
    int
        How many issues were added.

    Raises
    ------
    InputError
        Every problem of the text, each named by its line; nothing is added.
    """

    added: list[AgendaIssue] = []

    def add(agenda: Agenda) -> Agenda:
        typed = parse_agenda_text(text, frozenset(i.name for i in agenda.issues))
        added.extend(_from_typed(t) for t in typed)
        return Agenda(issues=[*agenda.issues, *added])

    _change(platform, actor, dialogue_id, add)
    return len(added)


def convene(
    platform: Platform,
    actor: Actor,
    title: str,
    agenda_text: str = "",
    parties_text: str = "",
    **settings: Any,
) -> str:
    """A new dialogue with its agenda typed as text (:func:`add_typed_issues`'s syntax) and
    its parties one per line (``(absent)`` after an absent stakeholder's name), in one
    transaction; returns its id. ``settings`` go to :func:`dialogues.create_dialogue`.

    Raises
    ------
    InputError
        A problem of the agenda text (by its line), of a party's name, or of the settings;
        nothing is created.
    """
    typed = parse_agenda_text(agenda_text) if agenda_text.strip() else []
    agenda = Agenda(issues=[_from_typed(t) for t in typed])
    return dialogues.create_dialogue(
        platform, actor, title, agenda=agenda, parties=parse_parties(parties_text), **settings
    )


def _from_typed(typed: TypedIssue) -> AgendaIssue:
    return _issue(typed.name, typed.kind, list(typed.options))


def _numeric_options(issue: Issue) -> list[str]:
    """A numeric range's values as ordered options (at most :data:`MAX_OPTIONS`)."""
    span = issue.range
    assert span is not None
    count = round((span.max - span.min) / span.step) + 1
    if count > MAX_OPTIONS:
        raise InputError(
            t_(
                "issue {name} is a numeric range of {count} values; an agenda issue has at "
                "most {most} options",
                name=repr(issue.name),
                count=count,
                most=MAX_OPTIONS,
            ),
            hint=t_("give the issue fewer values (a larger step) in the file"),
        )
    unit = f" {span.unit}" if span.unit else ""
    values = [span.min + k * span.step for k in range(count)]
    return [f"{v:g}{unit}" for v in values]


def _case_issue(issue: Issue) -> AgendaIssue:
    """An agenda issue from a case's issue (a numeric range becomes ordered options)."""
    if issue.kind is IssueKind.NUMERIC:
        return _issue(issue.name, IssueKind.ORDERED, _numeric_options(issue))
    names = [o.name if isinstance(o, Option) else o for o in issue.options or []]
    return _issue(issue.name, issue.kind, names, (issue.description or "")[:2000])


def read_agenda_upload(filename: str, data: bytes) -> list[Issue]:
    """The issues of an uploaded file (a case file of the CLI, a Genius domain file or a
    GeniusWeb profile).

    Raises
    ------
    InputError
        Too large, a kind of file that is not read, or problems in it (located by line,
        named by the uploaded file's name).
    """
    name = PurePath(filename.replace("\\", "/")).name or "upload"
    if not name.lower().endswith(CASE_SUFFIXES):
        raise InputError(
            t_("{name} is not a case file", name=repr(name)),
            hint=t_("upload a .yaml, .yml or .json case file or a Genius .xml domain"),
        )
    if len(data) > MAX_CASE_BYTES:
        raise InputError(
            t_("{name} is larger than {limit} bytes", name=repr(name), limit=f"{MAX_CASE_BYTES:,}"),
            hint=t_("upload a smaller case file"),
        )
    if not data.strip():
        raise InputError(
            t_("{name} is empty", name=repr(name)), hint=t_("choose the case file again")
        )
    with tempfile.TemporaryDirectory(prefix="backchannel-import-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return load_agenda(path)
        except BackchannelError as error:  # named by the upload, never by the folder
            raise InputError(
                error.text.replaced(f"{folder}/", "").replaced(folder, ""),
                hint=t_(
                    "upload a case file (.yaml, .json), a GeniusWeb profile or the domain "
                    "file of a Genius domain (not a profile)"
                ),
            ) from None


def import_agenda(
    platform: Platform, actor: Actor, dialogue_id: str, filename: str, data: bytes
) -> int:
    """Add the issues of a case file's agenda (its issues, options and which are ordered;
    nothing else of the file is kept). Returns how many issues were added.

    Raises
    ------
    InputError
        The file cannot be read as a case (:func:`read_agenda_upload`), an issue of it
        does not fit an agenda, or an issue of that name is already on the agenda.
    """
    with platform.view() as s:
        access.facilitator(s, actor, dialogue_id)  # nobody else's upload is even read
    issues = [_case_issue(i) for i in read_agenda_upload(filename, data)]
    if not issues:
        raise InputError(t_("the file has no issues"), hint=t_("check that it is a case file"))

    def add(agenda: Agenda) -> Agenda:
        taken = {i.name.lower() for i in agenda.issues}
        clash = [i.name for i in issues if i.name.lower() in taken]
        if clash:
            raise InputError(
                t_("the agenda already has an issue named {name}", name=repr(clash[0])),
                hint=t_("remove it from the agenda, or import into a dialogue without it"),
            )
        return Agenda(issues=[*agenda.issues, *issues])

    _change(platform, actor, dialogue_id, add)
    return len(issues)


def edit_issue(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    issue_id: str,
    name: str,
    kind: str,
    options: list[str],
    description: str = "",
) -> None:
    """Rename an issue, change its kind, options or description (before the first round)."""

    def edit(agenda: Agenda) -> Agenda:
        old = agenda.issue(issue_id)
        new = _issue(
            name.strip(),
            _listed_kind(kind),
            [o.strip() for o in options if o.strip()],
            description.strip(),
        ).model_copy(update={"id": old.id})
        if any(i.name.lower() == new.name.lower() for i in agenda.issues if i.id != issue_id):
            raise InputError(
                t_("the agenda already has an issue named {name}", name=repr(new.name))
            )
        return Agenda(issues=[new if i.id == issue_id else i for i in agenda.issues])

    _change(platform, actor, dialogue_id, edit, before_first_round=True)


def _listed_kind(kind: str) -> IssueKind:
    """An agenda issue's kind from its name: unordered or ordered."""
    if kind not in (IssueKind.UNORDERED.value, IssueKind.ORDERED.value):
        raise InputError(
            t_("unknown kind {kind}", kind=repr(kind)), hint=t_("unordered or ordered")
        )
    return IssueKind(kind)


def move_issue(
    platform: Platform, actor: Actor, dialogue_id: str, issue_id: str, step: int
) -> None:
    """Move an issue up (``step`` -1) or down (+1) the agenda (before the first round)."""

    def move(agenda: Agenda) -> Agenda:
        agenda.issue(issue_id)
        if step not in (-1, 1):
            raise InputError(t_("an issue moves one place up or down"))
        issues = list(agenda.issues)
        at = next(k for k, i in enumerate(issues) if i.id == issue_id)
        to = at + step
        if not 0 <= to < len(issues):
            return agenda
        issues[at], issues[to] = issues[to], issues[at]
        return Agenda(issues=issues)

    _change(platform, actor, dialogue_id, move, before_first_round=True)
