"""Two-factor sign-in: TOTP codes (RFC 6238), recovery codes, and who must use them.

* **The secret** is 160 random bits (the RFC 4226 recommendation), shown once as text
  and as a QR code of its ``otpauth://`` URI while the account enrols. It is stored only
  sealed with AES-256-GCM under the account-secrets key (random, kept wrapped by the
  KEK: ``Platform.account_key``, re-wrapped by a KEK rotation) and bound to its user, so
  a copy of the database, or a secret moved to another account, gives nothing.
* **A code** (6 digits, 30 s steps, HMAC-SHA1: what authenticator apps use) is accepted
  for the step before, at or after the server's (the RFC's allowance for clock drift and
  typing time) and only for a step *after* the last one accepted: a code that worked
  once never works again, nor does an older one.
* **Recovery codes**: ten, of 60 random bits each, shown once. Stored as HMAC-SHA256
  under the account-secrets key, not with Argon2: a code is random, so guessing it takes
  2^59 tries on average whatever the hash costs, and with a key that is never stored a
  copy of the database cannot even check a guess. Each works once (it is deleted).
* **Who must use it**: an account the operator named (``users require-mfa``), every
  account or every facilitator (``BACKCHANNEL_REQUIRE_MFA_FOR``), and every seat of a
  dialogue that requires it (:func:`~backchannel.services.access.seat`).

Wrong codes count in the sign-in throttle like wrong passwords
(:mod:`~backchannel.services.throttle`); turning two-factor sign-in on or off, and
signing in with a recovery code, end the account's other sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pyotp

from backchannel.errors import InputError, NotAllowedNow, TooManyAttempts
from backchannel.messages import Message, t_
from backchannel.services import throttle
from backchannel.services.access import Actor
from backchannel.services.platform import Platform
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.passwords import verify_password
from backchannel.storage.tables import MfaRow, RecoveryCodeRow, UserRow, utcnow
from backchannel.storage.vault import Vault, account_data

ISSUER = "Backchannel"
STEP_S = 30
DIGITS = 6
DRIFT_STEPS = 1
"""Steps a code may be off the server's clock, either way."""
RECOVERY_CODES = 10
WRONG_CODE = t_("the code is wrong")
WRONG_PASSWORD_OR_CODE = t_("the password or the code is wrong")

Used = Literal["code", "recovery code"]


@dataclass(frozen=True)
class Enrolment:
    """A secret awaiting its first code: as text and as the URI a QR code carries."""

    secret: str = ""
    uri: str = ""


@dataclass(frozen=True)
class Status:
    """An account's two-factor sign-in as its page shows it."""

    enabled: bool
    required: bool
    recovery_codes_left: int
    pending: Enrolment | None


# ------------------------------------------------------------------ codes
def code_at(secret: str, step: int) -> str:
    """The TOTP code of time step ``step`` (RFC 6238 with T0 = 0, X = 30 s)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).generate_otp(step)


def step_of(moment: datetime) -> int:
    """The TOTP time step of a moment."""
    return int(moment.timestamp()) // STEP_S


def normal(code: str) -> str:
    """A typed code without spaces or dashes, in lower case."""
    return "".join(code.split()).replace("-", "").lower()[:64]


def matching_step(secret: str, code: str, now: datetime, last_step: int) -> int | None:
    """The step of ``code`` among those allowed now and after ``last_step``; None if none."""
    code = normal(code)
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    current = step_of(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if step > last_step and hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten fresh recovery codes, ``xxxx-xxxx-xxxx`` (60 bits each, base32)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        text = base64.b32encode(secrets.token_bytes(8)).decode("ascii").lower()[:12]
        codes.append("-".join(text[i : i + 4] for i in range(0, 12, 4)))
    return codes


def recovery_hash(platform: Platform, user_id: str, code: str) -> str:
    """The keyed hash a recovery code is stored as (bound to its user)."""
    message = f"recovery code\x00{user_id}\x00{normal(code)}".encode()
    return hmac.new(platform.account_key, message, hashlib.sha256).hexdigest()


def _seal(platform: Platform, user_id: str, secret: str) -> bytes:
    aad = account_data("user_mfa", "secret", user_id)
    return Vault.seal(platform.account_key, aad, secret.encode("ascii"))


def _open(platform: Platform, row: MfaRow) -> str:
    aad = account_data("user_mfa", "secret", row.user_id)
    return Vault.open(platform.account_key, aad, row.secret_ct).decode("ascii")


def _enrolment(secret: str, username: str) -> Enrolment:
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    return Enrolment(secret, totp.provisioning_uri(name=username, issuer_name=ISSUER))


def spend(platform: Platform, s: Session, user_id: str, code: str, now: datetime) -> Used | None:
    """Use a code of an enrolled account inside the caller's unit: a TOTP code moves the
    account's last step on, a recovery code is deleted. None when it is neither."""
    row = repo.mfa_for_update(s, user_id)
    if row is None or row.enabled_at is None:
        return None
    step = matching_step(_open(platform, row), code, now, row.last_step)
    if step is not None:
        row.last_step = step
        return "code"
    found = repo.get(s, RecoveryCodeRow, recovery_hash(platform, user_id, code))
    if found is None or found.user_id != user_id:
        return None
    repo.remove(s, found)
    return "recovery code"


def _replace_codes(platform: Platform, s: Session, user_id: str) -> list[str]:
    repo.clear_recovery_codes(s, user_id)
    codes = new_recovery_codes()
    for code in codes:
        repo.add(
            s, RecoveryCodeRow(code_hash=recovery_hash(platform, user_id, code), user_id=user_id)
        )
    return codes


# ------------------------------------------------------------------ who must use it
def wanted(platform: Platform, *, required: bool, facilitates: bool) -> bool:
    """Whether an account must use two-factor sign-in: named by the operator, or under
    ``require_mfa_for``."""
    policy = platform.settings.require_mfa_for
    return required or policy == "everyone" or (policy == "facilitators" and facilitates)


def enrolment_required(
    platform: Platform, *, required: bool, enabled: bool, facilitates: bool
) -> bool:
    """Whether an account must set up two-factor sign-in before anything else."""
    return not enabled and wanted(platform, required=required, facilitates=facilitates)


def must_enrol(platform: Platform, s: Session, user: UserRow) -> bool:
    """:func:`enrolment_required` for an account, read in ``s``."""
    row = repo.get(s, MfaRow, user.id)
    return enrolment_required(
        platform,
        required=user.mfa_required,
        enabled=row is not None and row.enabled_at is not None,
        facilitates=repo.facilitates(s, user.id),
    )


# ------------------------------------------------------------------ the account's own steps
def status(platform: Platform, actor: Actor) -> Status:
    """Whether the account has two-factor sign-in on, must, and its set-up under way."""
    with platform.view() as s:
        user = repo.get(s, UserRow, actor.user_id)
        assert user is not None
        row = repo.get(s, MfaRow, actor.user_id)
        enabled = row is not None and row.enabled_at is not None
        pending = None
        if row is not None and not enabled:
            pending = _enrolment(_open(platform, row), user.username)
        required = wanted(
            platform, required=user.mfa_required, facilitates=repo.facilitates(s, user.id)
        )
        return Status(enabled, required, repo.recovery_code_count(s, actor.user_id), pending)


def begin(platform: Platform, actor: Actor) -> Enrolment:
    """Start (or restart) the set-up: a new secret, on once :func:`confirm` sees a code."""
    secret = pyotp.random_base32()
    with platform.unit() as s:
        row = repo.get(s, MfaRow, actor.user_id)
        if row is not None and row.enabled_at is not None:
            raise NotAllowedNow(
                t_("two-factor sign-in is already on"),
                hint=t_("turn it off first to set up a new device"),
            )
        sealed = _seal(platform, actor.user_id, secret)
        if row is None:
            repo.add(s, MfaRow(user_id=actor.user_id, secret_ct=sealed, last_step=0))
        else:
            row.secret_ct, row.last_step = sealed, 0
    return _enrolment(secret, actor.username)


def confirm(
    platform: Platform, actor: Actor, session_hash: str, code: str, now: datetime | None = None
) -> list[str]:
    """Turn two-factor sign-in on with a first code; the recovery codes (shown once).

    The account's other sessions end: they were opened without the second factor.
    """
    now = now or utcnow()
    with platform.unit() as s:
        row = repo.mfa_for_update(s, actor.user_id)
        if row is None or row.enabled_at is not None:
            raise NotAllowedNow(
                t_("no set-up of two-factor sign-in is under way"), hint=t_("start it again")
            )
        step = matching_step(_open(platform, row), code, now, row.last_step)
        if step is None:
            raise InputError(
                WRONG_CODE, hint=t_("type the code your app shows now; check the device's clock")
            )
        row.enabled_at, row.last_step = now, step
        codes = _replace_codes(platform, s, actor.user_id)
        repo.end_sessions(s, actor.user_id, keep=session_hash)
        platform.log(s, "mfa.enabled", actor_id=actor.user_id, audience="operator")
    return codes


def _checked(
    platform: Platform, actor: Actor, code: str, source: str, now: datetime
) -> tuple[str, str]:
    """The throttle's keys for a code typed in a session; NotAllowedNow when the account
    has no two-factor sign-in, TooManyAttempts when paused."""
    pair = throttle.pair_key(platform, actor.username, source)
    with platform.view() as s:
        row = repo.get(s, MfaRow, actor.user_id)
        if row is None or row.enabled_at is None:
            raise NotAllowedNow(t_("two-factor sign-in is not on"), hint=t_("set it up first"))
        if throttle.throttled(platform, s, pair, now):
            raise TooManyAttempts(t_("too many wrong codes; wait a minute and try again"))
    return pair, throttle.account_key(platform, actor.username)


def _refuse(
    platform: Platform, actor: Actor, keys: tuple[str, str], now: datetime, what: Message
) -> InputError:
    """Record a wrong code (or password) in the throttle, committed; the error to raise."""
    with platform.unit() as s:
        throttle.record_failure(
            platform, s, keys[0], keys[1], actor.user_id, now, second_factor=True
        )
    return InputError(what)


def replace_recovery_codes(
    platform: Platform, actor: Actor, code: str, source: str, now: datetime | None = None
) -> list[str]:
    """New recovery codes for a current code (the old ones stop working); shown once."""
    now = now or utcnow()
    keys = _checked(platform, actor, code, source, now)
    with platform.unit() as s:
        used = spend(platform, s, actor.user_id, code, now)
        if used == "code":
            codes = _replace_codes(platform, s, actor.user_id)
            platform.log(
                s, "mfa.recovery_codes_replaced", actor_id=actor.user_id, audience="operator"
            )
            return codes
    raise _refuse(platform, actor, keys, now, WRONG_CODE)


def disable(
    platform: Platform,
    actor: Actor,
    session_hash: str,
    password: str,
    code: str,
    source: str,
    now: datetime | None = None,
) -> None:
    """Turn two-factor sign-in off: the password and a code (or a recovery code) needed.

    The account's other sessions end.
    """
    now = now or utcnow()
    keys = _checked(platform, actor, code, source, now)
    memory = platform.settings.password_hash_memory_kib
    with platform.view() as s:
        user = repo.get(s, UserRow, actor.user_id)
        stored = user.password_hash if user else None
    if stored is None or not verify_password(stored, password, memory):
        raise _refuse(platform, actor, keys, now, WRONG_PASSWORD_OR_CODE)
    with platform.unit() as s:
        if spend(platform, s, actor.user_id, code, now) is not None:
            repo.clear_mfa(s, actor.user_id)
            repo.end_sessions(s, actor.user_id, keep=session_hash)
            platform.log(s, "mfa.disabled", actor_id=actor.user_id, audience="operator")
            return
    raise _refuse(platform, actor, keys, now, WRONG_PASSWORD_OR_CODE)


# ------------------------------------------------------------------ the operator's steps
def _account(s: Session, username: str) -> UserRow:
    user = repo.user_by_name(s, username.strip().lower())
    if user is None:
        raise InputError(t_("no account named {name}", name=repr(username)))

    return user


def reset(platform: Platform, username: str) -> None:
    """Turn an account's two-factor sign-in off (a lost device); its sessions end.

    The account signs in with its password alone and, when it is still required to,
    sets up a new device at once.
    """
    with platform.unit() as s:
        user = _account(s, username)
        repo.clear_mfa(s, user.id)
        repo.end_sessions(s, user.id)
        platform.log(s, "mfa.reset", target=user.id, audience="operator")


def require(platform: Platform, username: str, required: bool = True) -> None:
    """Require two-factor sign-in of an account (or no longer, beyond the settings)."""
    with platform.unit() as s:
        user = _account(s, username)
        user.mfa_required = required
        action = "user.mfa_required" if required else "user.mfa_not_required"
        platform.log(s, action, target=user.id, audience="operator")
