"""The sign-in throttle's memory: failures per (account, source) and per account, and
their count in the audit log.

* **Per (account, source).** After ``login_failures_allowed`` failures within
  ``login_window_seconds``, that pair is refused (429) without its password being
  checked, until the window has passed. Other sources are not affected, so nobody can
  lock a user out from elsewhere.
* **Per account, from every source.** After :data:`BACKOFF_AFTER` failures within
  :data:`BACKOFF_WINDOW_S`, each attempt on the account waits :func:`backoff` seconds
  before its password is checked (growing, at most :data:`BACKOFF_MAX_S`), one attempt
  at a time (``web.gate`` does the waiting). The right password is delayed, never
  refused: an attacker with many addresses guesses slowly and locks nobody out.
* **Codes.** A wrong second-factor code (:mod:`~backchannel.services.mfa`) counts
  like a wrong password, in both; and the pair's failures are forgotten only when a
  sign-in is complete, so a right password does not reset the count of wrong codes.
* **The audit log** gets one ``signin.failed`` entry (``signin.code_failed`` for
  codes) per (account, source) and window
  of ``login_window_seconds``, with the count (``failures``), not one per failure:
  written once the window is over, by the next sign-in of anyone (a success writes its
  own pair's at once). The entry names the account's user id when the account exists,
  and the (account, source) pair only as a short keyed tag that follows it from window
  to window.

Names and addresses are stored only as keyed hashes (HMAC with the audit key), and the
failures are forgotten :data:`BACKOFF_WINDOW_S` after the audit log counted them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from backchannel.services.platform import Platform
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.tables import LoginFailureRow, as_utc, iso_utc

BACKOFF_AFTER = 20
"""Failures on one account, from all sources together, before its attempts wait."""
BACKOFF_WINDOW_S = 900
"""How far back those failures count (15 minutes)."""
BACKOFF_FIRST_S = 0.5
"""The wait at :data:`BACKOFF_AFTER` failures; it doubles every :data:`BACKOFF_DOUBLING`."""
BACKOFF_DOUBLING = 5
BACKOFF_MAX_S = 5.0
"""The longest wait: a sign-in under attack takes at most this much longer."""


def _keyed(platform: Platform, message: str) -> str:
    return hmac.new(platform.audit_key, message.encode(), hashlib.sha256).hexdigest()


def pair_key(platform: Platform, name: str, source: str) -> str:
    """The keyed hash of (account name, source) the per-pair throttle counts under."""
    return _keyed(platform, f"{name}\x00{source}")


def account_key(platform: Platform, name: str) -> str:
    """The keyed hash of an account name (existing or not) the back-off counts under."""
    return _keyed(platform, f"account\x00{name}")


def throttled(platform: Platform, s: Session, pair: str, now: datetime) -> bool:
    """Whether the pair used up its failures of the current window."""
    since = now - timedelta(seconds=platform.settings.login_window_seconds)
    return repo.count_failures(s, pair, since) >= platform.settings.login_failures_allowed


def backoff(s: Session, account: str, now: datetime) -> float:
    """Seconds every attempt on the account waits now (0 below :data:`BACKOFF_AFTER`)."""
    since = now - timedelta(seconds=BACKOFF_WINDOW_S)
    failures = repo.count_account_failures(s, account, since)
    if failures < BACKOFF_AFTER:
        return 0.0
    grown = BACKOFF_FIRST_S * 2 ** ((failures - BACKOFF_AFTER) / BACKOFF_DOUBLING)
    return float(min(BACKOFF_MAX_S, grown))


def record_failure(
    platform: Platform,
    s: Session,
    pair: str,
    account: str,
    user_id: str | None,
    now: datetime,
    *,
    second_factor: bool = False,
) -> None:
    """Remember a failed sign-in, or a wrong code with ``second_factor`` (inside the
    caller's unit); count finished windows."""
    row = LoginFailureRow(
        key=pair, account=account, user_id=user_id, at=now, second_factor=second_factor
    )
    repo.add(s, row)
    report_due(platform, s, now)


def forgive(platform: Platform, s: Session, pair: str, now: datetime) -> None:
    """After a success: count the pair's failures in the audit log now, and forget them."""
    _report(platform, s, repo.unreported_failures(s, now + timedelta(seconds=1), pair))
    repo.clear_failures(s, pair)
    report_due(platform, s, now)


def report_due(platform: Platform, s: Session, now: datetime) -> None:
    """Count every window that is over in the audit log; forget what is old enough."""
    window = platform.settings.login_window_seconds
    _report(platform, s, repo.unreported_failures(s, _window_start(now, window)))
    repo.prune_failures(s, now - timedelta(seconds=max(window, BACKOFF_WINDOW_S)))


def _window_start(moment: datetime, seconds: int) -> datetime:
    stamp = int(as_utc(moment).timestamp()) // seconds * seconds
    return datetime.fromtimestamp(stamp, UTC)


def _report(platform: Platform, s: Session, rows: Sequence[LoginFailureRow]) -> None:
    """One ``signin.failed`` (or ``signin.code_failed``) audit entry per (pair, window)
    of ``rows``; rows marked."""
    window = platform.settings.login_window_seconds
    groups: dict[tuple[str, datetime, bool], list[LoginFailureRow]] = defaultdict(list)
    for row in rows:
        groups[(row.key, _window_start(row.at, window), row.second_factor)].append(row)
    for (pair, start, codes), found in groups.items():
        user_id = next((r.user_id for r in found if r.user_id), None)
        platform.log(
            s,
            "signin.code_failed" if codes else "signin.failed",
            target=user_id,
            audience="operator",
            detail={
                "failures": len(found),
                "window_start": iso_utc(start),
                "window_seconds": window,
                "pair": _keyed(platform, f"tag\x00{pair}")[:8],
            },
        )
        for row in found:
            row.reported = True
