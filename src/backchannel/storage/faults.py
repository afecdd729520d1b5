"""Operational faults of the database: who may read its files, whether it can be written,
what a full disk or a damaged file becomes.

* :func:`check_files` (before the first connection) refuses an SQLite database whose
  file, ``-wal`` or ``-shm`` can be read by group or others (they hold password hashes
  and the audit log), and one this process cannot write: the file, its ``-wal`` and
  ``-shm``, and the folder, where SQLite creates them.
* :func:`check_writable` then proves it with a write that is rolled back: it catches
  what file modes do not show (a read-only mount seen by root, ``mode=ro``) and, on
  PostgreSQL, a read-only server or role (``transaction_read_only``).
* :func:`translated` turns a database error into what it means for a user: a full disk
  (``SQLITE_FULL``, PostgreSQL's ``53100``) into :class:`~backchannel.errors.DiskFull`,
  logged with the path and the free bytes; a file that is not a database or is
  corrupt into :class:`DamagedDatabase`. Nothing is kept from the failed write, so
  the next one succeeds once space returns.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from backchannel.errors import BackchannelError, DiskFull
from backchannel.messages import t_

log = logging.getLogger("backchannel.storage")

SQLITE_CORRUPT, SQLITE_FULL, SQLITE_NOTADB = 11, 13, 26
"""SQLite's primary result codes (the low byte of an extended code)."""
POSTGRES_DISK_FULL = "53100"
PROBE = "CREATE TABLE backchannel_write_probe (x INTEGER)"
"""The write :func:`check_writable` makes and rolls back (SQLite)."""


class DamagedDatabase(BackchannelError):
    """The database file is not a database, is corrupt, or lacks tables it must have."""

    exit_code = 2


class UnsafeDatabase(BackchannelError):
    """The database is not safe to run on: weak durability settings (see
    :func:`~backchannel.storage.db.check_durability`), files other users can read, or no
    way to write. The server refuses to start."""

    exit_code = 2


def sqlite_path(url: URL) -> Path | None:
    """The file of an SQLite database URL (None for PostgreSQL and in-memory databases)."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):  # a URI filename: file:PATH?mode=...
        database = database[len("file:") :].split("?", 1)[0]
    return Path(database)


def _companions(path: Path) -> list[Path]:
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm")]


def check_files(url: URL) -> None:
    """Refuse an SQLite database readable by other users, or that this process cannot write.

    Raises
    ------
    UnsafeDatabase
        With the paths and the command that fixes it.
    """
    path = sqlite_path(url)
    if path is None:
        return
    present = [p for p in _companions(path) if p.exists()]
    open_to_others = [p for p in present if p.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)]
    if open_to_others:
        modes = ", ".join(f"{p} (mode {stat.S_IMODE(p.stat().st_mode):o})" for p in open_to_others)
        raise UnsafeDatabase(
            t_("the database files can be read by other users: {files}", files=modes),
            hint=t_(
                "run {command}",
                command=f"`chmod 600 {' '.join(str(p) for p in open_to_others)}`",
            ),
        )
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UnsafeDatabase(
            t_(
                "the database folder {folder} is not writable by this user "
                "(SQLite creates the -wal and -shm files there)",
                folder=folder,
            ),
            hint=t_("give this user write access to {folder}, or move the database", folder=folder),
        )
    read_only = [p for p in present if not os.access(p, os.R_OK | os.W_OK)]
    if read_only:
        raise UnsafeDatabase(
            t_(
                "the database cannot be written by this user: {files}",
                files=", ".join(map(str, read_only)),
            ),
            hint=t_(
                "make the files writable by the user that runs Backchannel "
                "(`chown` them to it and `chmod 600` them), or mount the disk read-write"
            ),
        )


def check_writable(engine: Engine) -> None:
    """Write and roll back, to prove that the database takes writes.

    Raises
    ------
    UnsafeDatabase
        When SQLite says the database is read-only, or PostgreSQL's session is.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:  # a writer engine begins IMMEDIATE
            try:
                connection.exec_driver_sql(PROBE)
            except DBAPIError as error:
                raise UnsafeDatabase(
                    t_(
                        "the database {path} cannot be written: {detail}",
                        path=sqlite_path(engine.url),
                        detail=str(error.orig),
                    ),
                    hint=t_(
                        "make the file and its folder writable by this user, "
                        "or mount the disk read-write"
                    ),
                ) from error
            finally:
                connection.rollback()
        return
    with engine.connect() as connection:
        read_only = str(connection.exec_driver_sql("SHOW transaction_read_only").scalar())
    if read_only == "on":
        raise UnsafeDatabase(
            t_("the PostgreSQL database only allows reading (transaction_read_only=on)"),
            hint=t_(
                "connect to the primary server, not a standby, and unset "
                "default_transaction_read_only for this role and database"
            ),
        )


def _log_full(url: URL) -> None:
    path = sqlite_path(url)
    if path is None:
        log.error(
            "disk full: the PostgreSQL server %s:%s reports no space left (SQLSTATE 53100)",
            url.host,
            url.port,
        )
        return
    folder = path.resolve().parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = -1
    log.error(
        "disk full: could not write the database %s; %d bytes free on the file system of %s",
        path.resolve(),
        free,
        folder,
    )


@contextmanager
def translated(engine: Engine) -> Iterator[None]:
    """Raise what a database error means: :class:`DiskFull`, :class:`DamagedDatabase`, or
    the error itself."""
    try:
        yield
    except DBAPIError as error:
        code = getattr(error.orig, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        if primary == SQLITE_FULL or getattr(error.orig, "sqlstate", None) == POSTGRES_DISK_FULL:
            _log_full(engine.url)
            raise DiskFull() from error
        if primary in (SQLITE_CORRUPT, SQLITE_NOTADB):
            raise DamagedDatabase(
                t_(
                    "the database {path} is damaged or not a database ({code})",
                    path=sqlite_path(engine.url),
                    code=getattr(error.orig, "sqlite_errorname", "SQLITE_CORRUPT"),
                ),
                hint=t_("restore it from a backup"),
            ) from error
        raise
