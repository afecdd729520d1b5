"""Writes that act once: a page form's one-time token and the API's ``Idempotency-Key``.

The web layer names a request by a key its sender chose (a random token that
``form_guard`` puts in each rendered form, or the ``Idempotency-Key`` header) and asks
:func:`claim` before acting:

* a key never seen (or whose first request was abandoned) is taken: the request acts,
  then :func:`complete` keeps its answer, or :func:`release` lets the key go when it
  failed, so that the corrected request can be sent again with it;
* a key seen before gives back the :class:`Earlier` request: its answer once it is
  done (replayed, never acted on again), and whether it was the same request.

Keys are scoped to the account that sent them and stored only as a hash; answers are
sealed under the account-secrets key (an API answer may hold an invitation link or
recovery codes). Everything is forgotten :data:`KEEP` after it was first sent.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from backchannel.services.platform import Platform
from backchannel.storage import repo
from backchannel.storage.tables import RequestKeyRow, as_utc, utcnow
from backchannel.storage.vault import Vault, account_data

KEEP = timedelta(hours=24)
"""How long a key is remembered (a repeat after that is a new request)."""
ABANDONED = timedelta(minutes=10)
"""A first request still unfinished after this long was cut off (its process ended):
its key may be taken again."""


@dataclass(frozen=True)
class Answer:
    """The answer of a request that succeeded: its status and body (a page's: the
    address it redirected to)."""

    status: int
    body: bytes


@dataclass(frozen=True)
class Earlier:
    """The request that took a key first: ``answer`` is None while it still runs;
    ``same`` tells whether it had the same method, address and body."""

    answer: Answer | None
    same: bool


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The SHA-256 that tells two requests apart (method, path with query, body)."""
    digest = hashlib.sha256(f"{method}\x00{path}\x00".encode())
    digest.update(body)
    return digest.hexdigest()


def _hash(user_id: str | None, key: str) -> str:
    return hashlib.sha256(f"{user_id or ''}\x00{key}".encode()).hexdigest()


def _aad(key_hash: str) -> bytes:
    return account_data("request_keys", "answer_ct", key_hash)


def claim(platform: Platform, user_id: str | None, key: str, print_: str) -> Earlier | None:
    """Take ``key`` for a request (None), or the :class:`Earlier` request that holds it.

    Parameters
    ----------
    platform:
        The running platform.
    user_id:
        The account sending the request (None before sign-in).
    key:
        The key the sender chose.
    print_:
        The request's :func:`fingerprint`.
    """
    now = utcnow()
    key_hash = _hash(user_id, key)
    with platform.unit() as s:
        repo.prune_request_keys(s, now - KEEP)
        row = repo.request_key_for_update(s, key_hash)
        if row is None:
            taken = RequestKeyRow(key_hash=key_hash, fingerprint=print_, created_at=now)
            return None if repo.add_request_key(s, taken) else Earlier(None, same=True)
        same = hmac.compare_digest(row.fingerprint, print_)
        if row.status is None and as_utc(row.created_at) < now - ABANDONED:
            row.fingerprint, row.created_at = print_, now
            return None
        if row.status is None or row.answer_ct is None:
            return Earlier(None, same)
        body = Vault.open(platform.account_key, _aad(key_hash), row.answer_ct)
        return Earlier(Answer(row.status, body), same)


def complete(platform: Platform, user_id: str | None, key: str, answer: Answer) -> None:
    """Keep the answer of the request that took ``key`` (it succeeded)."""
    key_hash = _hash(user_id, key)
    sealed = Vault.seal(platform.account_key, _aad(key_hash), answer.body)
    with platform.unit() as s:
        row = repo.request_key_for_update(s, key_hash)
        if row is not None:
            row.status, row.answer_ct = answer.status, sealed


def release(platform: Platform, user_id: str | None, key: str) -> None:
    """Let ``key`` go: its request failed and changed nothing."""
    with platform.unit() as s:
        row = repo.request_key_for_update(s, _hash(user_id, key))
        if row is not None and row.status is None:
            repo.remove(s, row)
