"""Readouts: what the facilitator issues to one audience, built from what it may see.

* **Content.** A readout for a delegation is built from that delegation's own view (as
  a member of it sees the dialogue), one for the observers from the observers' view, and
  one for ``all`` from what *every* one of those views holds (a finding released to every
  delegation and the observers alike, a meeting every one of them may see, a clause's
  answers as every one of them sees them). Only released findings, agreed records, the
  clauses of the current text and their states, and the meetings held go in; never a
  name, a note, a comment, or the time or count of anything private
  (:mod:`backchannel.model.readout`).
* **Review, then issue.** :func:`draft` gives the facilitator the readout as it will be
  issued and its :func:`~backchannel.model.readout.basis`; :func:`issue` rebuilds it,
  refuses when it no longer matches what was reviewed, signs the file with the server's
  Ed25519 key (:mod:`backchannel.storage.signatures`), stores it sealed under the
  dialogue's key and logs it to the audience. Issuing the same reviewed content again
  (same audience, language, format and paper) gives back the readout already issued.
* **Reading.** A delegation's members read the readouts issued to it and to ``all``;
  the observers those issued to the observers and to ``all``; the facilitator all. Any
  other readout answers like a missing one.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from backchannel.config import Settings
from backchannel.errors import InputError, NotAllowedNow, NotFound
from backchannel.i18n import choose, translations
from backchannel.messages import Render, t_
from backchannel.model.disclosure import Disclosed
from backchannel.model.readout import (
    ALL,
    OBSERVERS,
    ClauseLine,
    Format,
    IssueLine,
    MeetingHeld,
    Page,
    ReadoutContent,
    ReleasedFinding,
    TextState,
    basis,
)
from backchannel.model.text import Answer, agreement, clause_state
from backchannel.reports import readout
from backchannel.services import access, meetings, records, text_views
from backchannel.services.access import MEMBER, OBSERVER, Actor, Seat
from backchannel.services.dialogues import name_of, read_agenda, title_of
from backchannel.services.platform import DialogueKeys, Platform
from backchannel.services.texts import title_of as texts_title
from backchannel.storage import checkpoints, repo, signatures
from backchannel.storage import meetings as stored_meetings
from backchannel.storage import readouts as stored
from backchannel.storage.db import Session
from backchannel.storage.tables import DialogueRow, ReadoutRow, as_utc, utcnow

MEDIA_TYPES = {Format.HTML: "text/html; charset=utf-8", Format.PDF: "application/pdf"}
MAX_FILE_BYTES = 20_000_000
"""The largest file ``backchannel readout verify`` reads."""


@dataclass(frozen=True)
class Draft:
    """A readout as it would be issued now: its content, the digest of what is reviewed,
    and its article in the chosen language (HTML, every text escaped)."""

    content: ReadoutContent
    basis: str
    article: str


@dataclass(frozen=True)
class ReadoutLine:
    """An issued readout, as its list shows it."""

    id: str
    audience: str
    audience_name: str
    language: str
    format: str
    page: str
    fingerprint: str
    issued_at: datetime


@dataclass(frozen=True)
class ReadoutFile:
    """An issued readout's signed file."""

    name: str
    media_type: str
    data: bytes
    fingerprint: str


def _say(language: str) -> Render:
    table = translations(language)
    return lambda message: message.render(table)


def _choices(s: Session, keys: DialogueKeys, dialogue_id: str) -> dict[str, str]:
    """Every audience a readout can go to, with its name in English (a delegation: its own)."""
    sides = {
        d.id: name_of(keys, d) for d in repo.delegations(s, dialogue_id) if d.role == "delegation"
    }
    return {**sides, OBSERVERS: "the observers", ALL: "every delegation and the observers"}


def _seats(place: Seat, audience: str, sides: Sequence[str]) -> list[Seat]:
    """The seats whose views make the audience's content (a stand-in member or observer)."""
    observer = Seat(place.actor, place.dialogue_id, "", OBSERVER, None)
    if audience == OBSERVERS:
        return [observer]
    if audience == ALL:
        return [Seat(place.actor, place.dialogue_id, "", MEMBER, d) for d in sides] + [observer]
    return [Seat(place.actor, place.dialogue_id, "", MEMBER, audience)]


def _audience_of(seat: Seat) -> str:
    return OBSERVERS if seat.role == OBSERVER else str(seat.delegation_id)


def _findings(s: Session, keys: DialogueKeys, seat: Seat) -> list[ReleasedFinding]:
    numbers = {r.id: r.number for r in repo.rounds(s, seat.dialogue_id)}
    out = []
    for row in repo.releases(s, seat.dialogue_id, [_audience_of(seat)]):
        told = Disclosed.model_validate(keys.open("releases", "body", row.id, row.body_ct))
        out.append(ReleasedFinding.of(numbers[row.round_id], told))
    return out


def _meetings(
    s: Session, keys: DialogueKeys, seat: Seat, at: datetime, names: dict[str, str]
) -> dict[str, MeetingHeld]:
    """The meetings held before ``at`` that the seat sees (issues by name), by id."""
    out = {}
    for row in stored_meetings.meetings(s, seat.dialogue_id):
        if row.cancelled or as_utc(row.starts_at) >= at or not meetings.visible(seat, row):
            continue
        details = keys.open("meetings", "details", row.id, row.details_ct)
        found = records.view_of(s, keys, seat, row)
        agreed = found.text if found is not None and found.agreed else None
        starts = as_utc(row.starts_at).astimezone(ZoneInfo(row.zone))
        out[row.id] = MeetingHeld(
            starts.strftime("%Y-%m-%d %H:%M"),
            row.zone,
            row.format,
            "" if details["online"] else details["place"],
            bool(details["online"]),
            tuple(names[i] for i in details["issues"] if i in names),
            agreed,
        )
    return out


Answers = dict[tuple[str, int], dict[str, Answer]]
"""(text id, clause number) -> side -> the answer to the clause's current revision."""


def _answers(s: Session, keys: DialogueKeys, seat: Seat) -> Answers:
    out: Answers = {}
    for text in repo.texts(s, seat.dialogue_id):
        version = text_views.version_of(s, keys, text, None)
        view = text_views.view_of(s, keys, seat, text, version)
        for clause in view.clauses:
            out[(text.id, clause.number)] = {k: v.answer for k, v in clause.answers.items()}
    return out


def _common(answers: list[Answers]) -> Answers:
    """The answers every view holds alike."""
    first, rest = answers[0], answers[1:]
    return {
        key: {
            side: answer
            for side, answer in by_side.items()
            if all(other.get(key, {}).get(side) == answer for other in rest)
        }
        for key, by_side in first.items()
    }


def _texts(
    s: Session, keys: DialogueKeys, dialogue_id: str, seen: Answers, names: dict[str, str]
) -> tuple[TextState, ...]:
    sides = [d.id for d in repo.delegations(s, dialogue_id) if d.role == "delegation"]
    out = []
    for text in repo.texts(s, dialogue_id):
        version = text_views.version_of(s, keys, text, None)
        lines, every = [], []
        for number, clause in enumerate(version.clauses, start=1):
            answers = seen.get((text.id, number), {})
            every.append(dict(answers))
            issue = None if clause.issue_id is None else names.get(clause.issue_id)
            state = clause_state(dict(answers), sides).value
            lines.append(ClauseLine(number, clause.body, issue, state))
        whole = agreement([dict(a) for a in every], sides).agreed
        out.append(TextState(texts_title(keys, text), version.number, whole, tuple(lines)))
    return tuple(out)


def _build(
    s: Session, keys: DialogueKeys, place: Seat, audience: str, language: str, at: datetime
) -> ReadoutContent:
    """The content of a readout for ``audience`` at ``at`` (the facilitator's seat)."""
    choices = _choices(s, keys, place.dialogue_id)
    if audience not in choices:
        raise InputError(
            t_("unknown audience {audience}", audience=repr(audience)),
            hint=t_(
                "choose a delegation at the table (its id), {observers} or {all}",
                observers=OBSERVERS,
                all=ALL,
            ),
        )
    sides = [k for k in choices if k not in (OBSERVERS, ALL)]
    seats = _seats(place, audience, sides)
    dialogue = repo.get(s, DialogueRow, place.dialogue_id)
    assert dialogue is not None
    agenda = read_agenda(keys, dialogue)
    names = {issue.id: issue.name for issue in agenda.issues}
    found = [_findings(s, keys, seat) for seat in seats]
    findings = [f for f in dict.fromkeys(found[0]) if all(f in other for other in found[1:])]
    held = [_meetings(s, keys, seat, at, names) for seat in seats]
    meetings_held = [m for key, m in held[0].items() if all(key in other for other in held[1:])]
    seen = _common([_answers(s, keys, seat) for seat in seats])
    named = audience in (OBSERVERS, ALL)
    return ReadoutContent(
        dialogue=title_of(keys, dialogue),
        audience=audience if named else "delegation",
        audience_name="" if named else choices[audience],
        language=language,
        issued_at=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        agenda=tuple(IssueLine(i.name, tuple(i.options)) for i in agenda.issues),
        findings=tuple(sorted(findings, key=lambda f: f.round_number)),
        meetings=tuple(meetings_held),
        texts=_texts(s, keys, place.dialogue_id, seen, names),
    )


def _moment(now: datetime | None) -> datetime:
    """The issue time: ``now`` (or the clock) in UTC, to the second."""
    return (now or utcnow()).astimezone(UTC).replace(microsecond=0)


def content(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    audience: str,
    language: str,
    *,
    now: datetime | None = None,
) -> ReadoutContent:
    """The content of a readout for ``audience`` in ``language`` at ``now`` (facilitator).

    Raises
    ------
    NotFound
        The actor does not facilitate the dialogue.
    InputError
        An unknown audience or language.
    """
    with platform.view() as s:
        place = access.facilitator(s, actor, dialogue_id)
        chosen = choose(language)
        return _build(s, platform.keys(s, dialogue_id), place, audience, chosen, _moment(now))


def render(found: ReadoutContent, form: Format, page: Page) -> bytes:
    """The readout's file before its signature line: the HTML page, or its PDF."""
    html = readout.document(found, _say(found.language), page)
    if form is Format.HTML:
        return html
    from backchannel.reports import pdf  # WeasyPrint loads on the first PDF, not at start-up

    return pdf.to_pdf(html)


def draft(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    audience: str,
    language: str,
    *,
    now: datetime | None = None,
) -> Draft:
    """The readout as it would be issued now, for the facilitator's review."""
    found = content(platform, actor, dialogue_id, audience, language, now=now)
    return Draft(found, basis(found), readout.body(found, _say(found.language)))


def _choose_form(form: str, page: str) -> tuple[Format, Page]:
    try:
        chosen = Format(form)
    except ValueError:
        raise InputError(
            t_("unknown format {form}", form=repr(form)), hint=t_("choose html or pdf")
        ) from None
    try:
        paper = Page(page)
    except ValueError:
        raise InputError(
            t_("unknown paper size {page}", page=repr(page)), hint=t_("choose a4 or letter")
        ) from None
    return chosen, paper


def _line(row: ReadoutRow, names: dict[str, str]) -> ReadoutLine:
    return ReadoutLine(
        row.id,
        row.audience,
        names.get(row.audience, ""),
        row.language,
        row.format,
        row.page,
        row.fingerprint,
        as_utc(row.issued_at),
    )


def issue(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    audience: str,
    language: str,
    form: str,
    page: str,
    reviewed: str,
    *,
    now: datetime | None = None,
) -> ReadoutLine:
    """Sign and store the readout the facilitator reviewed (its :func:`draft`'s basis).

    Raises
    ------
    NotAllowedNow
        What the audience may see changed since the review (review it again).
    InputError
        An unknown audience, language, format or paper size.
    """
    precise = (now or utcnow()).astimezone(UTC)  # orders the list: two in a second too
    at = _moment(precise)
    with platform.unit() as s:
        place = access.facilitator(s, actor, dialogue_id)
        chosen, paper = _choose_form(form, page)
        language = choose(language)
        repo.lock_dialogue(s, dialogue_id)
        keys = platform.keys(s, dialogue_id)
        found = _build(s, keys, place, audience, language, at)
        digest = basis(found)
        if digest != reviewed:
            raise NotAllowedNow(
                t_("the readout changed since you reviewed it"),
                hint=t_("review it again, then issue it"),
            )
        names = _choices(s, keys, dialogue_id)
        for row in stored.of_dialogue(s, dialogue_id, [audience]):
            same = (row.language, row.format, row.page) == (language, chosen.value, paper.value)
            if same and _open(keys, row)["basis"] == digest:
                return _line(row, names)  # issued already: the same readout, not a second
        body = render(found, chosen, paper)
        signed = signatures.sign(platform.signer, chosen.value, body)
        row = ReadoutRow(
            dialogue_id=dialogue_id,
            audience=audience,
            language=language,
            format=chosen.value,
            page=paper.value,
            fingerprint=signatures.fingerprint(body),
            issued_by=actor.user_id,
            issued_at=precise,
            body_ct=b"",
        )
        repo.add(s, row)
        sealed = {"file": base64.b64encode(signed).decode("ascii"), "basis": digest}
        row.body_ct = keys.seal("readouts", "body", row.id, sealed)
        platform.log(  # to the audience (``all``: every seat's log)
            s,
            "readout.issued",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=row.id,
            audience=audience,
            detail={"format": chosen.value, "language": language},
        )
        return _line(row, names)


def _open(keys: DialogueKeys, row: ReadoutRow) -> dict[str, str]:
    found: dict[str, str] = keys.open("readouts", "body", row.id, row.body_ct)
    return found


def _readable(place: Seat) -> list[str] | None:
    """The audiences whose readouts the seat reads (None: all, for the facilitator)."""
    if place.is_facilitator:
        return None
    if place.role == MEMBER:
        return [access.own_delegation(place), ALL]
    return [OBSERVERS, ALL]


def readouts(platform: Platform, actor: Actor, dialogue_id: str) -> list[ReadoutLine]:
    """The readouts issued to the seat's audience (the facilitator: every one), newest first."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        keys = platform.keys(s, dialogue_id)
        names = _choices(s, keys, dialogue_id)
        return [_line(r, names) for r in stored.of_dialogue(s, dialogue_id, _readable(place))]


def fetch(platform: Platform, actor: Actor, dialogue_id: str, readout_id: str) -> ReadoutFile:
    """An issued readout's signed file; NotFound unless it was issued to the seat's audience."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        row = access.owned(s, place, ReadoutRow, readout_id)
        allowed = _readable(place)
        if allowed is not None and row.audience not in allowed:
            raise NotFound()
        data = base64.b64decode(_open(platform.keys(s, dialogue_id), row)["file"])
    form = Format(row.format)
    day = as_utc(row.issued_at).strftime("%Y-%m-%d")
    name = f"readout-{day}-{row.id[:8]}.{form.value}"
    return ReadoutFile(name, MEDIA_TYPES[form], data, row.fingerprint)


def public_key(platform: Platform) -> str:
    """The server's public key that signs readouts (``ed25519:<base64>``), to pin."""
    return checkpoints.public_text(platform.signer.public)


def verify_file(path: Path, key: str) -> signatures.Checked:
    """Check a readout file against the trusted public key ``key`` (``ed25519:<base64>``).

    Raises
    ------
    InputError
        The file cannot be read, is too large, or the key is not an Ed25519 public key.
    """
    trusted = signatures.parse_public(key)
    if trusted is None:
        raise InputError(
            t_("{key} is not a public key", key=repr(key[:60])),
            hint=t_("give it as printed by `backchannel readout public-key` (ed25519:…)"),
        )
    if not path.is_file():
        raise InputError(t_("readout file {path} not found or not a regular file", path=str(path)))
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(
            t_(
                "readout file {path} is larger than {limit} bytes",
                path=str(path),
                limit=MAX_FILE_BYTES,
            )
        )
    return signatures.verify(path.read_bytes(), trusted)


def server_public_key(settings: Settings) -> str:
    """The public key of the server's signing key file (``ed25519:<base64>``), offline."""
    return checkpoints.public_text(checkpoints.read_signing_key(settings.signing_key_path).public)


def key_text(given: str) -> str:
    """A trusted key given as ``ed25519:<base64>``, or as the path of a file holding it."""
    if given.startswith(checkpoints.PUBLIC_PREFIX):
        return given
    path = Path(given)
    if not path.is_file():
        raise InputError(
            t_("{key} is neither a public key (ed25519:…) nor a file", key=repr(given[:60]))
        )
    if path.stat().st_size > 1_000:
        raise InputError(t_("{path} is too large to be a public key", path=str(path)))
    return path.read_text(encoding="utf-8", errors="replace").strip()
