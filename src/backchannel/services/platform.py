"""The running platform: settings, database, keys; and each dialogue's sealing keys.

:meth:`Platform.open` is the one place that starts the storage: it refuses a database
whose files other users can read or that cannot be written, one with weak durability
settings, one whose schema is not at the code's migration head or that lost tables,
and a key-encryption key that is not the one the database was made with.

Write units of one process queue for SQLite's single write lock in arrival order
(:class:`~backchannel.storage.db.WriterQueue`). Unwrapped dialogue keys are kept in
memory by :class:`KeyCache`; see there for why that weakens nothing.

A caller may mark a block :meth:`Platform.read_only` (the web server does so when it
runs a read on its event loop): a write unit opened inside it raises at once instead
of making the whole server wait for SQLite's write lock.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backchannel.config import Settings
from backchannel.errors import BackchannelError, NotFound
from backchannel.messages import t_
from backchannel.model.disclosure import BLIND_FINDINGS
from backchannel.storage import audit, checkpoints, migrate, rekey, repo, serving
from backchannel.storage.checkpoints import Signer
from backchannel.storage.db import (
    Engine,
    Session,
    WriterQueue,
    absent_database,
    check_durability,
    make_engine,
    session_factory,
    sessionmaker,
    transaction,
    without_waiting,
)
from backchannel.storage.db import WriteWouldWait as WriteWouldWait  # noqa: PLC0414 (for the web)
from backchannel.storage.faults import (
    DamagedDatabase,
    check_files,
    check_writable,
    translated,
)
from backchannel.storage.tables import (
    AuditEntryRow,
    CheckpointRow,
    DialogueKeyRow,
    MetaRow,
    iso_utc,
)
from backchannel.storage.vault import (
    KeyFileError,
    Vault,
    associated_data,
    derive_key,
    init_key_file,
    read_key_file,
)

_READ_ONLY: ContextVar[bool] = ContextVar("backchannel_read_only", default=False)

KEK_CHECK = "kek_check"
KEK_SALT = "kek_salt"
KEK_NEXT_CHECK = "kek_next_check"
"""The check value of the KEK a rotation moves to, while it runs (see services/keys.py)."""
AUDIT_KEY = "audit_key"
"""The audit log's MAC key, wrapped by the KEK (so that it outlives a KEK rotation)."""
ACCOUNT_KEY = "account_key"
"""The key of account secrets (TOTP secrets, recovery-code hashes), wrapped by the KEK."""
CHECKPOINT_KEY = "checkpoint_key"
"""The public key that signs this database's checkpoints."""
CHECKPOINTED = frozenset(
    {"round.opened", "round.locked", "round.evaluated", "finding.released"}
    | {f"blind.{finding}" for finding in BLIND_FINDINGS}
)
"""The audit actions (round transitions: open, lock, evaluate or ask a blind dialogue's
nodes for a finding, disclose) after which the server signs the head of the chain."""
_QUEUED = "backchannel_audit_queue"
"""The key, in a write unit's ``Session.info``, of the audit entries it logged so far."""


class SchemaOutOfDate(BackchannelError):
    """The database schema is older than the code."""

    exit_code = 2


def load_kek(settings: Settings, salt: bytes | None) -> bytes:
    """The key-encryption key from the passphrase (with the database's salt) or the key file."""
    if settings.key_passphrase is not None:
        if salt is None:
            raise SchemaOutOfDate(
                t_("the database has no key salt"),
                hint=t_("run {command}", command="`backchannel db upgrade`"),
            )
        return derive_key(settings.key_passphrase, salt)
    return read_key_file(Path(settings.key_file))


def create_key_file(settings: Settings, *, if_missing: bool = False) -> bool:
    """Write a new random key-encryption key to the settings' key file (mode 0600).

    Parameters
    ----------
    settings:
        Where the key file goes (``key_file``).
    if_missing:
        Do nothing when the file exists (else that is a ``KeyFileError``: a key file is
        never overwritten). Something else at the path (a folder) is an error anyway.

    Returns
    -------
    bool
        Whether a new key file was written.
    """
    path = Path(settings.key_file)
    if if_missing and path.is_file():
        return False
    init_key_file(path)
    return True


class KeyCache:
    """The unwrapped data keys of recently used dialogues, in this process's memory.

    Unwrapping a key is cheap; the query that finds the wrapped key is not, and nearly
    every request made it. Keeping the unwrapped key in memory exposes nothing new:
    the running server holds the KEK, unwraps these keys and sees the plaintext of
    every field it opens anyway (SECURITY.md: the operator with live root learns what
    the running server processes). Nothing of it is written anywhere.

    Entries are keyed by dialogue id and every entry carries that id, which is also
    part of every field's associated data, so a key can never open another dialogue's
    fields. A dialogue's key row is written once, when the dialogue is created, and
    never changed; code that ever replaces or deletes one (rotation, re-wrapping under
    a new KEK, deleting a dialogue) must call :meth:`forget` in the same change, and
    restart the other server processes, whose caches it cannot reach.
    """

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._keys: OrderedDict[str, DialogueKeys] = OrderedDict()

    def get(self, dialogue_id: str) -> DialogueKeys | None:
        """The cached keys of a dialogue, if any."""
        with self._lock:
            found = self._keys.get(dialogue_id)
            if found is not None:
                self._keys.move_to_end(dialogue_id)
            return found

    def put(self, keys: DialogueKeys) -> None:
        """Remember a dialogue's keys (the least recently used go when it is full)."""
        with self._lock:
            self._keys[keys.dialogue_id] = keys
            self._keys.move_to_end(keys.dialogue_id)
            while len(self._keys) > self.size:
                self._keys.popitem(last=False)

    def forget(self, dialogue_id: str | None = None) -> None:
        """Drop one dialogue's keys (all of them when ``dialogue_id`` is None)."""
        with self._lock:
            if dialogue_id is None:
                self._keys.clear()
            else:
                self._keys.pop(dialogue_id, None)

    def __contains__(self, dialogue_id: object) -> bool:
        with self._lock:
            return dialogue_id in self._keys


@dataclass
class Platform:
    """Everything a service needs: settings, sessions and the vault."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]
    vault: Vault
    audit_key: bytes = field(repr=False)
    account_key: bytes = field(repr=False)
    signer: Signer
    writers: WriterQueue | None = None
    key_cache: KeyCache = field(default_factory=KeyCache)

    @classmethod
    def open(cls, settings: Settings, *, upgrade: bool = False) -> Platform:
        """Open the storage, checking file modes, durability, that it can be written, the
        schema and the key; optionally migrate first.

        Without ``upgrade`` an SQLite file that does not exist is refused before anything is
        created (a mistyped ``--database`` must not leave an empty database behind).
        """
        missing_file = None if upgrade else absent_database(settings.database_url)
        if missing_file is not None:
            raise SchemaOutOfDate(
                t_("there is no database at {path}", path=str(missing_file)),
                hint=t_(
                    "check --database (or BACKCHANNEL_DATABASE_URL); "
                    "to make a new one, run {command}",
                    command="`backchannel db upgrade`",
                ),
            )
        engine = make_engine(settings.database_url)
        check_files(engine.url)
        with translated(engine):
            check_durability(engine)
            check_writable(engine)
            if upgrade:
                migrate.upgrade(engine)
            if migrate.current(engine) != migrate.head():
                raise SchemaOutOfDate(
                    t_("the database schema is not up to date"),
                    hint=t_("run {command}", command="`backchannel db upgrade`"),
                )
            missing = migrate.missing_tables(engine)
        if missing:
            raise DamagedDatabase(
                t_("the database has lost tables: {tables}", tables=", ".join(missing)),
                hint=t_("restore it from a backup"),
            )
        factory = session_factory(engine)
        with transaction(factory) as s:
            salt = repo.meta(s, KEK_SALT)
            if salt is None:
                salt = MetaRow(key=KEK_SALT, value=secrets.token_bytes(16))
                repo.add(s, salt)
            vault = Vault(load_kek(settings, salt.value))
            check = repo.meta(s, KEK_CHECK)
            if check is None:  # a new database: recognise its key
                repo.add(s, MetaRow(key=KEK_CHECK, value=vault.check_value()))
            elif not vault.matches(check.value):
                raise _wrong_kek(s, vault)
            audit_key = _audit_key(s, vault)
            account_key = _account_key(s, vault)
            signer = _signer(s, settings)
            if check is None:  # ... and start its log
                audit.append(s, audit_key, "storage.initialised", audience="operator")
        reader = make_engine(settings.database_url, reader=True) if settings.is_sqlite else engine
        writers = WriterQueue() if settings.is_sqlite else None  # PostgreSQL locks rows
        readers = session_factory(reader)
        return cls(
            settings,
            engine,
            factory,
            readers,
            vault,
            audit_key,
            account_key,
            signer,
            writers,
        )

    def hold_serving(self) -> serving.ServingLock:
        """Mark this process as serving the database until the lock is released (a
        shared lock: operations that must not run beside a server refuse meanwhile)."""
        return serving.hold(self.engine)

    def close(self) -> None:
        """Close every database connection of this platform (the writer's and the reader's)."""
        reader = self.readers.kw.get("bind", self.engine)
        for engine in {id(e): e for e in (self.engine, reader)}.values():
            engine.dispose()

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """One write transaction: every change and its audit entries commit together.

        The entries :meth:`log` queued are appended when the block ends, just before the
        commit: the chain's head is locked only from there to the commit, so concurrent
        writers (PostgreSQL) wait for each other only that long, not for their whole work.
        On SQLite the unit first waits for the writers of this process that came before
        it (in order, see :class:`~backchannel.storage.db.WriterQueue`), so do the slow
        work (decrypting, checking, hashing) before entering it. Inside a
        :meth:`read_only` block it raises ``RuntimeError``: that is a programming error.
        """
        if _READ_ONLY.get():
            raise RuntimeError("a write unit was opened inside a read-only call")
        with transaction(self.sessions, self.writers) as s:
            yield s
            self._append_queued(s)

    @contextmanager
    def view(self) -> Iterator[Session]:
        """One read-only snapshot (runs beside writers; never write in it)."""
        with transaction(self.readers) as s:
            yield s

    @contextmanager
    def read_only(self) -> Iterator[None]:
        """A block that may only read: :meth:`unit` raises inside it."""
        token = _READ_ONLY.set(True)
        try:
            yield
        finally:
            _READ_ONLY.reset(token)

    @contextmanager
    def without_waiting(self) -> Iterator[None]:
        """A block whose first write unit must not wait for another writer: if one holds
        the database, it raises :class:`WriteWouldWait` before anything is written, and the
        caller runs the call again where it may wait. Later units of the block wait as
        usual, so a retry never repeats a committed unit. Only SQLite queues writers."""
        with without_waiting():
            yield

    def log(self, s: Session, action: str, **fields: Any) -> None:
        """Log an action of the current write unit: its audit entry is appended, in the
        order logged, when the unit ends (see :meth:`unit`) and commits with it, or not
        at all if the unit fails."""
        s.info.setdefault(_QUEUED, []).append((action, fields))

    def _append_queued(self, s: Session) -> None:
        """Append the unit's queued entries to the chain (its other changes are flushed
        first, outside the head's lock); after a round transition (:data:`CHECKPOINTED`)
        sign the chain's new head for the entry's audience."""
        queued = s.info.pop(_QUEUED, [])
        if not queued:
            return
        s.flush()
        for action, fields in queued:
            entry = audit.append(s, self.audit_key, action, **fields)
            if action in CHECKPOINTED and entry.dialogue_id is not None:
                self._checkpoint(s, entry)

    def _checkpoint(self, s: Session, entry: AuditEntryRow) -> None:
        row = CheckpointRow(
            dialogue_id=entry.dialogue_id,
            audience=entry.audience,
            round_number=int(json.loads(entry.detail)["round"]),
            event=entry.action,
            seq=entry.seq,
            head=entry.hash,
            at=entry.at,
        )
        row.signature = self.signer.sign(checkpoint_fields(self.signer.public, row))
        repo.add(s, row)

    def keys(self, s: Session, dialogue_id: str) -> DialogueKeys:
        """The sealing keys of one dialogue (from :class:`KeyCache` after the first use).

        Callers check the seat first: this answers for any dialogue id.
        """
        found = self.key_cache.get(dialogue_id)
        if found is not None:
            return found
        row = repo.data_key(s, dialogue_id)
        if row is None:
            raise NotFound()
        found = DialogueKeys(dialogue_id, row.version, self.vault.unwrap(row.wrapped))
        self.key_cache.put(found)
        return found

    def new_keys(self, s: Session, dialogue_id: str) -> DialogueKeys:
        """Create and store (wrapped) a new dialogue's data key."""
        return self.add_data_key(s, dialogue_id, 1)

    def add_data_key(self, s: Session, dialogue_id: str, version: int) -> DialogueKeys:
        """Store a new data key of a dialogue, wrapped by the KEK.

        The KEK's check value is read locked first: a server still running with a KEK
        that was rotated away refuses (it would wrap the key with the old KEK), and a
        rotation's switch waits for this transaction (or this one for the switch).
        """
        check = rekey.meta_for_update(s, KEK_CHECK)
        if check is None or not self.vault.matches(check.value):
            raise KeyFileError(
                t_("the key-encryption key was rotated since this server started"),
                hint=t_("restart the server with the new key"),
            )
        dek, wrapped = self.vault.new_data_key()
        repo.add(s, DialogueKeyRow(dialogue_id=dialogue_id, version=version, wrapped=wrapped))
        return DialogueKeys(dialogue_id, version, dek)


def checkpoint_fields(public: bytes, row: CheckpointRow) -> dict[str, Any]:
    """The signed fields of a stored checkpoint (format v2: no sequence number)."""
    return {
        "format": checkpoints.FORMAT,
        "key": checkpoints.public_text(public),
        "dialogue": row.dialogue_id,
        "round": row.round_number,
        "event": row.event,
        "head": row.head,
        "at": iso_utc(row.at),
    }


def stored_checkpoint(public: bytes, row: CheckpointRow) -> dict[str, Any]:
    """A stored checkpoint as its signature covers it: v2, or v1 (with the entry's
    ``seq``) for one signed before v2."""
    fields = checkpoint_fields(public, row)
    if checkpoints.signature_holds(fields, row.signature):
        return fields
    return {**fields, "format": checkpoints.FORMAT_V1, "seq": row.seq}


def _wrong_kek(s: Session, vault: Vault) -> KeyFileError:
    """The error for a KEK that does not open the database (it may be a rotation's next)."""
    pending = repo.meta(s, KEK_NEXT_CHECK)
    if pending is not None and vault.matches(pending.value):
        return KeyFileError(
            "this is the key a rotation is moving to, and the rotation has not finished",
            hint="start with the old key, or finish the rotation with `backchannel keys rotate`",
        )
    return KeyFileError(
        "the key-encryption key does not match this database",
        hint="start with the key file (or passphrase) the database was made with",
    )


def _audit_key(s: Session, vault: Vault) -> bytes:
    """The audit MAC key, kept wrapped by the KEK in the database.

    A database made before the key was stored used the key derived from its KEK: that
    key is stored, wrapped, on the first start, so the existing chain keeps verifying
    and a later KEK rotation only re-wraps it.
    """
    row = repo.meta(s, AUDIT_KEY)
    if row is None:
        key = vault.audit_key()
        repo.add(s, MetaRow(key=AUDIT_KEY, value=vault.wrap(key)))
        return key
    return vault.unwrap(row.value)


def _account_key(s: Session, vault: Vault) -> bytes:
    """The key of account secrets: random, made on first start, kept wrapped by the KEK.

    Accounts belong to no dialogue, so no dialogue key can serve. Wrapped rather than
    derived from the KEK, a KEK rotation re-wraps it and every sealed secret and keyed
    hash stays as it is.
    """
    row = repo.meta(s, ACCOUNT_KEY)
    if row is None:
        key = secrets.token_bytes(32)
        repo.add(s, MetaRow(key=ACCOUNT_KEY, value=vault.wrap(key)))
        return key
    return vault.unwrap(row.value)


def _signer(s: Session, settings: Settings) -> Signer:
    """The checkpoint signing key, recorded in the database on first use."""
    recorded = repo.meta(s, CHECKPOINT_KEY)
    signer = checkpoints.load_signer(
        settings.signing_key_path, None if recorded is None else recorded.value
    )
    if recorded is None:
        repo.add(s, MetaRow(key=CHECKPOINT_KEY, value=signer.public))
    return signer


@dataclass(frozen=True)
class DialogueKeys:
    """Seal and open the private fields of one dialogue, each bound to its row."""

    dialogue_id: str
    version: int
    dek: bytes = field(repr=False)

    def _aad(self, table: str, column: str, row_id: str) -> bytes:
        return associated_data(table, column, row_id, self.dialogue_id, self.version)

    def seal(self, table: str, column: str, row_id: str, value: Any) -> bytes:
        """Seal a JSON-serialisable value for ``table.column`` of row ``row_id``."""
        data = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return Vault.seal(self.dek, self._aad(table, column, row_id), data)

    def open(self, table: str, column: str, row_id: str, blob: bytes) -> Any:
        """Open a value sealed by :meth:`seal` for the same place."""
        return json.loads(Vault.open(self.dek, self._aad(table, column, row_id), blob))

    def reseal_to(self, fresh: DialogueKeys) -> Callable[[str, str, str, bytes], bytes]:
        """A function that opens a field sealed under these keys and seals it under
        ``fresh`` (a data key rotation), for the same place."""

        def reseal(table: str, column: str, row_id: str, blob: bytes) -> bytes:
            plain = Vault.open(self.dek, self._aad(table, column, row_id), blob)
            return Vault.seal(fresh.dek, fresh._aad(table, column, row_id), plain)

        return reseal
