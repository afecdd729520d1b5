"""Encrypted backups: create one while the server runs, verify it, restore it elsewhere.

A backup is a consistent snapshot of the database (:mod:`backchannel.storage.snapshot`)
sealed to the offline backup public key (:mod:`backchannel.storage.backup_file`): the
server can write backups but read none. What a backup holds is still sealed at rest
(every private field under its dialogue key, the dialogue keys wrapped by the KEK), and
neither the key-encryption key nor the backup secret key is in it. To restore, an
operator needs three things: the backup file, the backup secret key (kept offline) and
the KEK (the key file, or the passphrase) the database was made with.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from backchannel.config import Settings
from backchannel.errors import InputError
from backchannel.messages import Message, t_
from backchannel.services.platform import Platform
from backchannel.storage import backup_file, migrate, snapshot
from backchannel.storage.tables import iso_utc, utcnow


@dataclass(frozen=True)
class BackupMade:
    """What :func:`create_backup` wrote."""

    path: Path
    database: str
    payload_bytes: int
    recipient: str


@dataclass
class BackupCheck:
    """What :func:`verify_backup` found: the header's facts and every problem."""

    facts: dict[str, object] = field(default_factory=dict)
    chunks: int = 0
    decrypted: bool = False
    problems: list[Message] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def init_backup_keys(settings: Settings, secret_path: Path) -> str:
    """Write a backup key pair: the public key where the settings say, the secret key to
    ``secret_path`` (to be moved offline). Returns the public key's fingerprint."""
    return backup_file.init_key_pair(settings.backup_key_path, secret_path)


def create_backup(platform: Platform, output: Path, *, force: bool = False) -> BackupMade:
    """Snapshot the platform's database while it runs and seal it to the backup public key.

    The file is written beside ``output`` under a temporary name (mode 0600) and renamed
    into place once whole; an existing ``output`` is replaced only with ``force``. The
    backup is recorded in the audit log (before the snapshot, so the backup holds it).

    Parameters
    ----------
    platform:
        The opened platform whose database is copied.
    output:
        Where the backup file goes.
    force:
        Replace an existing file at ``output``.

    Returns
    -------
    BackupMade
        The path, the kind of database, the payload size and the recipient key.
    """
    settings = platform.settings
    public = backup_file.read_public_key(settings.backup_key_path)
    if output.exists() and not force:
        raise InputError(
            t_("{path} exists", path=str(output)), hint=t_("choose another name, or use --force")
        )
    if output.exists() and not output.is_file():
        raise InputError(t_("{path} is not a regular file", path=str(output)))

    database = snapshot.kind(settings.database_url)
    with platform.unit() as s:
        platform.log(
            s,
            "backup.created",
            audience="operator",
            detail={"recipient": backup_file.fingerprint(public)},
        )
    facts = {"database": database, "schema": migrate.head(), "created": iso_utc(utcnow())}
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".backup-", dir=output.parent)
    partial = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, snapshot.snapshot(settings.database_url) as source:
            size = backup_file.encrypt(source, out, public, facts)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return BackupMade(output, database, size, backup_file.fingerprint(public))


def verify_backup(path: Path, secret_key: Path | None = None) -> BackupCheck:
    """Check a backup: its framing without a key, every byte and the database with one.

    Without ``secret_key`` (on the server, which has only the public key) the check is
    structural: the header, and every chunk present with a possible length, so a
    truncated or cut file is found. With the secret key every chunk is authenticated,
    and the database inside is checked (SQLite's ``integrity_check``; PostgreSQL's
    ``pg_restore --list`` over the whole dump).

    Parameters
    ----------
    path:
        The backup file.
    secret_key:
        The backup secret key file, when the check may decrypt.

    Returns
    -------
    BackupCheck
        The header's facts, the number of chunks, whether it was decrypted, and problems.
    """
    report = BackupCheck()
    try:
        with backup_file.open_for_reading(path) as source:
            header, report.chunks = backup_file.check_structure(source)
            report.facts = dict(header.facts)
        if secret_key is not None:
            secret = backup_file.read_secret_key(secret_key)
            with backup_file.open_for_reading(path) as source:
                _, chunks = backup_file.decrypt(source, secret)
                report.problems += snapshot.check_payload(str(header.facts["database"]), chunks)
            report.decrypted = True
    except (backup_file.DamagedBackup, snapshot.SnapshotFailed) as error:
        report.problems.append(error.whole)
    return report


def restore_backup(path: Path, secret_key: Path, database_url: str, *, force: bool = False) -> str:
    """Restore a backup into the database at ``database_url`` (a new one, or ``force``).

    The whole backup is authenticated first (nothing is written from a damaged file),
    then decrypted again into the target. Open the result with the KEK the backed-up
    database used, and run ``backchannel audit verify`` on it.

    Parameters
    ----------
    path:
        The backup file.
    secret_key:
        The backup secret key file (kept offline).
    database_url:
        The database to create: a new SQLite file, or an empty PostgreSQL database.
    force:
        Replace an existing database (stop the server that uses it first).

    Returns
    -------
    str
        The kind of database restored.
    """
    secret = backup_file.read_secret_key(secret_key)
    with backup_file.open_for_reading(path) as source:
        header, chunks = backup_file.decrypt(source, secret)
        for _ in chunks:  # authenticate every chunk before writing anything
            pass
    database = str(header.facts["database"])
    with backup_file.open_for_reading(path) as source:
        _, chunks = backup_file.decrypt(source, secret)
        snapshot.restore(database_url, database, chunks, force=force)
    return database
