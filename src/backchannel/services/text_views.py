"""What each seat sees of a negotiating text, and the releases of responses.

* The facilitator sees every side's responses, with their private comments.
* A member sees the own side's responses (and comments), and another side's only as
  the facilitator released them to the own side (never a comment).
* An observer sees the responses released to the observers.

The state of each clause and whether the whole text is agreed are computed from
exactly what the seat sees (:func:`backchannel.model.text.agreement`), so a page
never tells a side more than it was given. A release is "side X's responses to
version N, to audience Y": a sealed snapshot of X's answers and proposed wordings to
the clauses of version N, made once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from backchannel.errors import InputError, NotAllowedNow, NotFound
from backchannel.messages import t_
from backchannel.model.text import (
    Agreement,
    Answer,
    Clause,
    ClauseDiff,
    ClauseState,
    Version,
    agreement,
    clause_state,
    version_diff,
)
from backchannel.services import access
from backchannel.services.access import MEMBER, OBSERVER, Actor, Seat
from backchannel.services.dialogues import name_of
from backchannel.services.platform import DialogueKeys, Platform
from backchannel.services.releases import OBSERVERS
from backchannel.services.texts import read_response, read_version, title_of
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.tables import DelegationRow, TextReleaseRow, TextRow


@dataclass(frozen=True)
class SideAnswer:
    """A side's answer to a clause revision, as the seat sees it.

    ``comment`` is None where the seat may not read it; ``released`` says that the
    answer reached the seat by a release."""

    answer: Answer
    wording: str
    comment: str | None
    released: bool


@dataclass(frozen=True)
class ClauseView:
    """A clause of a version, its state and the answers the seat sees (by side id)."""

    number: int
    clause: Clause
    state: ClauseState
    answers: dict[str, SideAnswer]


@dataclass(frozen=True)
class ReleaseLine:
    """A release of a side's responses (``side`` its name); the audience (a delegation id
    or ``observers``) is given to the facilitator only."""

    id: str
    side: str
    version: int
    released_at: datetime
    audience: str | None


@dataclass(frozen=True)
class TextView:
    """A version of a text as one seat sees it."""

    id: str
    title: str
    version: int
    latest: int
    sides: dict[str, str]  # side id -> name, in the dialogue's order
    clauses: list[ClauseView]
    agreement: Agreement
    own_side: str | None
    releases: list[ReleaseLine] = field(default_factory=list)


@dataclass(frozen=True)
class TextSummary:
    """A text in the dialogue's list."""

    id: str
    title: str
    version: int
    agreed: bool


def _sides(s: Session, keys: DialogueKeys, dialogue_id: str) -> dict[str, str]:
    return {
        d.id: name_of(keys, d) for d in repo.delegations(s, dialogue_id) if d.role == "delegation"
    }


def _audiences(place: Seat) -> list[str] | None:
    """The release audiences the seat reads (None: all, for the facilitator)."""
    if place.is_facilitator:
        return None
    if place.role == MEMBER:
        return [access.own_delegation(place)]
    return [OBSERVERS]


Seen = dict[tuple[str, str, int], SideAnswer]
"""(side id, clause id, revision) -> the answer the seat sees."""


def _seen(
    s: Session,
    keys: DialogueKeys,
    place: Seat,
    text: TextRow,
    sides: Sequence[str],
    released: Sequence[TextReleaseRow],
) -> Seen:
    """Every answer the seat may see (``released``: the releases it reads), the latest of
    each clause revision per side."""
    seen: Seen = {}
    for row in released:
        body = keys.open("text_releases", "body", row.id, row.body_ct)
        for item in body["answers"]:
            key = (row.delegation_id, item["clause_id"], item["revision"])
            seen[key] = SideAnswer(Answer(item["answer"]), item["wording"], None, True)
    own = [] if place.role == OBSERVER else sides
    if place.role == MEMBER:
        own = [access.own_delegation(place)]
    for response_row in repo.text_responses(s, text.id, own):
        response = read_response(keys, response_row)
        key = (response_row.delegation_id, response.clause_id, response.revision)
        seen[key] = SideAnswer(response.answer, response.wording, response.comment, False)
    return seen


def view_of(
    s: Session, keys: DialogueKeys, place: Seat, text: TextRow, version: Version
) -> TextView:
    sides = _sides(s, keys, place.dialogue_id)
    released = repo.text_releases(s, text.id, _audiences(place))
    seen = _seen(s, keys, place, text, list(sides), released)
    clauses = []
    for number, clause in enumerate(version.clauses, start=1):
        answers = {
            side: seen[(side, clause.id, clause.revision)]
            for side in sides
            if (side, clause.id, clause.revision) in seen
        }
        state = clause_state({k: v.answer for k, v in answers.items()}, list(sides))
        clauses.append(ClauseView(number, clause, state, answers))
    whole = agreement([{k: v.answer for k, v in c.answers.items()} for c in clauses], list(sides))
    releases = [
        ReleaseLine(
            r.id,
            sides.get(r.delegation_id, ""),
            r.version,
            r.released_at,
            r.audience if place.is_facilitator else None,
        )
        for r in released
    ]
    own = place.delegation_id if place.role == MEMBER else None
    return TextView(
        text.id,
        title_of(keys, text),
        version.number,
        text.version,
        sides,
        clauses,
        whole,
        own,
        releases,
    )


def version_of(s: Session, keys: DialogueKeys, text: TextRow, number: int | None) -> Version:
    row = repo.text_version(s, text.id, text.version if number is None else number)
    if row is None:
        raise NotFound()
    return read_version(keys, row)


def text_view(
    platform: Platform, actor: Actor, dialogue_id: str, text_id: str, number: int | None = None
) -> TextView:
    """A version of the text (the current one by default) as the seat sees it."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        text = access.owned(s, place, TextRow, text_id)
        keys = platform.keys(s, dialogue_id)
        return view_of(s, keys, place, text, version_of(s, keys, text, number))


def texts(platform: Platform, actor: Actor, dialogue_id: str) -> list[TextSummary]:
    """The dialogue's texts, with whether each is agreed as the seat sees it."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        keys = platform.keys(s, dialogue_id)
        out = []
        for text in repo.texts(s, dialogue_id):
            seen = view_of(s, keys, place, text, version_of(s, keys, text, None))
            out.append(TextSummary(text.id, seen.title, text.version, seen.agreement.agreed))
        return out


def compare(
    platform: Platform, actor: Actor, dialogue_id: str, text_id: str, old: int, new: int
) -> list[ClauseDiff]:
    """Version ``old`` and version ``new`` of the text compared clause by clause, word by word."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        text = access.owned(s, place, TextRow, text_id)
        keys = platform.keys(s, dialogue_id)
        return version_diff(version_of(s, keys, text, old), version_of(s, keys, text, new))


def release(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    text_id: str,
    side_id: str,
    version: int,
    audience: str,
) -> str:
    """Release side ``side_id``'s responses to ``version`` to ``audience`` (facilitator).

    The audience is another delegation at the table or ``observers``. The same release
    is refused a second time (NotAllowedNow), and so is one with nothing to release.
    Returns the release's id.
    """
    with platform.unit() as s:
        place = access.facilitator(s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        text = access.owned(s, place, TextRow, text_id)
        side = access.owned(s, place, DelegationRow, side_id)
        if audience != OBSERVERS:
            target = access.owned(s, place, DelegationRow, audience)
            if target.role != "delegation" or target.id == side.id:
                raise InputError(
                    t_("responses are released to another delegation or to the observers"),
                    hint=t_("choose the other side, or the observers"),
                )
        if side.role != "delegation":
            raise InputError(t_("only a delegation at the table responds to the text"))
        keys = platform.keys(s, dialogue_id)
        chosen = version_of(s, keys, text, version)
        if repo.text_released(s, text.id, side.id, version, audience):
            raise NotAllowedNow(
                t_("these responses were already released to this audience"),
                hint=t_("each release is made once"),
            )
        latest = {}
        for row in repo.text_responses(s, text.id, [side.id]):
            response = read_response(keys, row)
            latest[(response.clause_id, response.revision)] = response
        answers = [
            {
                "clause_id": c.id,
                "revision": c.revision,
                "answer": latest[(c.id, c.revision)].answer.value,
                "wording": latest[(c.id, c.revision)].wording,
            }
            for c in chosen.clauses
            if (c.id, c.revision) in latest
        ]
        if not answers:
            raise NotAllowedNow(
                t_("this side has not responded to version {number}", number=version),
                hint=t_("release its responses once it has responded"),
            )
        row_out = TextReleaseRow(
            dialogue_id=dialogue_id,
            text_id=text.id,
            delegation_id=side.id,
            version=version,
            audience=audience,
            body_ct=b"",
        )
        repo.add(s, row_out)
        body = {"version": version, "answers": answers}
        row_out.body_ct = keys.seal("text_releases", "body", row_out.id, body)
        platform.log(
            s,
            "text.released",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=row_out.id,
            audience=audience,
            detail={"version": version},
        )
        return row_out.id
