"""Dialogues, their agenda, delegations, members and invitations.

Every function takes the acting user and goes through :mod:`backchannel.services.access`;
every change writes its audit entry in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from backchannel.errors import InputError, NotAllowedNow, NotFound
from backchannel.messages import Message, t_, verbatim
from backchannel.model.dialogue import Agenda, AgendaIssue
from backchannel.services import access, accounts
from backchannel.services.access import FACILITATOR, MEMBER, OBSERVER, Actor, Seat, Track
from backchannel.services.platform import DialogueKeys, Platform
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.passwords import hash_password
from backchannel.storage.tables import (
    DelegationRow,
    DialogueRow,
    InvitationRow,
    MemberRow,
    RoundRow,
    as_utc,
    new_id,
    utcnow,
)

INVITATION_DAYS = 7
EVALUATIONS_PER_DIALOGUE = 20
"""The default cap on a dialogue's evaluations in all its rounds (1 to 100, fixed when the
dialogue is convened). Twenty leaves a quarterly dialogue five years of one evaluation a
round, while a facilitator probing a red line (about seven answers for one value on a
0-100 scale) could pin down at most two or three values before it is spent."""
MOST_EVALUATIONS_PER_DIALOGUE = 100
ROLES = (FACILITATOR, MEMBER, OBSERVER)
FACILITATOR_ALIAS = "Facilitator"
"""What the other seats call the facilitator (kept as the facilitator's pseudonym); the
pages show it as the role's name in the reader's language."""


@dataclass(frozen=True)
class DelegationView:
    """A delegation as a seat may see it."""

    id: str
    name: str
    absent: bool
    own: bool


@dataclass(frozen=True)
class Participant:
    """A member as a seat may see them: real name for the own side and the facilitator."""

    name: str
    role: str
    delegation_id: str | None
    track: str | None
    two_factor: bool | None = None
    """Whether the account uses two-factor sign-in (shown to the facilitator only)."""


@dataclass(frozen=True)
class DialogueView:
    """What a seat sees of a dialogue's structure."""

    id: str
    title: str
    seat: Seat
    agenda: Agenda
    delegations: list[DelegationView]
    participants: list[Participant]
    evaluations_per_round: int
    evaluations_per_dialogue: int
    evaluations_used: int
    monotone_red_lines: bool
    mfa_required: bool
    blind: bool = False

    def delegation(self, delegation_id: str) -> DelegationView:
        """A delegation of this dialogue."""
        for d in self.delegations:
            if d.id == delegation_id:
                return d
        raise NotFound()


def _keys(platform: Platform, s: Session, dialogue_id: str) -> DialogueKeys:
    return platform.keys(s, dialogue_id)


def read_agenda(keys: DialogueKeys, dialogue: DialogueRow) -> Agenda:
    """The dialogue's agenda (unsealed)."""
    return Agenda.model_validate(keys.open("dialogues", "agenda", dialogue.id, dialogue.agenda_ct))


def title_of(keys: DialogueKeys, dialogue: DialogueRow) -> str:
    """The dialogue's title (unsealed)."""
    value: str = keys.open("dialogues", "title", dialogue.id, dialogue.title_ct)
    return value


def name_of(keys: DialogueKeys, delegation: DelegationRow) -> str:
    """A delegation's name (unsealed)."""
    value: str = keys.open("delegations", "name", delegation.id, delegation.name_ct)
    return value


ROUND_STATES: Mapping[str, Message] = {
    "draft": t_("draft"),
    "locked": t_("locked"),
    "evaluated": t_("evaluated"),
    "disclosed": t_("disclosed"),
}
"""The name of each state of a round, as messages show it."""

ROLE_NAMES: Mapping[str, Message] = {
    FACILITATOR: t_("facilitator"),
    MEMBER: t_("member"),
    OBSERVER: t_("observer"),
}
"""The name of each role of a seat, as messages show it."""


def state_name(state: str) -> Message:
    """The name of a round's state in the reader's language."""
    return ROUND_STATES.get(state) or verbatim(state)


def current_round(s: Session, dialogue_id: str) -> RoundRow:
    """The dialogue's latest round, or NotAllowedNow when none is open yet."""
    found = repo.rounds(s, dialogue_id)
    if not found:
        raise NotAllowedNow(
            t_("no round is open yet"), hint=t_("the facilitator opens the first round")
        )
    return found[-1]


def create_dialogue(
    platform: Platform,
    actor: Actor,
    title: str,
    *,
    evaluations_per_round: int = 1,
    evaluations_per_dialogue: int = EVALUATIONS_PER_DIALOGUE,
    monotone_red_lines: bool = False,
    mfa_required: bool = False,
    blind: bool = False,
    agenda: Agenda | None = None,
    parties: Sequence[tuple[str, bool]] = (),
) -> str:
    """A new dialogue with the actor as its facilitator; returns its id.

    The evaluation ration per round and the cap on evaluations in all rounds are fixed
    here, for good: every side can rely on them. With ``mfa_required`` every seat must
    use two-factor sign-in to open the dialogue (:func:`set_mfa_required` changes it).
    ``agenda`` and ``parties`` (name, absent stakeholder or not) are set in the same
    transaction: the dialogue is created with all of them, or not at all. A ``blind``
    dialogue (fixed here, never changed) stores no delegation's position: its findings
    are computed by the delegations' nodes (:mod:`backchannel.services.computations`).
    """
    names = [name.strip() for name, _ in parties]
    for k, name in enumerate(names):
        if not 1 <= len(name) <= 120:
            raise InputError(t_("a delegation needs a name of 1 to 120 characters"))
        if name.lower() in (n.lower() for n in names[:k]):
            raise InputError(
                t_("there is already a party named {name}", name=repr(name)),
                hint=t_("choose another name"),
            )
    title = title.strip()
    if not 1 <= len(title) <= 200:
        raise InputError(t_("a dialogue needs a title of 1 to 200 characters"))
    if not 1 <= evaluations_per_round <= 10:
        raise InputError(t_("evaluations per round must be between 1 and 10"))
    if not 1 <= evaluations_per_dialogue <= MOST_EVALUATIONS_PER_DIALOGUE:
        raise InputError(
            t_(
                "evaluations in all must be between 1 and {most}",
                most=MOST_EVALUATIONS_PER_DIALOGUE,
            )
        )
    with platform.unit() as s:
        dialogue_id = new_id()
        dialogue = DialogueRow(
            id=dialogue_id,
            title_ct=b"",
            agenda_ct=b"",
            evaluations_per_round=evaluations_per_round,
            evaluations_per_dialogue=evaluations_per_dialogue,
            monotone_red_lines=monotone_red_lines,
            mfa_required=mfa_required,
            blind=blind,
        )
        repo.add(s, dialogue)
        keys = platform.new_keys(s, dialogue_id)
        dialogue.title_ct = keys.seal("dialogues", "title", dialogue_id, title)
        dialogue.agenda_ct = keys.seal(
            "dialogues", "agenda", dialogue_id, (agenda or Agenda()).model_dump(mode="json")
        )
        member = MemberRow(
            dialogue_id=dialogue_id,
            user_id=actor.user_id,
            role=FACILITATOR,
            pseudonym_ct=b"",
        )
        repo.add(s, member)
        member.pseudonym_ct = keys.seal("members", "pseudonym", member.id, FACILITATOR_ALIAS)
        platform.log(
            s,
            "dialogue.created",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            audience="all",
            detail={
                **({"mfa_required": True} if mfa_required else {}),
                **({"blind": True} if blind else {}),
            },
        )
        if agenda is not None and agenda.issues:
            platform.log(
                s,
                "agenda.changed",
                dialogue_id=dialogue_id,
                actor_id=actor.user_id,
                audience="all",
                detail={"issues": len(agenda.issues)},
            )
        for ordinal, (name, (_, absent)) in enumerate(zip(names, parties, strict=True)):
            _new_delegation(platform, s, keys, actor, dialogue_id, name, absent, ordinal)
    return dialogue_id


def _new_delegation(
    platform: Platform,
    s: Session,
    keys: DialogueKeys,
    actor: Actor,
    dialogue_id: str,
    name: str,
    absent: bool,
    ordinal: int,
) -> str:
    """A delegation's row, its sealed name and its log entry; its id."""
    row = DelegationRow(
        dialogue_id=dialogue_id,
        role="absent" if absent else "delegation",
        name_ct=b"",
        ordinal=ordinal,
    )
    repo.add(s, row)
    row.name_ct = keys.seal("delegations", "name", row.id, name)
    platform.log(
        s,
        "delegation.added",
        dialogue_id=dialogue_id,
        actor_id=actor.user_id,
        target=row.id,
        audience="all",
    )
    return row.id


def set_mfa_required(platform: Platform, actor: Actor, dialogue_id: str, required: bool) -> None:
    """Require two-factor sign-in of every seat, or no longer (facilitator; every side
    sees the change in the log)."""
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        assert dialogue is not None
        if dialogue.mfa_required == required:
            return
        dialogue.mfa_required = required
        platform.log(
            s,
            "dialogue.mfa_required" if required else "dialogue.mfa_not_required",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            audience="all",
        )


HIDDEN_TITLE = "(a dialogue that requires two-factor sign-in)"
"""What the list shows of a dialogue the account may not open until it sets that up."""


def my_dialogues(platform: Platform, actor: Actor) -> list[tuple[str, str, str]]:
    """``(id, title, role)`` of every dialogue the actor has a seat in (a dialogue that
    requires two-factor sign-in of an account without it: :data:`HIDDEN_TITLE`)."""
    out = []
    with platform.view() as s:
        enabled = bool(repo.mfa_enabled_among(s, [actor.user_id]))
        for seat_row in repo.members_of_user(s, actor.user_id):
            dialogue = repo.get(s, DialogueRow, seat_row.dialogue_id)
            if dialogue is None:
                continue
            if dialogue.mfa_required and not enabled:
                out.append((dialogue.id, HIDDEN_TITLE, seat_row.role))
                continue
            keys = _keys(platform, s, dialogue.id)
            out.append((dialogue.id, title_of(keys, dialogue), seat_row.role))
    return sorted(out, key=lambda row: row[1].lower())


def view(platform: Platform, actor: Actor, dialogue_id: str) -> DialogueView:
    """The dialogue as the actor's seat may see it."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        return seat_view(platform, s, place)


def seat_view(platform: Platform, s: Session, place: Seat) -> DialogueView:
    """The dialogue as ``place`` (checked by :func:`access.seat` in ``s``) may see it."""
    dialogue = repo.get(s, DialogueRow, place.dialogue_id)
    if dialogue is None:
        raise NotFound()
    keys = _keys(platform, s, dialogue.id)
    delegations = [
        DelegationView(d.id, name_of(keys, d), d.role == "absent", d.id == place.delegation_id)
        for d in repo.delegations(s, dialogue.id)
    ]
    participants = []
    seats = repo.members_with_users(s, dialogue.id)
    enabled = (
        repo.mfa_enabled_among(s, [m.user_id for m, _ in seats]) if place.is_facilitator else set()
    )
    for m, user in seats:
        same_side = m.delegation_id is not None and m.delegation_id == place.delegation_id
        if place.is_facilitator:
            participants.append(
                Participant(
                    user.display_name, m.role, m.delegation_id, m.track, m.user_id in enabled
                )
            )
        elif same_side or m.user_id == place.actor.user_id:
            participants.append(Participant(user.display_name, m.role, m.delegation_id, m.track))
        elif m.role in (MEMBER, FACILITATOR):  # others see pseudonyms only
            pseudonym: str = keys.open("members", "pseudonym", m.id, m.pseudonym_ct)
            participants.append(Participant(pseudonym, m.role, m.delegation_id, None))
    return DialogueView(
        dialogue.id,
        title_of(keys, dialogue),
        place,
        read_agenda(keys, dialogue),
        delegations,
        participants,
        dialogue.evaluations_per_round,
        dialogue.evaluations_per_dialogue,
        repo.evaluation_count(s, dialogue.id),
        dialogue.monotone_red_lines,
        dialogue.mfa_required,
        dialogue.blind,
    )


def _agenda_editable(s: Session, dialogue_id: str) -> None:
    rounds = repo.rounds(s, dialogue_id)
    if rounds and rounds[-1].state != "draft":
        raise NotAllowedNow(
            t_("the agenda can only change while the current round is a draft"),
            hint=t_("open a new round first"),
        )


def set_agenda(platform: Platform, actor: Actor, dialogue_id: str, agenda: Agenda) -> None:
    """Replace the agenda (facilitator; only while the current round is a draft)."""
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        _agenda_editable(s, dialogue_id)
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        assert dialogue is not None
        keys = _keys(platform, s, dialogue_id)
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


def add_issue(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    name: str,
    kind: str,
    options: list[str],
    description: str = "",
) -> str:
    """Add an issue to the agenda; returns its id."""
    current = view(platform, actor, dialogue_id).agenda
    try:
        issue = AgendaIssue(
            id=new_id(),
            name=name.strip(),
            kind=kind,
            options=[o.strip() for o in options if o.strip()],
            description=description.strip(),
        )
        agenda = Agenda(issues=[*current.issues, issue])
    except ValueError as error:
        raise InputError(
            _first_error(error), hint=t_("each issue needs a name and 2 or more distinct options")
        ) from None
    set_agenda(platform, actor, dialogue_id, agenda)
    return issue.id


def remove_issue(platform: Platform, actor: Actor, dialogue_id: str, issue_id: str) -> None:
    """Remove an issue from the agenda."""
    current = view(platform, actor, dialogue_id).agenda
    current.issue(issue_id)
    set_agenda(
        platform, actor, dialogue_id, Agenda(issues=[i for i in current.issues if i.id != issue_id])
    )


def _first_error(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return str(error)


def add_delegation(
    platform: Platform, actor: Actor, dialogue_id: str, name: str, *, absent: bool = False
) -> str:
    """Add a delegation (or an absent stakeholder); returns its id."""
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise InputError(t_("a delegation needs a name of 1 to 120 characters"))
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        existing = repo.delegations(s, dialogue_id)
        keys = _keys(platform, s, dialogue_id)
        if any(name_of(keys, d).lower() == name.lower() for d in existing):
            raise NotAllowedNow(
                t_("there is already a party named {name}", name=repr(name)),
                hint=t_("choose another name"),
            )
        return _new_delegation(platform, s, keys, actor, dialogue_id, name, absent, len(existing))


def _check_seat_fields(
    s: Session, dialogue_id: str, role: str, delegation_id: str | None, track: str | None
) -> None:
    if role not in ROLES:
        raise InputError(
            t_("unknown role {role}", role=repr(role)), hint=t_("facilitator, member or observer")
        )
    if role == MEMBER:
        row = repo.get(s, DelegationRow, delegation_id) if delegation_id else None
        if row is None or row.dialogue_id != dialogue_id or row.role != "delegation":
            raise InputError(
                t_("a member belongs to one delegation at the table"), hint=t_("pick one")
            )
        if track not in {t.value for t in Track}:
            raise InputError(
                t_("unknown track {track}", track=repr(track)),
                hint=t_("choose one of: {choices}", choices=", ".join(t.value for t in Track)),
            )
    elif delegation_id:
        raise InputError(t_("a {role} does not belong to a delegation", role=ROLE_NAMES[role]))


def add_member(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    username: str,
    role: str,
    *,
    delegation_id: str | None = None,
    track: str | None = None,
    pseudonym: str | None = None,
) -> str:
    """Give an existing account a seat (facilitator); returns the seat id."""
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        user = repo.user_by_name(s, username.strip().lower())
        if user is None:
            raise InputError(
                t_("no account named {name}", name=repr(username)),
                hint=t_("invite them by link instead"),
            )
        return _seat_user(
            platform, s, dialogue_id, user.id, role, delegation_id, track, pseudonym, actor
        )


def _seat_user(
    platform: Platform,
    s: Session,
    dialogue_id: str,
    user_id: str,
    role: str,
    delegation_id: str | None,
    track: str | None,
    pseudonym: str | None,
    actor: Actor | None,
) -> str:
    _check_seat_fields(s, dialogue_id, role, delegation_id, track)
    if repo.member(s, dialogue_id, user_id) is not None:
        raise InputError(t_("this account already has a seat in the dialogue"))
    keys = _keys(platform, s, dialogue_id)
    row = MemberRow(
        dialogue_id=dialogue_id,
        user_id=user_id,
        role=role,
        delegation_id=delegation_id,
        track=track if role == MEMBER else None,
        pseudonym_ct=b"",
    )
    repo.add(s, row)
    alias = (pseudonym or "").strip() or _pseudonym()
    row.pseudonym_ct = keys.seal("members", "pseudonym", row.id, alias[:60])
    platform.log(
        s,
        "member.added",
        dialogue_id=dialogue_id,
        actor_id=actor.user_id if actor else user_id,
        target=row.id,
        audience=delegation_id or "facilitator",
    )
    return row.id


_TREES = (
    "Ash",
    "Birch",
    "Cedar",
    "Elm",
    "Fir",
    "Hazel",
    "Larch",
    "Maple",
    "Oak",
    "Rowan",
    "Willow",
    "Yew",
)


def _pseudonym() -> str:
    return f"Delegate {secrets.choice(_TREES)}-{secrets.randbelow(90) + 10}"


def invite(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    role: str,
    *,
    delegation_id: str | None = None,
    track: str | None = None,
) -> str:
    """A one-time invitation token (shown once; valid for a week)."""
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        return _invitation(platform, s, actor, dialogue_id, role, delegation_id, track)


def _invitation(
    platform: Platform,
    s: Session,
    actor: Actor,
    dialogue_id: str,
    role: str,
    delegation_id: str | None,
    track: str | None,
) -> str:
    """Check one seat's fields, store its invitation (the token's hash) and log it, inside
    the caller's unit; the token, to be shown once."""
    _check_seat_fields(s, dialogue_id, role, delegation_id, track)
    token = secrets.token_urlsafe(32)
    repo.add(
        s,
        InvitationRow(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            dialogue_id=dialogue_id,
            role=role,
            delegation_id=delegation_id,
            track=track,
            expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
        ),
    )
    platform.log(
        s,
        "invitation.created",
        dialogue_id=dialogue_id,
        actor_id=actor.user_id,
        audience="facilitator",
        detail={"role": role},
    )
    return token


def invite_each(
    platform: Platform, actor: Actor, dialogue_id: str, tracks: Mapping[str, str]
) -> list[tuple[str, str]]:
    """One one-time invitation link for a member of each delegation named in ``tracks``
    (delegation id -> the member's track), all in one transaction; returns (delegation
    name, token) in the dialogue's order."""
    if not tracks:
        raise InputError(
            t_("no delegation was chosen"), hint=t_("tick the delegations to invite a member of")
        )
    made = []
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        keys = _keys(platform, s, dialogue_id)
        order = {d.id: d for d in repo.delegations(s, dialogue_id)}
        for delegation_id in sorted(tracks, key=lambda i: order[i].ordinal if i in order else 0):
            track = tracks[delegation_id]
            token = _invitation(platform, s, actor, dialogue_id, MEMBER, delegation_id, track)
            made.append((name_of(keys, order[delegation_id]), token))
    return made


class InvitationClosed(InputError):
    """The invitation link cannot be accepted (used, expired or mistyped)."""


def _open_invitation(row: InvitationRow | None) -> InvitationRow:
    """The invitation when it can still be accepted; else :class:`InvitationClosed`."""
    expires = as_utc(row.expires_at) if row else None
    if row is None or row.used_at is not None or expires is None or expires < utcnow():
        raise InvitationClosed(
            t_("this invitation link is not valid (used, expired or mistyped)"),
            hint=t_("ask the facilitator for a new link"),
        )
    return row


def accept_invitation(
    platform: Platform,
    token: str,
    username: str,
    display_name: str,
    password: str,
    pseudonym: str = "",
) -> str:
    """Create an account from an invitation and seat it; returns the dialogue id.

    The link is checked first, so that a used or mistyped one costs no password hash.
    Then one transaction takes the link (held against concurrent acceptances: SQLite's
    write lock, PostgreSQL's ``FOR UPDATE``), creates the account and gives it the seat:
    of several acceptances of one link at once exactly one creates an account, and a
    refused one (a taken user name, say) leaves the link unused.
    """
    digest = hashlib.sha256(token.encode("ascii", "replace")).hexdigest()
    with platform.view() as s:
        _open_invitation(repo.get(s, InvitationRow, digest))
    name = accounts.valid_username(username)
    accounts.check_password_rules(password)
    hashed = hash_password(password, platform.settings.password_hash_memory_kib)  # no lock held
    with platform.unit() as s:
        row = _open_invitation(repo.invitation_for_update(s, digest))
        row.used_at = utcnow()
        user = accounts.add_user(
            platform, s, name, display_name, hashed, must_change_password=False
        )
        _seat_user(
            platform,
            s,
            row.dialogue_id,
            user.id,
            row.role,
            row.delegation_id,
            row.track,
            pseudonym,
            None,
        )
        return row.dialogue_id
