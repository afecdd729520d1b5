"""The single negotiating text: the facilitator drafts and revises, each side responds.

* Only the facilitator creates a text (by hand, or from a package an evaluation
  recommends) and revises it; every revision is a new version, and every version is
  kept (:mod:`backchannel.model.text` says how clauses keep their ids and revisions).
* A delegation member responds, clause by clause, to the current version for the own
  side only; a response counts for the clause revision it answered.
* What the sides see of each other's responses is what the facilitator releases
  (:mod:`backchannel.services.text_views`).

Titles, clauses, responses (answers, proposed wordings, comments) and releases are
sealed with the dialogue's keys; every write is in the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence

from backchannel.errors import InputError, NotAllowedNow
from backchannel.messages import t_
from backchannel.model.dialogue import Agenda
from backchannel.model.text import (
    MAX_CLAUSE_CHARS,
    MAX_COMMENT_CHARS,
    Answer,
    Draft,
    Response,
    Version,
    from_package,
    next_version,
)
from backchannel.services import access
from backchannel.services.access import Actor, Seat
from backchannel.services.dialogues import read_agenda
from backchannel.services.evaluations import read_findings
from backchannel.services.platform import DialogueKeys, Platform
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.tables import (
    DialogueRow,
    EvaluationRow,
    TextResponseRow,
    TextRow,
    TextVersionRow,
    new_id,
)


def read_version(keys: DialogueKeys, row: TextVersionRow) -> Version:
    """A stored version (unsealed)."""
    return Version.model_validate(keys.open("text_versions", "body", row.id, row.body_ct))


def read_response(keys: DialogueKeys, row: TextResponseRow) -> Response:
    """A stored response (unsealed)."""
    return Response.model_validate(keys.open("text_responses", "body", row.id, row.body_ct))


def title_of(keys: DialogueKeys, row: TextRow) -> str:
    """A text's title (unsealed)."""
    value: str = keys.open("texts", "title", row.id, row.title_ct)
    return value


def current_version(s: Session, keys: DialogueKeys, text: TextRow) -> Version:
    """The text's current version."""
    row = repo.text_version(s, text.id, text.version)
    assert row is not None
    return read_version(keys, row)


def _check_drafts(agenda: Agenda, drafts: Sequence[Draft]) -> None:
    """InputError unless there is a clause and every link names the agenda."""
    if not drafts:
        raise InputError(
            t_("a text needs at least one clause"), hint=t_("write the wording of a clause")
        )
    issues = {i.id: i for i in agenda.issues}
    for number, draft in enumerate(drafts, start=1):
        if draft.issue_id is None:
            continue
        issue = issues.get(draft.issue_id)
        if issue is None:
            raise InputError(
                t_(
                    "clause {number} is linked to an issue that is not on the agenda", number=number
                ),
                hint=t_("choose an issue of the agenda, or none"),
            )
        if draft.option is not None and draft.option not in issue.options:
            raise InputError(
                t_("clause {number} is linked to an option its issue does not have", number=number),
                hint=t_("choose one of: {choices}", choices=", ".join(issue.options)),
            )


def _check_title(title: str) -> str:
    cleaned = title.strip()
    if not cleaned or len(cleaned) > 200:
        raise InputError(
            t_("a text's title has 1 to 200 characters"), hint=t_("give the text a short title")
        )
    return cleaned


def _save_version(
    s: Session, keys: DialogueKeys, text: TextRow, previous: Version | None, drafts: Sequence[Draft]
) -> Version:
    try:
        version = next_version(previous, drafts, [new_id() for _ in drafts])
    except ValueError:
        raise InputError(
            t_("two clauses of the text replace the same clause"),
            hint=t_("keep each clause once"),
        ) from None
    row = TextVersionRow(dialogue_id=text.dialogue_id, text_id=text.id, number=version.number)
    row.body_ct = b""
    repo.add(s, row)
    row.body_ct = keys.seal("text_versions", "body", row.id, version.model_dump(mode="json"))
    text.version = version.number
    return version


def _create(
    platform: Platform, s: Session, actor: Actor, place: Seat, title: str, drafts: Sequence[Draft]
) -> str:
    keys = platform.keys(s, place.dialogue_id)
    text = TextRow(dialogue_id=place.dialogue_id, title_ct=b"", version=1)
    repo.add(s, text)
    text.title_ct = keys.seal("texts", "title", text.id, title)
    _save_version(s, keys, text, None, drafts)
    platform.log(
        s,
        "text.created",
        dialogue_id=place.dialogue_id,
        actor_id=actor.user_id,
        target=text.id,
        audience="all",
    )
    return text.id


def _agenda(platform: Platform, s: Session, dialogue_id: str) -> Agenda:
    dialogue = repo.get(s, DialogueRow, dialogue_id)
    assert dialogue is not None
    return read_agenda(platform.keys(s, dialogue_id), dialogue)


def create_text(
    platform: Platform, actor: Actor, dialogue_id: str, title: str, drafts: Sequence[Draft]
) -> str:
    """Create a text (facilitator): its title and first version. Returns its id."""
    with platform.unit() as s:
        place = access.facilitator(s, actor, dialogue_id)
        cleaned = _check_title(title)
        _check_drafts(_agenda(platform, s, dialogue_id), drafts)
        return _create(platform, s, actor, place, cleaned, drafts)


def generate_text(
    platform: Platform, actor: Actor, dialogue_id: str, evaluation_id: str, rule: str, title: str
) -> str:
    """Create a text from the package that ``rule`` recommends in an evaluation (facilitator).

    One clause per issue of the package, worded from the issue and option names and
    linked to them, to be edited. Returns the text's id.
    """
    with platform.unit() as s:
        place = access.facilitator(s, actor, dialogue_id)
        cleaned = _check_title(title)
        evaluation = access.owned(s, place, EvaluationRow, evaluation_id)
        findings = read_findings(platform.keys(s, dialogue_id), evaluation)
        package = findings.packages.get(rule) or findings.partial_packages.get(rule)
        if not package:
            offered = sorted({*findings.packages, *findings.partial_packages})
            raise InputError(
                t_("this evaluation recommends no package by the rule {rule}", rule=repr(rule)),
                hint=t_("choose one of: {choices}", choices=", ".join(offered) or "-"),
            )
        drafts = from_package(findings.issues, package)
        _check_drafts(_agenda(platform, s, dialogue_id), drafts)
        return _create(platform, s, actor, place, cleaned, drafts)


def _text(s: Session, place: Seat, text_id: str) -> TextRow:
    return access.owned(s, place, TextRow, text_id)


def revise_text(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    text_id: str,
    based_on: int,
    drafts: Sequence[Draft],
) -> int:
    """A new version of the text (facilitator), made from version ``based_on``.

    A revision based on an older version than the current one is refused
    (NotAllowedNow), so that two editors never overwrite each other unseen. Returns
    the new version's number.
    """
    with platform.unit() as s:
        place = access.facilitator(s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        text = _text(s, place, text_id)
        if based_on != text.version:
            raise NotAllowedNow(
                t_("the text has moved on to version {number} since", number=text.version),
                hint=t_("open the current version and make the change there"),
            )
        _check_drafts(_agenda(platform, s, dialogue_id), drafts)
        keys = platform.keys(s, dialogue_id)
        version = _save_version(s, keys, text, current_version(s, keys, text), drafts)
        platform.log(
            s,
            "text.revised",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=text.id,
            audience="all",
            detail={"version": version.number},
        )
        return version.number


def respond(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    text_id: str,
    version: int,
    answers: Sequence[tuple[str, str, str, str]],
) -> int:
    """Record the own side's responses to clauses of the current version (a member).

    Parameters
    ----------
    version:
        The version the member read; responses to an older one are refused.
    answers:
        ``(clause id, answer, proposed wording, comment)`` per clause answered.

    Returns
    -------
    int
        How many responses were recorded.
    """
    with platform.unit() as s:
        place = access.seat(s, actor, dialogue_id)
        side = access.own_delegation(place)
        repo.lock_dialogue(s, dialogue_id)
        text = _text(s, place, text_id)
        if version != text.version:
            raise NotAllowedNow(
                t_("the text has moved on to version {number} since", number=text.version),
                hint=t_("read the current version and respond to it"),
            )
        keys = platform.keys(s, dialogue_id)
        current = current_version(s, keys, text)
        responses = [_response(current, *answer) for answer in answers]
        if not responses:
            raise InputError(t_("no response was given"), hint=t_("answer at least one clause"))
        sequence = repo.last_response_sequence(s, text.id, side)
        for response in responses:
            sequence += 1
            row = TextResponseRow(
                dialogue_id=dialogue_id,
                text_id=text.id,
                delegation_id=side,
                clause_id=response.clause_id,
                revision=response.revision,
                sequence=sequence,
                body_ct=b"",
            )
            repo.add(s, row)
            row.body_ct = keys.seal(
                "text_responses", "body", row.id, response.model_dump(mode="json")
            )
        platform.log(
            s,
            "text.responded",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=text.id,
            audience=side,
            detail={"version": version, "clauses": len(responses)},
        )
        return len(responses)


def _response(
    current: Version, clause_id: str, answer: str, wording: str, comment: str
) -> Response:
    """A response to a clause of ``current``, or InputError saying what is wrong with it."""
    clause = current.clause(clause_id)
    if clause is None:
        raise InputError(
            t_("the response names a clause that is not in this version"),
            hint=t_("answer the clauses of the current version"),
        )
    number = current.clauses.index(clause) + 1
    try:
        kind = Answer(answer)
    except ValueError:
        raise InputError(
            t_("clause {number}: unknown answer {answer}", number=number, answer=repr(answer)),
            hint=t_("choose one of: {choices}", choices=", ".join(a.value for a in Answer)),
        ) from None
    if kind is Answer.BRACKET and not wording.strip():
        raise InputError(
            t_("clause {number}: a bracket needs the wording your side proposes", number=number),
            hint=t_("write the wording your side would accept"),
        )
    if kind is not Answer.BRACKET and wording.strip():
        raise InputError(
            t_("clause {number}: only a bracket proposes wording", number=number),
            hint=t_("choose bracket, or leave the proposed wording empty"),
        )
    if len(wording) > MAX_CLAUSE_CHARS or len(comment) > MAX_COMMENT_CHARS:
        raise InputError(
            t_("clause {number}: the wording or the comment is too long", number=number),
            hint=t_(
                "wordings have up to {wording} characters, comments up to {comment}",
                wording=MAX_CLAUSE_CHARS,
                comment=MAX_COMMENT_CHARS,
            ),
        )
    return Response(
        clause_id=clause.id,
        revision=clause.revision,
        answer=kind,
        wording=wording.strip() if kind is Answer.BRACKET else "",
        comment=comment,
    )
