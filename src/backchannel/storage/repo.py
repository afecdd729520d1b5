"""Queries the services need, so that SQLAlchemy stays inside the storage layer.

The queries of every request (the session, the seat, the rounds, positions, releases
and the log) are built once, at import, with bound parameters: building a statement
object cost about as much as running it (measured: 117 us per seat lookup built per
call, 58 us prebuilt), and SQLAlchemy caches the compiled form of either.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple, TypeVar

from sqlalchemy import Select, bindparam, delete, exists, func, select
from sqlalchemy.engine import Row as ResultRow
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backchannel.storage.tables import (
    AuditEntryRow,
    Base,
    BlindComputationRow,
    BlindNodeRow,
    CheckpointRow,
    DelegationRow,
    DialogueKeyRow,
    DialogueRow,
    EvaluationRow,
    InvitationRow,
    LoginFailureRow,
    MemberRow,
    MetaRow,
    MfaRow,
    PositionRow,
    RecoveryCodeRow,
    ReleaseRow,
    RequestKeyRow,
    RoundRow,
    SessionRow,
    SignInChallengeRow,
    TextReleaseRow,
    TextResponseRow,
    TextRow,
    TextVersionRow,
    UserRow,
)

RowT = TypeVar("RowT", bound=Base)


def get(session: Session, table: type[RowT], key: object) -> RowT | None:
    """A row by primary key."""
    return session.get(table, key)


def add(session: Session, row: Base) -> None:
    """Stage a new row (flushed at once so its defaults are set)."""
    session.add(row)
    session.flush()


def remove(session: Session, row: Base) -> None:
    """Delete a row."""
    session.delete(row)
    session.flush()


def user_by_name(session: Session, username: str) -> UserRow | None:
    """The account with this user name."""
    return session.execute(select(UserRow).where(UserRow.username == username)).scalar()


def lock_dialogue(session: Session, dialogue_id: str) -> None:
    """Hold the dialogue's row for the rest of the transaction (PostgreSQL ``FOR UPDATE``).

    Every write that depends on a round's state takes it first, so concurrent writers of
    one dialogue run one after the other. On SQLite, whose ``BEGIN IMMEDIATE`` already
    holds the whole database, there is nothing to add and no statement is sent.
    """
    if session.get_bind().dialect.name == "sqlite":
        return
    session.execute(select(DialogueRow.id).where(DialogueRow.id == dialogue_id).with_for_update())


def invitation_for_update(session: Session, token_hash: str) -> InvitationRow | None:
    """The invitation, held for the rest of the transaction (PostgreSQL ``FOR UPDATE``).

    A second transaction that wants it waits for the first to end and then reads what it
    committed. On SQLite ``BEGIN IMMEDIATE`` already holds the whole database.
    """
    query = select(InvitationRow).where(InvitationRow.token_hash == token_hash)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    return session.execute(query).scalar()


def invitations(session: Session, dialogue_id: str) -> Sequence[InvitationRow]:
    """Every invitation of a dialogue not yet used, soonest to expire first."""
    return (
        session.execute(
            select(InvitationRow)
            .where(InvitationRow.dialogue_id == dialogue_id, InvitationRow.used_at.is_(None))
            .order_by(InvitationRow.expires_at)
        )
        .scalars()
        .all()
    )


def members_of_user(session: Session, user_id: str) -> Sequence[MemberRow]:
    """Every seat a user holds, in any dialogue."""
    return session.execute(select(MemberRow).where(MemberRow.user_id == user_id)).scalars().all()


_MEMBER = select(MemberRow).where(
    MemberRow.dialogue_id == bindparam("dialogue"), MemberRow.user_id == bindparam("user")
)


def member(session: Session, dialogue_id: str, user_id: str) -> MemberRow | None:
    """The user's seat in one dialogue."""
    return session.execute(_MEMBER, {"dialogue": dialogue_id, "user": user_id}).scalar()


class SeatLookup(NamedTuple):
    """A user's seat in a dialogue: the member row's id, role and delegation, whether the
    dialogue requires two-factor sign-in and whether the user has it on."""

    member_id: str
    role: str
    delegation_id: str | None
    mfa_required: bool
    mfa_enabled: bool


_SEAT = (
    select(
        MemberRow.id,
        MemberRow.role,
        MemberRow.delegation_id,
        DialogueRow.mfa_required,
        MfaRow.enabled_at,
    )
    .join(DialogueRow, DialogueRow.id == MemberRow.dialogue_id)
    .outerjoin(MfaRow, MfaRow.user_id == MemberRow.user_id)
    .where(MemberRow.dialogue_id == bindparam("dialogue"), MemberRow.user_id == bindparam("user"))
)


def seat(session: Session, dialogue_id: str, user_id: str) -> SeatLookup | None:
    """The user's seat in one dialogue; in one query.

    Every request to a dialogue asks this, so it reads plain columns on the session's
    connection (no ORM object), after flushing what the unit has pending.
    """
    session.flush()  # what the unit has pending (nothing to do in a snapshot)
    row = session.connection().execute(_SEAT, {"dialogue": dialogue_id, "user": user_id}).first()
    if row is None:
        return None
    return SeatLookup(row[0], row[1], row[2], bool(row[3]), row[4] is not None)


def members(session: Session, dialogue_id: str) -> Sequence[MemberRow]:
    """Every seat of a dialogue."""
    return (
        session.execute(select(MemberRow).where(MemberRow.dialogue_id == dialogue_id))
        .scalars()
        .all()
    )


_MEMBERS_WITH_USERS = (
    select(MemberRow, UserRow)
    .join(UserRow, UserRow.id == MemberRow.user_id)
    .where(MemberRow.dialogue_id == bindparam("dialogue"))
)


def members_with_users(session: Session, dialogue_id: str) -> Sequence[tuple[MemberRow, UserRow]]:
    """Every seat of a dialogue with its account, in one query."""
    rows = session.execute(_MEMBERS_WITH_USERS, {"dialogue": dialogue_id}).all()
    return [(m, u) for m, u in rows]


_DELEGATIONS = (
    select(DelegationRow)
    .where(DelegationRow.dialogue_id == bindparam("dialogue"))
    .order_by(DelegationRow.ordinal)
)


def delegations(session: Session, dialogue_id: str) -> Sequence[DelegationRow]:
    """The delegations and absent stakeholders of a dialogue, in the order they were added."""
    return session.execute(_DELEGATIONS, {"dialogue": dialogue_id}).scalars().all()


def data_key(session: Session, dialogue_id: str) -> DialogueKeyRow | None:
    """The newest wrapped data key of a dialogue."""
    return session.execute(
        select(DialogueKeyRow)
        .where(DialogueKeyRow.dialogue_id == dialogue_id)
        .order_by(DialogueKeyRow.version.desc())
    ).scalar()


_ROUNDS = (
    select(RoundRow).where(RoundRow.dialogue_id == bindparam("dialogue")).order_by(RoundRow.number)
)


def rounds(session: Session, dialogue_id: str) -> Sequence[RoundRow]:
    """The rounds of a dialogue, first to last."""
    return session.execute(_ROUNDS, {"dialogue": dialogue_id}).scalars().all()


_POSITION = select(PositionRow).where(
    PositionRow.round_id == bindparam("round"), PositionRow.delegation_id == bindparam("delegation")
)


def position(session: Session, round_id: str, delegation_id: str) -> PositionRow | None:
    """A delegation's position in one round."""
    return session.execute(_POSITION, {"round": round_id, "delegation": delegation_id}).scalar()


def positions_in(session: Session, round_id: str) -> Sequence[PositionRow]:
    """Every position recorded in one round."""
    return (
        session.execute(select(PositionRow).where(PositionRow.round_id == round_id)).scalars().all()
    )


_POSITIONS_OF = select(PositionRow).where(
    PositionRow.dialogue_id == bindparam("dialogue"),
    PositionRow.delegation_id == bindparam("delegation"),
)


def positions_of(session: Session, dialogue_id: str, delegation_id: str) -> Sequence[PositionRow]:
    """A delegation's positions over the rounds."""
    found = session.execute(_POSITIONS_OF, {"dialogue": dialogue_id, "delegation": delegation_id})
    return found.scalars().all()


def evaluations(session: Session, round_id: str) -> Sequence[EvaluationRow]:
    """The evaluations of a round, oldest first."""
    return (
        session.execute(
            select(EvaluationRow)
            .where(EvaluationRow.round_id == round_id)
            .order_by(EvaluationRow.created_at)
        )
        .scalars()
        .all()
    )


_EVALUATION_COUNT = select(
    select(func.count())
    .select_from(EvaluationRow)
    .where(EvaluationRow.dialogue_id == bindparam("dialogue"))
    .scalar_subquery()
    + select(func.count())
    .select_from(BlindComputationRow)
    .where(BlindComputationRow.dialogue_id == bindparam("dialogue"))
    .scalar_subquery()
)


def evaluation_count(session: Session, dialogue_id: str) -> int:
    """How many evaluations the dialogue has had, in all its rounds (a blind dialogue's
    computations count as evaluations); one prebuilt query on the connection, as the
    overview of every dialogue page asks it."""
    found = session.connection().execute(_EVALUATION_COUNT, {"dialogue": dialogue_id}).scalar()
    return int(found or 0)


def blind_nodes(session: Session, dialogue_id: str) -> Sequence[BlindNodeRow]:
    """The nodes of a blind dialogue: delegations' first, then helpers by ordinal."""
    return session.scalars(
        select(BlindNodeRow)
        .where(BlindNodeRow.dialogue_id == dialogue_id)
        .order_by(BlindNodeRow.delegation_id.is_(None), BlindNodeRow.ordinal, BlindNodeRow.id)
    ).all()


def blind_node_by_token(session: Session, token_hash: str) -> BlindNodeRow | None:
    """The node whose token has this SHA-256."""
    return session.scalars(
        select(BlindNodeRow).where(BlindNodeRow.token_hash == token_hash)
    ).first()


def blind_computations(session: Session, dialogue_id: str) -> Sequence[BlindComputationRow]:
    """The computations of a blind dialogue, oldest first."""
    return session.scalars(
        select(BlindComputationRow)
        .where(BlindComputationRow.dialogue_id == dialogue_id)
        .order_by(BlindComputationRow.requested_at, BlindComputationRow.id)
    ).all()


def last_evaluation(session: Session, dialogue_id: str) -> EvaluationRow | None:
    """The dialogue's latest evaluation (of its latest evaluated round), if any."""
    query = (
        select(EvaluationRow)
        .join(RoundRow, RoundRow.id == EvaluationRow.round_id)
        .where(EvaluationRow.dialogue_id == dialogue_id)
        .order_by(RoundRow.number.desc(), EvaluationRow.created_at.desc())
        .limit(1)
    )
    return session.execute(query).scalar()


_RELEASES = (
    select(ReleaseRow)
    .where(
        ReleaseRow.dialogue_id == bindparam("dialogue"),
        ReleaseRow.audience.in_(bindparam("audiences", expanding=True)),
    )
    .order_by(ReleaseRow.released_at)
)


def releases(session: Session, dialogue_id: str, audiences: Sequence[str]) -> Sequence[ReleaseRow]:
    """The releases of a dialogue addressed to any of ``audiences``, oldest first."""
    found = session.execute(_RELEASES, {"dialogue": dialogue_id, "audiences": list(audiences)})
    return found.scalars().all()


AuditLine = ResultRow[int, datetime, str, str | None]
"""``(seq, at, action, actor_id)`` of an audit entry, readable by those names."""


NO_LIMIT = 2**31 - 1
"""Stands for "no limit" in the log's prepared statements (SQLite has no ``LIMIT ALL``;
sequence numbers are 32-bit integers on PostgreSQL)."""

_LOG_COLUMNS = select(
    AuditEntryRow.seq, AuditEntryRow.at, AuditEntryRow.action, AuditEntryRow.actor_id
)
_LOG_OF_DIALOGUE = AuditEntryRow.dialogue_id == bindparam("dialogue")
_LOG_FOR_AUDIENCES = AuditEntryRow.audience.in_(bindparam("audiences", expanding=True))
_LOG_PAGE = (AuditEntryRow.seq < bindparam("before"),)
_LOG_ALL = (
    _LOG_COLUMNS.where(_LOG_OF_DIALOGUE, *_LOG_PAGE)
    .order_by(AuditEntryRow.seq.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_LOG_FOR = (
    _LOG_COLUMNS.where(_LOG_OF_DIALOGUE, _LOG_FOR_AUDIENCES, *_LOG_PAGE)
    .order_by(AuditEntryRow.seq.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_LOG_COUNT_ALL = select(func.count()).select_from(AuditEntryRow).where(_LOG_OF_DIALOGUE)
_LOG_COUNT_FOR = (
    select(func.count()).select_from(AuditEntryRow).where(_LOG_OF_DIALOGUE, _LOG_FOR_AUDIENCES)
)


def audit_entries(
    session: Session,
    dialogue_id: str,
    audiences: Sequence[str] | None,
    *,
    limit: int | None = None,
    offset: int = 0,
    before_seq: int | None = None,
) -> Sequence[AuditLine]:
    """A dialogue's audit entries (all audiences when ``audiences`` is None), newest first.

    ``limit`` entries at most, after skipping the ``offset`` newest, among those with a
    sequence number below ``before_seq``. Only the columns a log shows are read, as
    plain rows: the log grows with every action and is read often, and building ORM
    objects for it cost more than the query.
    """
    values: dict[str, object] = {
        "dialogue": dialogue_id,
        "limit": NO_LIMIT if limit is None else limit,
        "offset": offset,
        "before": NO_LIMIT if before_seq is None else before_seq,
    }
    if audiences is None:
        return session.execute(_LOG_ALL, values).all()
    return session.execute(_LOG_FOR, {**values, "audiences": list(audiences)}).all()


def audit_count(session: Session, dialogue_id: str, audiences: Sequence[str] | None) -> int:
    """How many audit entries of a dialogue ``audiences`` may read (None: all of them)."""
    if audiences is None:
        found = session.execute(_LOG_COUNT_ALL, {"dialogue": dialogue_id}).scalar()
    else:
        values = {"dialogue": dialogue_id, "audiences": list(audiences)}
        found = session.execute(_LOG_COUNT_FOR, values).scalar()
    return int(found or 0)


_FACILITATES = (
    exists()
    .where(MemberRow.user_id == SessionRow.user_id, MemberRow.role == "facilitator")
    .correlate(SessionRow)
)


class SessionLookup(NamedTuple):
    """A server-side session and what the request needs of its account (``user_id`` None:
    the account is gone)."""

    created_at: datetime
    last_seen_at: datetime
    user_id: str | None
    username: str | None
    display_name: str | None
    active: bool | None
    must_change_password: bool | None
    mfa_required: bool | None
    language: str | None
    mfa_enabled: bool
    facilitates: bool


_SESSION_WITH_USER = (
    select(
        SessionRow.created_at,
        SessionRow.last_seen_at,
        UserRow.id,
        UserRow.username,
        UserRow.display_name,
        UserRow.active,
        UserRow.must_change_password,
        UserRow.mfa_required,
        UserRow.language,
        MfaRow.enabled_at,
        _FACILITATES,
    )
    .outerjoin(UserRow, UserRow.id == SessionRow.user_id)
    .outerjoin(MfaRow, MfaRow.user_id == SessionRow.user_id)
    .where(SessionRow.token_hash == bindparam("token"))
)


def session_with_user(session: Session, token_hash: str) -> SessionLookup | None:
    """A server-side session with its account, whether the account has two-factor sign-in
    on and whether it facilitates a dialogue; in one query.

    Every request asks this, so it reads plain columns on the session's connection: no ORM
    object is built (half the CPU of loading the two rows as objects).
    """
    row = session.connection().execute(_SESSION_WITH_USER, {"token": token_hash}).first()
    if row is None:
        return None
    return SessionLookup(*row[:9], mfa_enabled=row[9] is not None, facilitates=bool(row[10]))


def facilitates(session: Session, user_id: str) -> bool:
    """Whether the user facilitates any dialogue."""
    query = select(exists().where(MemberRow.user_id == user_id, MemberRow.role == "facilitator"))
    return bool(session.execute(query).scalar())


def mfa_for_update(session: Session, user_id: str) -> MfaRow | None:
    """The user's TOTP row, held for the rest of the transaction (PostgreSQL ``FOR
    UPDATE``), so that two sign-ins with one code cannot both pass."""
    query = select(MfaRow).where(MfaRow.user_id == user_id)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    return session.execute(query).scalar()


def mfa_enabled_among(session: Session, user_ids: Sequence[str]) -> set[str]:
    """Those of ``user_ids`` who have two-factor sign-in on."""
    query = select(MfaRow.user_id).where(
        MfaRow.user_id.in_(list(user_ids)), MfaRow.enabled_at.is_not(None)
    )
    return set(session.execute(query).scalars().all())


def recovery_code_count(session: Session, user_id: str) -> int:
    """How many unused recovery codes the user has."""
    found = session.execute(
        select(func.count()).select_from(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id)
    ).scalar()
    return int(found or 0)


def clear_mfa(session: Session, user_id: str) -> None:
    """Forget the user's TOTP secret, recovery codes and pending sign-ins."""
    for table in (MfaRow, RecoveryCodeRow, SignInChallengeRow):
        session.execute(delete(table).where(table.user_id == user_id))


def clear_recovery_codes(session: Session, user_id: str) -> None:
    """Forget the user's recovery codes."""
    session.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id))


def prune_challenges(session: Session, before: datetime) -> None:
    """Forget the sign-ins awaiting a code that began before a time."""
    session.execute(delete(SignInChallengeRow).where(SignInChallengeRow.created_at < before))


def meta(session: Session, key: str) -> MetaRow | None:
    """A fact about the database."""
    return session.get(MetaRow, key)


def _held(session: Session, query: Select[LoginFailureRow]) -> Select[LoginFailureRow]:
    """Rows another transaction holds are skipped (PostgreSQL; SQLite holds the database)."""
    if session.get_bind().dialect.name == "sqlite":
        return query
    return query.with_for_update(skip_locked=True)


def count_failures(session: Session, key: str, since: datetime) -> int:
    """Failed sign-ins under the (account, source) ``key`` since a time."""
    found = session.execute(
        select(func.count())
        .select_from(LoginFailureRow)
        .where(LoginFailureRow.key == key, LoginFailureRow.at >= since)
    ).scalar()
    return int(found or 0)


def count_account_failures(session: Session, account: str, since: datetime) -> int:
    """Failed sign-ins on an account, from any source, since a time."""
    found = session.execute(
        select(func.count())
        .select_from(LoginFailureRow)
        .where(LoginFailureRow.account == account, LoginFailureRow.at >= since)
    ).scalar()
    return int(found or 0)


def unreported_failures(
    session: Session, before: datetime, key: str | None = None
) -> Sequence[LoginFailureRow]:
    """Failed sign-ins not yet counted in the audit log, before a time (of one ``key``),
    held for this transaction so that no other one counts them too."""
    query = select(LoginFailureRow).where(
        LoginFailureRow.reported.is_(False), LoginFailureRow.at < before
    )
    if key is not None:
        query = query.where(LoginFailureRow.key == key)
    return session.execute(_held(session, query.order_by(LoginFailureRow.at))).scalars().all()


def prune_failures(session: Session, before: datetime) -> None:
    """Forget the failed sign-ins counted in the audit log before a time."""
    session.execute(
        delete(LoginFailureRow).where(
            LoginFailureRow.reported.is_(True), LoginFailureRow.at < before
        )
    )


def clear_failures(session: Session, key: str) -> None:
    """Forget the failed sign-ins under ``key`` (after a success)."""
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.key == key))


def end_sessions(session: Session, user_id: str, *, keep: str | None = None) -> None:
    """Revoke every session of a user (but the one whose token hash is ``keep``).

    Sign-ins half done (a right password awaiting its code) end too: a challenge opened
    before a password reset, a deactivation or a change of second factor must not turn
    into a session afterwards.
    """
    query = delete(SessionRow).where(SessionRow.user_id == user_id)
    if keep is not None:
        query = query.where(SessionRow.token_hash != keep)
    session.execute(query)
    session.execute(delete(SignInChallengeRow).where(SignInChallengeRow.user_id == user_id))


def checkpoints(
    session: Session, dialogue_id: str, audiences: Sequence[str] | None
) -> Sequence[CheckpointRow]:
    """A dialogue's signed checkpoints that ``audiences`` may see (None: all), oldest first."""
    query = select(CheckpointRow).where(CheckpointRow.dialogue_id == dialogue_id)
    if audiences is not None:
        query = query.where(CheckpointRow.audience.in_(list(audiences)))
    return session.execute(query.order_by(CheckpointRow.seq)).scalars().all()


def add_request_key(session: Session, row: RequestKeyRow) -> bool:
    """Insert a request key unless another transaction holds one with the same hash.

    Returns False when the key is taken (on PostgreSQL a concurrent insert of the same
    key waits for the other transaction, then fails here; the unit goes on).
    """
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def request_key_for_update(session: Session, key_hash: str) -> RequestKeyRow | None:
    """A request key, held for the rest of the transaction (PostgreSQL ``FOR UPDATE``)."""
    query = select(RequestKeyRow).where(RequestKeyRow.key_hash == key_hash)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    return session.execute(query).scalar()


def prune_request_keys(session: Session, before: datetime) -> None:
    """Forget the request keys created before a time."""
    session.execute(delete(RequestKeyRow).where(RequestKeyRow.created_at < before))


def texts(session: Session, dialogue_id: str) -> Sequence[TextRow]:
    """The dialogue's negotiating texts, oldest first."""
    query = select(TextRow).where(TextRow.dialogue_id == dialogue_id)
    return session.execute(query.order_by(TextRow.created_at, TextRow.id)).scalars().all()


_TEXT_VERSION = select(TextVersionRow).where(
    TextVersionRow.text_id == bindparam("text"), TextVersionRow.number == bindparam("number")
)


def text_version(session: Session, text_id: str, number: int) -> TextVersionRow | None:
    """One version of a text."""
    return session.execute(_TEXT_VERSION, {"text": text_id, "number": number}).scalar()


_TEXT_RESPONSES = (
    select(TextResponseRow)
    .where(
        TextResponseRow.text_id == bindparam("text"),
        TextResponseRow.delegation_id.in_(bindparam("sides", expanding=True)),
    )
    .order_by(TextResponseRow.sequence)
)


def text_responses(
    session: Session, text_id: str, delegation_ids: Sequence[str]
) -> Sequence[TextResponseRow]:
    """Every response of these delegations to a text, oldest first."""
    found = session.execute(_TEXT_RESPONSES, {"text": text_id, "sides": list(delegation_ids)})
    return found.scalars().all()


def last_response_sequence(session: Session, text_id: str, delegation_id: str) -> int:
    """The highest sequence number of a delegation's responses to a text (0: none)."""
    query = select(func.max(TextResponseRow.sequence)).where(
        TextResponseRow.text_id == text_id, TextResponseRow.delegation_id == delegation_id
    )
    return session.execute(query).scalar() or 0


_TEXT_RELEASES = (
    select(TextReleaseRow)
    .where(TextReleaseRow.text_id == bindparam("text"))
    .order_by(TextReleaseRow.released_at, TextReleaseRow.version)
)
_TEXT_RELEASES_TO = _TEXT_RELEASES.where(
    TextReleaseRow.audience.in_(bindparam("audiences", expanding=True))
)


def text_releases(
    session: Session, text_id: str, audiences: Sequence[str] | None
) -> Sequence[TextReleaseRow]:
    """The releases of responses to a text (to ``audiences``; None: all), oldest first."""
    if audiences is None:
        return session.execute(_TEXT_RELEASES, {"text": text_id}).scalars().all()
    found = session.execute(_TEXT_RELEASES_TO, {"text": text_id, "audiences": list(audiences)})
    return found.scalars().all()


def text_released(
    session: Session, text_id: str, delegation_id: str, version: int, audience: str
) -> bool:
    """Whether these responses were already released to this audience."""
    query = select(
        exists().where(
            TextReleaseRow.text_id == text_id,
            TextReleaseRow.delegation_id == delegation_id,
            TextReleaseRow.version == version,
            TextReleaseRow.audience == audience,
        )
    )
    return bool(session.execute(query).scalar())
