"""The database schema (SQLAlchemy 2 ORM). Migrations in ``storage/migrations`` build it.

Identifiers are random 128-bit URL-safe strings (:func:`new_id`), never sequential.
Columns ending in ``_ct`` hold AES-256-GCM ciphertext (:mod:`backchannel.storage.vault`)
bound to their row; everything else is metadata kept to what the rules need.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def new_id() -> str:
    """A random 128-bit identifier (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


def utcnow() -> datetime:
    """The current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time as timezone-aware UTC (SQLite gives naive UTC back)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """A time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, the same whatever the database returns."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Base(DeclarativeBase):
    """Declarative base of every table."""


class MetaRow(Base):
    """Key-value facts about the database itself (e.g. the KEK check value)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class UserRow(Base):
    """An account. ``must_change_password`` after a one-time password or invitation."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    mfa_required: Mapped[bool] = mapped_column(Boolean, default=False)
    """The operator requires two-factor sign-in of this account (``users require-mfa``)."""
    language: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    """The language the account chose for its pages (none: the browser's)."""


class SessionRow(Base):
    """A server-side session: only the SHA-256 of the cookie token is stored (its CSRF
    token is derived from the cookie token, never stored)."""

    __tablename__ = "sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailureRow(Base):
    """A failed sign-in: keyed hashes of (account, source) and of the account, never the
    name or the address; ``reported`` once counted in the audit log, then pruned."""

    __tablename__ = "login_failures"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64), index=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reported: Mapped[bool] = mapped_column(Boolean, default=False)
    second_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    """A wrong code after a right password (else a wrong password)."""


class MfaRow(Base):
    """An account's TOTP secret, sealed under the account-secrets key and bound to the user.

    ``enabled_at`` is None while the enrolment awaits its first code. ``last_step`` is
    the TOTP time step of the last code accepted: a code of that step or earlier is refused.
    """

    __tablename__ = "user_mfa"
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret_ct: Mapped[bytes] = mapped_column(LargeBinary)
    last_step: Mapped[int] = mapped_column(Integer, default=0)
    enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RecoveryCodeRow(Base):
    """One unused recovery code of an account: only its keyed hash; deleted when used."""

    __tablename__ = "recovery_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class SignInChallengeRow(Base):
    """A sign-in whose password was right and whose second factor is awaited.

    Only the SHA-256 of its cookie token is stored; it is no session and opens nothing
    but the code form, for a few minutes and a few wrong codes.
    """

    __tablename__ = "signin_challenges"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    failures: Mapped[int] = mapped_column(Integer, default=0)


class DialogueRow(Base):
    """A confidential dialogue. Title and agenda are sealed."""

    __tablename__ = "dialogues"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    title_ct: Mapped[bytes] = mapped_column(LargeBinary)
    agenda_ct: Mapped[bytes] = mapped_column(LargeBinary)
    evaluations_per_round: Mapped[int] = mapped_column(Integer, default=1)
    evaluations_per_dialogue: Mapped[int] = mapped_column(Integer)
    monotone_red_lines: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    mfa_required: Mapped[bool] = mapped_column(Boolean, default=False)
    """Every seat must use two-factor sign-in to open the dialogue."""
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    """Blind mode (fixed at creation): no position is stored; findings are computed by
    the delegations' and helpers' nodes (``blind_nodes``, ``blind_computations``)."""


class DialogueKeyRow(Base):
    """The dialogue's data key, wrapped by the KEK. Deleting it shreds the dialogue."""

    __tablename__ = "dialogue_keys"
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_next: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """The same key wrapped by the next KEK while a rotation runs (else NULL)."""


class DelegationRow(Base):
    """A side at the table, or an absent stakeholder whose public red lines must hold."""

    __tablename__ = "delegations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # delegation | absent
    name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    ordinal: Mapped[int] = mapped_column(Integer)


class MemberRow(Base):
    """A user's part in a dialogue: facilitator, delegation member or observer."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("dialogue_id", "user_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # facilitator | member | observer
    delegation_id: Mapped[str | None] = mapped_column(
        ForeignKey("delegations.id", ondelete="CASCADE"), nullable=True
    )
    track: Mapped[str | None] = mapped_column(String(32), nullable=True)
    pseudonym_ct: Mapped[bytes] = mapped_column(LargeBinary)


class InvitationRow(Base):
    """A one-time invitation link (only the SHA-256 of its token is stored)."""

    __tablename__ = "invitations"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    delegation_id: Mapped[str | None] = mapped_column(
        ForeignKey("delegations.id", ondelete="CASCADE"), nullable=True
    )
    track: Mapped[str | None] = mapped_column(String(32), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RoundRow(Base):
    """A round: ``draft -> locked -> evaluated -> disclosed``, moved only by the facilitator."""

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("dialogue_id", "number"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    evaluations_allowed: Mapped[int] = mapped_column(Integer)
    evaluations_used: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PositionRow(Base):
    """A delegation's sealed position in one round; ``revision`` counts its saves."""

    __tablename__ = "positions"
    __table_args__ = (UniqueConstraint("round_id", "delegation_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    delegation_id: Mapped[str] = mapped_column(ForeignKey("delegations.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EvaluationRow(Base):
    """One rationed evaluation of a locked round; the whole analysis, sealed.

    ``inputs_digest`` is a keyed digest of the case it read (None before schema 0003);
    ``inputs_ct`` the agenda and the sides it read, sealed (None before schema 0011).
    """

    __tablename__ = "evaluations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    result_ct: Mapped[bytes] = mapped_column(LargeBinary)
    inputs_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    inputs_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReleaseRow(Base):
    """A finding released to one delegation (or to the observers); the text is sealed."""

    __tablename__ = "releases"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(32))  # a delegation id, or "observers"
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    released_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntryRow(Base):
    """One entry of the hash-chained audit log (no private content, ids only)."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dialogue_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(64), nullable=True)
    audience: Mapped[str] = mapped_column(String(32))  # all | facilitator | <delegation id>
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


class CheckpointRow(Base):
    """A signed checkpoint: the head of the audit chain at a round transition of a dialogue,
    signed with the server's Ed25519 key, shown to the seats of its ``audience``."""

    __tablename__ = "checkpoints"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    audience: Mapped[str] = mapped_column(String(32))  # all | <delegation id> | observers
    round_number: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    head: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class RequestKeyRow(Base):
    """A write sent once: a page form's one-time token or an API ``Idempotency-Key``.

    ``key_hash`` is the SHA-256 of the account and the key (never the key itself). While
    the first request runs, ``status`` is None; once it succeeded, its answer (a page's
    redirect, an API body) is kept sealed under the account-secrets key, bound to the
    row, until the row expires (``services/once.py``).
    """

    __tablename__ = "request_keys"
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the method, the path and the body of the first request."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answer_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class TextRow(Base):
    """A single negotiating text; ``version`` is the number of its current version."""

    __tablename__ = "texts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    title_ct: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TextVersionRow(Base):
    """One version of a text: every clause (wording, agenda link, revision), sealed."""

    __tablename__ = "text_versions"
    __table_args__ = (UniqueConstraint("text_id", "number"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    text_id: Mapped[str] = mapped_column(ForeignKey("texts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TextResponseRow(Base):
    """A delegation's response to one clause revision (answer, wording, comment: sealed).

    Every response is kept; the one with the highest ``sequence`` of a (delegation,
    clause, revision) is the one that counts."""

    __tablename__ = "text_responses"
    __table_args__ = (UniqueConstraint("text_id", "delegation_id", "sequence"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    text_id: Mapped[str] = mapped_column(ForeignKey("texts.id", ondelete="CASCADE"))
    delegation_id: Mapped[str] = mapped_column(ForeignKey("delegations.id", ondelete="CASCADE"))
    clause_id: Mapped[str] = mapped_column(String(32))
    revision: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TextReleaseRow(Base):
    """One side's responses to one version, released to an audience (a delegation id or
    "observers"); the released answers and wordings, sealed (never the comments)."""

    __tablename__ = "text_releases"
    __table_args__ = (UniqueConstraint("text_id", "delegation_id", "version", "audience"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    text_id: Mapped[str] = mapped_column(ForeignKey("texts.id", ondelete="CASCADE"))
    delegation_id: Mapped[str] = mapped_column(ForeignKey("delegations.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(32))
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    released_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MeetingRow(Base):
    """A meeting of a dialogue: when (UTC and the IANA zone it was set in), its format and
    the sides taking part; place and agenda are sealed in ``details_ct``.

    ``sides`` lists the delegation ids taking part, space-separated (every delegation for
    a plenary, one for a caucus, two for a bilateral).
    """

    __tablename__ = "meetings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    zone: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))  # plenary | caucus | bilateral
    sides: Mapped[str] = mapped_column(String(200))
    round_id: Mapped[str | None] = mapped_column(
        ForeignKey("rounds.id", ondelete="SET NULL"), nullable=True
    )
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    details_ct: Mapped[bytes] = mapped_column(LargeBinary)


class AttendanceRow(Base):
    """One seat present at a meeting."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))


class MeetingRecordRow(Base):
    """One version of a meeting's shared record, sealed.

    The record is unattributed by construction: there is no column for who said what.
    """

    __tablename__ = "meeting_records"
    __table_args__ = (UniqueConstraint("meeting_id", "version"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RecordAnswerRow(Base):
    """A side's answer to one version of a shared record: ``confirmed`` or ``changes``
    (with a sealed comment to the facilitator)."""

    __tablename__ = "record_answers"
    __table_args__ = (UniqueConstraint("record_id", "delegation_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    record_id: Mapped[str] = mapped_column(ForeignKey("meeting_records.id", ondelete="CASCADE"))
    delegation_id: Mapped[str] = mapped_column(ForeignKey("delegations.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(16))  # confirmed | changes
    comment_ct: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MeetingNoteRow(Base):
    """A delegation's private notes of one meeting (they may name speakers), sealed; only
    that delegation's members ever read them."""

    __tablename__ = "meeting_notes"
    __table_args__ = (UniqueConstraint("meeting_id", "delegation_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    delegation_id: Mapped[str] = mapped_column(ForeignKey("delegations.id", ondelete="CASCADE"))
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NonPaperRow(Base):
    """A non-paper: a deniable, unattributed draft that expires.

    Its text is sealed under its **own** random data key (``body_sealed``, AES-256-GCM bound
    to the row), and that key is kept only sealed under the dialogue's key (``key_ct``). At
    expiry the whole row is deleted (``secure_delete`` overwrites it): without its key the
    text is gone, and the log keeps only that the non-paper existed.

    ``origin`` is ``facilitator`` (circulated to every side) or the id of the delegation that
    passed it to the facilitator (seen by the facilitator and that side only).
    """

    __tablename__ = "non_papers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    origin: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    key_ct: Mapped[bytes] = mapped_column(LargeBinary)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)


class EscalationModelRow(Base):
    """The facilitator's escalation model of a dialogue (a GMCR conflict), one per dialogue.

    The whole conflict file is sealed in ``body_ct``; ``revision`` counts its saves. Only
    the facilitator reads or writes it; what a side learns of it is released as findings
    (``releases``).
    """

    __tablename__ = "escalation_models"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True, unique=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=1)
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReadoutRow(Base):
    """A readout issued to one audience: the signed file, sealed.

    ``audience`` is a delegation id, ``observers`` or ``all``; ``body_ct`` holds, sealed
    under the dialogue's key, the signed file (base64) and the digest of the content the
    facilitator reviewed. ``fingerprint`` is the short SHA-256 of the file's signed bytes,
    which the facilitator gives the principals with the file.
    """

    __tablename__ = "readouts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    audience: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    format: Mapped[str] = mapped_column(String(8))
    page: Mapped[str] = mapped_column(String(8))
    fingerprint: Mapped[str] = mapped_column(String(32))
    issued_by: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)


class BlindNodeRow(Base):
    """A node of a blind dialogue: a delegation's own (one per delegation) or a helper's
    (``delegation_id`` None, ordered by ``ordinal``).

    Only the SHA-256 of its node token is stored (``token_hash``); the certificate, its
    fingerprint, the host, the port and a helper's label are sealed in ``body_ct``.
    """

    __tablename__ = "blind_nodes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    delegation_id: Mapped[str | None] = mapped_column(
        ForeignKey("delegations.id", ondelete="CASCADE"), nullable=True
    )
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BlindComputationRow(Base):
    """One finding the facilitator asked the nodes of a blind dialogue for, in a round.

    ``state`` is ``waiting`` (for every node to be ready), ``running``, ``opened`` or
    ``failed``; past ``deadline`` an unfinished one counts as failed. The parties, the
    links each delegation's node published, the results posted and the opened finding
    are sealed in ``body_ct``.
    """

    __tablename__ = "blind_computations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(
        ForeignKey("dialogues.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    finding: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
