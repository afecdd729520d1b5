"""Whether a server is running on a database: a shared lock each server process holds.

Each process of ``backchannel serve`` holds the lock, shared, for as long as it serves;
an operation that must not run beside a server (giving dialogues new data keys, which
every server process caches) takes it exclusively, and is refused while any server
holds it. On SQLite the lock is an ``flock`` on a file beside the database
(``<database>.serving``, mode 0600); on PostgreSQL a session-level advisory lock on a
connection the server keeps. Both go with the process: a server killed with SIGKILL
holds nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, text

ADVISORY_KEY = 0x6263_5356  # "bcSV": Backchannel's serving lock on PostgreSQL


class ServerRunning(Exception):
    """A server holds the database (raised by :func:`alone`)."""


class ServingLock:
    """The shared lock of one serving process; :meth:`release` gives it back."""

    def __init__(self, descriptor: int | None, connection: Connection | None) -> None:
        self._descriptor = descriptor
        self._connection = connection

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the file releases the flock
            self._descriptor = None
        if self._connection is not None:
            with contextlib.suppress(Exception):  # a lost connection has lost its lock
                self._connection.execute(
                    text("SELECT pg_advisory_unlock_shared(:k)"), {"k": ADVISORY_KEY}
                )
                self._connection.commit()
            self._connection.close()  # back to the pool: the session (and lock) may live on
            self._connection = None


def _lock_file(engine: Engine) -> Path:
    database = engine.url.database
    assert database, "an SQLite database in a file"
    return Path(f"{database}.serving")


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def hold(engine: Engine) -> ServingLock:
    """Take the serving lock, shared, for this process (never waits)."""
    if engine.dialect.name == "sqlite":
        descriptor = _open(_lock_file(engine))
        fcntl.flock(descriptor, fcntl.LOCK_SH)
        return ServingLock(descriptor, None)
    connection = engine.connect()
    connection.execute(text("SELECT pg_advisory_lock_shared(:k)"), {"k": ADVISORY_KEY})
    connection.commit()
    return ServingLock(None, connection)


@contextlib.contextmanager
def alone(engine: Engine) -> Iterator[None]:
    """Hold the serving lock exclusively for the block; :class:`ServerRunning` at once
    when any server process holds it."""
    if engine.dialect.name == "sqlite":
        descriptor = _open(_lock_file(engine))
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ServerRunning() from None
            yield
        finally:
            os.close(descriptor)
        return
    with engine.connect() as connection:
        taken = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
        if not taken.scalar():
            raise ServerRunning()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            connection.commit()
