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
    ``inputs_ct`` the agenda and the sides it read, sealed (None before schema 0009).
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
