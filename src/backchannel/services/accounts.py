"""Accounts and sessions: sign-in, one-time passwords, revocable server-side sessions.

* Passwords are hashed with Argon2id; an unknown user name costs the same dummy verify
  as a wrong password and gets the same answer.
* Sign-in is throttled per (account, source), with a per-account back-off that delays
  and never refuses; failures are counted in the audit log per window
  (:mod:`~backchannel.services.throttle`), so nobody can lock others out.
* With two-factor sign-in on (:mod:`~backchannel.services.mfa`), a right password
  opens no session: it starts a :class:`Challenge` (its own cookie token, stored as
  SHA-256, good for :data:`CHALLENGE_MINUTES` and a few wrong codes) that only
  :func:`complete_sign_in` with a right code turns into a session. Wrong codes count
  in the throttle like wrong passwords, and the throttle forgets a pair's failures only
  once a sign-in is complete.
* A session token is 256 random bits; only its SHA-256 is stored. Sessions end at
  sign-out, after ``session_idle_minutes`` idle or ``session_absolute_hours`` in all,
  and all of a user's sessions end when the password changes or the user is
  deactivated. A session's CSRF token is derived from its token (:func:`csrf_of`), so
  nothing of it is stored: a copy of the database gives neither.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from backchannel import i18n
from backchannel.errors import (
    InputError,
    NotAllowedNow,
    SignInRequired,
    TooManyAttempts,
    WrongCredentials,
)
from backchannel.messages import t_
from backchannel.services import mfa, throttle
from backchannel.services.access import Actor
from backchannel.services.platform import Platform
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from backchannel.storage.tables import (
    MfaRow,
    SessionRow,
    SignInChallengeRow,
    UserRow,
    as_utc,
    utcnow,
)

GENERIC_FAILURE = t_("user name or password is wrong")
CHALLENGE_MINUTES = 5
"""How long a right password waits for its second factor."""


@dataclass(frozen=True)
class SignedIn:
    """A new session: the cookie token (shown once), its CSRF token and the actor.

    ``must_enrol``: the account must set up two-factor sign-in before anything else.
    """

    token: str
    csrf: str
    actor: Actor
    must_change_password: bool
    must_enrol: bool = False
    language: str | None = None
    """The language the account chose (none: the browser's)."""


@dataclass(frozen=True)
class Challenge:
    """A right password awaiting its second factor: the token of its own cookie."""

    token: str


@dataclass(frozen=True)
class Current:
    """The session behind a request."""

    actor: Actor
    csrf: str
    token_hash: str
    must_change_password: bool
    must_enrol: bool = False
    language: str | None = None
    """The language the account chose (none: the browser's)."""


CSRF_LABEL = b"backchannel csrf token v1"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def csrf_of(token: str) -> str:
    """The CSRF token of a session: HMAC-SHA256 of its token under a fixed label.

    Only who holds the session token can compute it; the database keeps only the
    token's SHA-256, from which it cannot be computed.
    """
    mac = hmac.new(CSRF_LABEL, token.encode("ascii", "replace"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def _open_session(s: Session, user_id: str, now: datetime) -> tuple[str, str]:
    """Store a new session of the user (inside the caller's unit); its token and CSRF token.

    The only place a session is created: 256 random bits, only the token's SHA-256 is
    stored, and the CSRF token is derived from the token.
    """
    token = secrets.token_urlsafe(32)
    repo.add(
        s,
        SessionRow(token_hash=_digest(token), user_id=user_id, created_at=now, last_seen_at=now),
    )
    return token, csrf_of(token)


def check_password_rules(password: str) -> None:
    """Length 12-128, no composition rules (ASVS); a clear message otherwise."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InputError(
            t_("a password needs {least} to {most} characters", least=MIN_LENGTH, most=MAX_LENGTH),
            hint=t_("a few unrelated words make a strong password"),
        )


def one_time_password() -> str:
    """A random one-time password, readable (about 100 bits)."""
    return "-".join(secrets.token_hex(3) for _ in range(4)) + secrets.token_hex(1)


def valid_username(username: str) -> str:
    """The user name as stored (trimmed, lower case); InputError when it is not valid."""
    name = username.strip().lower()
    if (
        not name
        or len(name) > 64
        or not name.replace("-", "").replace(".", "").replace("_", "").isalnum()
    ):
        raise InputError(
            t_("user name {name} is not valid", name=repr(name)),
            hint=t_("use letters, digits, '.', '-' or '_', at most 64 characters"),
        )
    return name


def add_user(
    platform: Platform,
    s: Session,
    username: str,
    display_name: str,
    password_hash: str,
    *,
    must_change_password: bool,
) -> UserRow:
    """Store a new account inside the caller's unit, with its audit entry.

    ``username`` comes from :func:`valid_username`; the name is checked free in the same
    transaction, so the account and whatever the caller does with it commit together.
    """
    if repo.user_by_name(s, username) is not None:
        raise NotAllowedNow(
            t_("user name {name} is taken", name=repr(username)), hint=t_("choose another")
        )
    user = UserRow(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=password_hash,
        must_change_password=must_change_password,
    )
    repo.add(s, user)
    platform.log(s, "user.created", target=user.id, audience="operator")
    return user


def create_user(
    platform: Platform, username: str, display_name: str, password: str | None = None
) -> tuple[UserRow, str]:
    """Create an account with a one-time password (returned once) unless one is given."""
    name = valid_username(username)
    secret = password or one_time_password()
    check_password_rules(secret)
    hashed = hash_password(secret, platform.settings.password_hash_memory_kib)  # no lock held
    with platform.unit() as s:
        user = add_user(
            platform, s, name, display_name, hashed, must_change_password=password is None
        )
    return user, secret


def set_active(platform: Platform, username: str, active: bool) -> None:
    """Deactivate (ending every session) or reactivate an account."""
    with platform.unit() as s:
        user = repo.user_by_name(s, username.strip().lower())
        if user is None:
            raise InputError(t_("no account named {name}", name=repr(username)))
        user.active = active
        if not active:
            repo.end_sessions(s, user.id)
        platform.log(
            s,
            "user.activated" if active else "user.deactivated",
            target=user.id,
            audience="operator",
        )


def reset_password(platform: Platform, username: str) -> str:
    """A new one-time password for an account (ends its sessions); returned once."""
    secret = one_time_password()
    hashed = hash_password(secret, platform.settings.password_hash_memory_kib)
    with platform.unit() as s:
        user = repo.user_by_name(s, username.strip().lower())
        if user is None:
            raise InputError(t_("no account named {name}", name=repr(username)))
        user.password_hash = hashed
        user.must_change_password = True
        repo.end_sessions(s, user.id)
        platform.log(s, "user.password_reset", target=user.id, audience="operator")
    return secret


def account_name(username: str) -> str:
    """A user name as sign-in looks it up (and as its throttle counts it)."""
    return username.strip().lower()[:MAX_LENGTH]


def sign_in_delay(platform: Platform, username: str, now: datetime | None = None) -> float:
    """Seconds a sign-in to this account waits before its password is checked (the
    per-account back-off of :mod:`~backchannel.services.throttle`; 0 when not under attack).

    The same for an account name that does not exist.
    """
    account = throttle.account_key(platform, account_name(username))
    with platform.view() as s:
        return throttle.backoff(s, account, now or utcnow())


def sign_in(
    platform: Platform, username: str, password: str, source: str, now: datetime | None = None
) -> SignedIn | Challenge:
    """Check the credentials and open a session (a :class:`Challenge` when the account
    uses two-factor sign-in); uniform failure for any wrong input.

    Throttled per (account, source) as :mod:`~backchannel.services.throttle` says; the
    check is a read, so a refused attempt writes nothing. A failure is recorded (and the
    finished windows counted in the audit log) in a unit committed before it is raised.
    """
    now = now or utcnow()
    settings = platform.settings
    name = account_name(username)
    pair = throttle.pair_key(platform, name, source)
    with platform.view() as s:
        if throttle.throttled(platform, s, pair, now):
            raise TooManyAttempts(
                t_("too many failed sign-ins; wait a minute and try again"),
                hint=t_(
                    "sign-in is paused for {seconds} s after {failures} failures",
                    seconds=settings.login_window_seconds,
                    failures=settings.login_failures_allowed,
                ),
            )
        user = repo.user_by_name(s, name)
    memory = settings.password_hash_memory_kib
    good = verify_password(user.password_hash if user else None, password[:MAX_LENGTH], memory)
    if not good or user is None or not user.active:
        account = throttle.account_key(platform, name)
        with platform.unit() as s:  # committed before the failure is raised
            throttle.record_failure(platform, s, pair, account, user.id if user else None, now)
        raise WrongCredentials(GENERIC_FAILURE)
    # a hash made with older parameters is replaced; the slow part outside the write lock
    rehashed = hash_password(password, memory) if needs_rehash(user.password_hash, memory) else None
    with platform.unit() as s:
        row = repo.get(s, UserRow, user.id)
        assert row is not None
        if rehashed is not None and row.password_hash == user.password_hash:
            row.password_hash = rehashed
        second = repo.get(s, MfaRow, row.id)
        if second is not None and second.enabled_at is not None:
            return Challenge(_open_challenge(s, row.id, now))
        must_enrol = mfa.must_enrol(platform, s, row)
        throttle.forgive(platform, s, pair, now)
        token, csrf = _open_session(s, row.id, now)
        platform.log(s, "signin", actor_id=row.id, audience="operator")
        actor = Actor(row.id, row.username, row.display_name)
        return SignedIn(token, csrf, actor, row.must_change_password, must_enrol)


def _open_challenge(s: Session, user_id: str, now: datetime) -> str:
    """Store a sign-in awaiting its code (inside the caller's unit); its cookie token."""
    repo.prune_challenges(s, now - timedelta(minutes=CHALLENGE_MINUTES))
    token = secrets.token_urlsafe(32)
    repo.add(s, SignInChallengeRow(token_hash=_digest(token), user_id=user_id, created_at=now))
    return token


def complete_sign_in(
    platform: Platform, token: str | None, code: str, source: str, now: datetime | None = None
) -> SignedIn:
    """The second step: a right code (or recovery code) turns a challenge into a session.

    SignInRequired when the challenge is missing, expired or spent (sign in again).
    A wrong code counts in the throttle like a wrong password, and
    ``login_failures_allowed`` wrong codes end the challenge. A recovery code ends the
    account's other sessions.
    """
    now = now or utcnow()
    settings = platform.settings
    digest = _digest(token or "")
    with platform.view() as s:
        challenge = repo.get(s, SignInChallengeRow, digest) if token else None
        user = repo.get(s, UserRow, challenge.user_id) if challenge else None
        if challenge is None or user is None or not user.active:
            raise SignInRequired()
        if now - as_utc(challenge.created_at) > timedelta(minutes=CHALLENGE_MINUTES):
            raise SignInRequired()
        pair = throttle.pair_key(platform, user.username, source)
        if throttle.throttled(platform, s, pair, now):
            raise TooManyAttempts(
                t_("too many failed sign-ins; wait a minute and try again"),
                hint=t_(
                    "sign-in is paused for {seconds} s after {failures} failures",
                    seconds=settings.login_window_seconds,
                    failures=settings.login_failures_allowed,
                ),
            )
    with platform.unit() as s:
        row = repo.get(s, SignInChallengeRow, digest)
        if row is None:
            raise SignInRequired()
        used = mfa.spend(platform, s, user.id, code, now)
        if used is not None:
            repo.remove(s, row)
            if used == "recovery code":
                repo.end_sessions(s, user.id)
                platform.log(s, "mfa.recovery_code_used", actor_id=user.id, audience="operator")
            throttle.forgive(platform, s, pair, now)
            session_token, csrf = _open_session(s, user.id, now)
            platform.log(s, "signin", actor_id=user.id, audience="operator")
            actor = Actor(user.id, user.username, user.display_name)
            return SignedIn(session_token, csrf, actor, user.must_change_password)
    with platform.unit() as s:  # committed before the failure is raised
        account = throttle.account_key(platform, user.username)
        throttle.record_failure(platform, s, pair, account, user.id, now, second_factor=True)
        row = repo.get(s, SignInChallengeRow, digest)
        if row is not None:
            row.failures += 1
            if row.failures >= settings.login_failures_allowed:
                repo.remove(s, row)
    raise InputError(mfa.WRONG_CODE)


@dataclass(frozen=True)
class Lookup:
    """What a session token stands for, read without writing.

    ``current`` is None when there is no live session. ``upkeep`` names the write the
    session still needs: ``"end"`` (a stale row to delete) or ``"touch"`` (refresh its
    ``last_seen_at``, at most every 30 s), or None. :func:`keep_up` does it.
    """

    current: Current | None
    digest: str
    upkeep: Literal["end", "touch"] | None
    now: datetime


def look_up(platform: Platform, token: str | None, now: datetime | None = None) -> Lookup:
    """Read the session behind a cookie token (one snapshot, no write)."""
    now = now or utcnow()
    if not token:
        return Lookup(None, "", None, now)
    settings = platform.settings
    digest = _digest(token)
    with platform.view() as s:
        row = repo.session_with_user(s, digest)
    if row is None:
        return Lookup(None, digest, None, now)
    seen = as_utc(row.last_seen_at)
    idle = now - seen > timedelta(minutes=settings.session_idle_minutes)
    old = now - as_utc(row.created_at) > timedelta(hours=settings.session_absolute_hours)
    if row.user_id is None or not row.active or idle or old:
        return Lookup(None, digest, "end", now)
    assert row.username is not None and row.display_name is not None
    found = Current(
        Actor(row.user_id, row.username, row.display_name),
        csrf_of(token),
        digest,
        bool(row.must_change_password),
        mfa.enrolment_required(
            platform,
            required=bool(row.mfa_required),
            enabled=row.mfa_enabled,
            facilitates=row.facilitates,
        ),
        row.language,
    )
    return Lookup(found, digest, "touch" if now - seen > timedelta(seconds=30) else None, now)


def keep_up(platform: Platform, lookup: Lookup) -> None:
    """The write a looked-up session needs: delete it when stale, refresh it when due."""
    if lookup.upkeep is None:
        return
    with platform.unit() as s:
        row = repo.get(s, SessionRow, lookup.digest)
        if row is None:
            return
        if lookup.upkeep == "end":
            repo.remove(s, row)
        else:
            row.last_seen_at = lookup.now


def current(platform: Platform, token: str | None, now: datetime | None = None) -> Current:
    """The live session for a cookie token; SignInRequired when absent, expired or revoked."""
    found = look_up(platform, token, now)
    keep_up(platform, found)
    if found.current is None:
        raise SignInRequired()
    return found.current


def set_language(platform: Platform, actor: Actor, language: str | None) -> None:
    """The language of the account's pages (``None``: the browser's); an InputError for a
    language Backchannel does not speak."""
    chosen = None if language is None else i18n.choose(language)
    with platform.unit() as s:
        user = repo.get(s, UserRow, actor.user_id)
        if user is not None:
            user.language = chosen


def sign_out(platform: Platform, token_hash: str) -> None:
    """End one session."""
    with platform.unit() as s:
        row = repo.get(s, SessionRow, token_hash)
        if row is not None:
            platform.log(s, "signout", actor_id=row.user_id, audience="operator")
            repo.remove(s, row)


def change_password(platform: Platform, actor: Actor, old: str, new: str) -> SignedIn:
    """Change the password (the old one must be right); every session ends, a new one opens."""
    check_password_rules(new)
    memory = platform.settings.password_hash_memory_kib
    with platform.view() as s:
        user = repo.get(s, UserRow, actor.user_id)
        stored = user.password_hash if user else None
    if stored is None or not verify_password(stored, old, memory):
        raise InputError(t_("the current password is wrong"))
    if old == new:
        raise InputError(t_("the new password must differ from the current one"))
    hashed = hash_password(new, memory)  # the slow part, outside the write lock
    with platform.unit() as s:
        user = repo.get(s, UserRow, actor.user_id)
        if user is None or user.password_hash != stored:
            raise InputError(t_("the password changed meanwhile"), hint=t_("sign in again"))
        user.password_hash = hashed
        user.must_change_password = False
        repo.end_sessions(s, user.id)
        token, csrf = _open_session(s, user.id, utcnow())
        platform.log(s, "user.password_changed", actor_id=user.id, audience="operator")
        must_enrol = mfa.must_enrol(platform, s, user)
    return SignedIn(token, csrf, actor, False, must_enrol)
