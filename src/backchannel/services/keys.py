"""Key rotation: a new key-encryption key (KEK) for every dialogue key, and new data keys.

**KEK rotation** (:func:`rotate_kek`) moves the database from one KEK to another (key
file to key file, key file to passphrase, passphrase to key file or passphrase) while
the server keeps running. It never leaves a state that neither key opens:

1. *start* (one transaction): the check value of the new KEK is stored as
   ``kek_next_check`` (with a new salt when the new KEK is a passphrase);
2. *re-wrap* (one transaction per dialogue key): each key is unwrapped with the old KEK
   and stored wrapped by the new one in ``wrapped_next``, beside the old wrapping;
3. *switch* (one transaction): the keys added meanwhile are re-wrapped, every
   ``wrapped_next`` becomes ``wrapped``, the audit MAC key is re-wrapped, and the new
   check value (and salt) replace the old.

Until the switch commits the database opens with the old KEK only (and says that the
new one belongs to a rotation under way); from then on with the new one only. Killed at
any point, running the same command again resumes where it stopped (a run after the
switch reports that the rotation is done). Reads never stop: dialogue keys do not
change, only their wrapping. The running server still holds the old KEK: restart it
with the new one once the command is done; until then it refuses to create a dialogue
(it could only wrap the new key with the old KEK).

**Data key rotation** (:func:`rotate_data_keys`) gives a dialogue a new data key and
re-seals every sealed field of the dialogue, in one transaction per dialogue.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from backchannel.config import Settings
from backchannel.errors import InputError, NotAllowedNow
from backchannel.messages import t_
from backchannel.services.platform import (
    ACCOUNT_KEY,
    AUDIT_KEY,
    KEK_CHECK,
    KEK_NEXT_CHECK,
    KEK_SALT,
    Platform,
)
from backchannel.storage import rekey, repo, serving
from backchannel.storage.tables import MetaRow
from backchannel.storage.vault import KeyFileError, Vault, derive_key, read_key_file

KEK_NEXT_SALT = "kek_next_salt"

Step = Callable[[int], None]
"""Called after each step's change, before its commit (and once after the switch), with
the step's number from 1: the crash tests kill the process there."""


@dataclass(frozen=True)
class NewKey:
    """The KEK to rotate to: a key file or a passphrase."""

    key_file: Path | None = None
    passphrase: str | None = None

    def vault(self, salt: bytes | None) -> Vault:
        """The vault of the new KEK (a passphrase needs the rotation's salt)."""
        if self.passphrase is not None:
            assert salt is not None
            return Vault(derive_key(self.passphrase, salt))
        assert self.key_file is not None
        return Vault(read_key_file(self.key_file))


@dataclass(frozen=True)
class Rotated:
    """What :func:`rotate_kek` did."""

    keys: int
    resumed: bool
    already_done: bool = False


def _no_step(_: int) -> None:
    return None


def _check_new(new: NewKey) -> None:
    if (new.key_file is None) == (new.passphrase is None):
        raise InputError(t_("give the new key as exactly one of a key file or a passphrase"))


def rotate_kek(settings: Settings, new: NewKey, on_step: Step = _no_step) -> Rotated:
    """Re-wrap every dialogue key (and the audit key) under a new KEK; resumable.

    Parameters
    ----------
    settings:
        The database and its current KEK (key file or passphrase).
    new:
        The KEK to move to.
    on_step:
        Called at each step (see :data:`Step`).

    Returns
    -------
    Rotated
        How many dialogue keys were re-wrapped, whether an interrupted rotation was
        resumed, and whether it had finished already.
    """
    _check_new(new)
    try:
        platform = Platform.open(settings)
    except KeyFileError:
        if _finished_with(settings, new):
            return Rotated(0, resumed=True, already_done=True)
        raise
    step = iter(range(1, 1_000_000_000))
    target, resumed = _start(platform, new, lambda: on_step(next(step)))
    ids = _pending(platform)
    for dialogue_id, version in ids:
        with platform.unit() as s:
            row = rekey.data_key_version(s, dialogue_id, version)
            if row is not None and row.wrapped_next is None:
                row.wrapped_next = target.wrap(platform.vault.unwrap(row.wrapped))
            on_step(next(step))
    count = _switch(platform, target, lambda: on_step(next(step)))
    on_step(next(step))
    return Rotated(count, resumed)


def _finished_with(settings: Settings, new: NewKey) -> bool:
    """Whether the database already opens with the new key (a rotation that finished)."""
    moved = settings.model_copy(
        update={
            "key_file": new.key_file or settings.key_file,
            "key_passphrase": new.passphrase,
            "signing_key_file": settings.signing_key_path,
        }
    )
    try:
        Platform.open(moved)
    except KeyFileError:
        return False
    return True


def _start(platform: Platform, new: NewKey, step: Callable[[], None]) -> tuple[Vault, bool]:
    """Record the rotation (or find the one under way, to the same key)."""
    with platform.unit() as s:
        check, salt = repo.meta(s, KEK_NEXT_CHECK), repo.meta(s, KEK_NEXT_SALT)
        if check is not None:
            target = new.vault(None if salt is None else salt.value)
            if not target.matches(check.value):
                raise KeyFileError(
                    t_("a rotation to another key-encryption key is under way"),
                    hint=t_("run `backchannel keys rotate` with that key to finish it"),
                )
            return target, True
        fresh = secrets.token_bytes(16) if new.passphrase is not None else None
        target = new.vault(fresh)
        if platform.vault.matches(target.check_value()):
            raise InputError(t_("the new key-encryption key is the current one"))
        repo.add(s, MetaRow(key=KEK_NEXT_CHECK, value=target.check_value()))
        if fresh is not None:
            repo.add(s, MetaRow(key=KEK_NEXT_SALT, value=fresh))
        platform.log(s, "keys.rotation_started", audience="operator")
        step()
    return target, False


def _pending(platform: Platform) -> list[tuple[str, int]]:
    with platform.view() as s:
        return [(r.dialogue_id, r.version) for r in rekey.data_keys(s) if r.wrapped_next is None]


def _switch(platform: Platform, target: Vault, step: Callable[[], None]) -> int:
    """The one transaction that moves the database to the new KEK."""
    with platform.unit() as s:
        check = rekey.meta_for_update(s, KEK_CHECK)  # new dialogues wait, then see the new key
        assert check is not None
        rows = rekey.data_keys(s)
        for row in rows:
            if row.wrapped_next is None:  # made while the rotation ran
                row.wrapped_next = target.wrap(platform.vault.unwrap(row.wrapped))
            row.wrapped, row.wrapped_next = row.wrapped_next, None
        audit_key = repo.meta(s, AUDIT_KEY)
        assert audit_key is not None
        audit_key.value = target.wrap(platform.audit_key)
        account_key = repo.meta(s, ACCOUNT_KEY)
        assert account_key is not None
        account_key.value = target.wrap(platform.account_key)
        pending = repo.meta(s, KEK_NEXT_CHECK)
        assert pending is not None
        check.value = pending.value
        repo.remove(s, pending)
        salt = repo.meta(s, KEK_NEXT_SALT)
        if salt is not None:
            old_salt = repo.meta(s, KEK_SALT)
            assert old_salt is not None
            old_salt.value = salt.value
            repo.remove(s, salt)
        platform.log(s, "keys.rotated", audience="operator", detail={"keys": len(rows)})
        step()
    platform.key_cache.forget()
    return len(rows)


def rotate_data_keys(platform: Platform, dialogue_ids: list[str] | None = None) -> int:
    """Give dialogues new data keys and re-seal all their fields (one transaction each).

    Refused (NotAllowedNow) while a server runs on the database: every server process
    keeps the data keys it opened in memory, and one that went on sealing new fields
    with a key this rotation drops would make them unreadable. The server is stopped,
    the rotation runs, the server is started again.

    Parameters
    ----------
    platform:
        The opened platform.
    dialogue_ids:
        The dialogues (all when None).

    Returns
    -------
    int
        How many dialogues got a new key.
    """
    with platform.view() as s:
        if repo.meta(s, KEK_NEXT_CHECK) is not None:
            raise NotAllowedNow(
                t_("a key-encryption key rotation is under way"),
                hint=t_("finish it with `backchannel keys rotate` first"),
            )
        known = rekey.dialogue_ids(s)
    chosen = known if dialogue_ids is None else dialogue_ids
    missing = sorted(set(chosen) - set(known))
    if missing:
        raise InputError(t_("no such dialogue: {ids}", ids=", ".join(missing)))
    try:
        with serving.alone(platform.engine):
            for dialogue_id in chosen:
                _rotate_data_key(platform, dialogue_id)
    except serving.ServerRunning:
        raise NotAllowedNow(
            t_(
                "a server is running on this database, and each of its processes keeps the "
                "data keys in memory"
            ),
            hint=t_("stop the server (every worker), run the rotation, then start it again"),
        ) from None
    return len(chosen)


def _rotate_data_key(platform: Platform, dialogue_id: str) -> None:
    """One dialogue: a new data key, every field re-sealed, the old key dropped."""
    with platform.unit() as s:
        old = platform.keys(s, dialogue_id)
        fresh = platform.add_data_key(s, dialogue_id, old.version + 1)
        fields = rekey.reseal_dialogue(s, dialogue_id, old.reseal_to(fresh))
        rekey.drop_data_keys_before(s, dialogue_id, fresh.version)
        platform.log(
            s,
            "keys.data_key_rotated",
            dialogue_id=dialogue_id,
            audience="operator",
            detail={"version": fresh.version, "fields": fields},
        )
    platform.key_cache.forget(dialogue_id)
