"""Database engine, durability settings and transactions.

SQLite connections are set to WAL, ``synchronous=FULL``, foreign keys on, a 30 s busy
timeout and ``secure_delete`` on, and :func:`check_durability` refuses to run with
anything weaker (an in-memory database, a file system without WAL, a PostgreSQL
server with ``fsync`` or ``synchronous_commit`` off). Every write happens inside
:func:`transaction`, with its audit entry, so both commit or neither does.

SQLite admits one writer at a time. Left to itself, a second writer of the same
process waits in SQLite's busy handler, which polls with sleeps that grow to 100 ms,
so a writer that arrives later can take the lock first and a waiting one can wait
many rounds: that made the tail of the write latency. The writers of one process
therefore queue in a :class:`WriterQueue` first, in arrival order, and reach
``BEGIN IMMEDIATE`` one by one; the busy timeout still bounds a wait on another
process (the CLI, a backup).

A short write may also be tried :func:`without_waiting` (the server does so on its
event loop): its first unit then takes the queue and the database lock only if both are
free at once, else it raises :class:`WriteWouldWait` before anything was written, and
the caller runs it again where it may wait (a thread). A later unit of the same call
waits as usual, so that a retry never repeats a committed unit.

The SQLite files hold password hashes and the audit log: every connection is opened
under the umask ``077``, so the database file is created ``0600`` (SQLite gives its
``-wal`` and ``-shm`` the file's mode) and a folder made for it ``0700``.
:mod:`backchannel.storage.faults` refuses files that others can read, and turns a full
disk into :class:`~backchannel.errors.DiskFull`.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "POOL_SIZE",
    "Engine",
    "Session",
    "UnsafeDatabase",
    "WriteWouldWait",
    "WriterQueue",
    "WriterQueueTimeout",
    "absent_database",
    "check_durability",
    "make_engine",
    "session_factory",
    "sessionmaker",
    "transaction",
    "without_waiting",
]

from backchannel.errors import BackchannelError
from backchannel.messages import t_
from backchannel.storage.faults import UnsafeDatabase, sqlite_path, translated

BUSY_TIMEOUT_MS = 30000
SQLITE_BUSY = 5

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA secure_delete=ON",
)


POOL_SIZE = 40
"""Connections an engine keeps open: one per worker of the server's thread pool (the
default limit of AnyIO's pool is 40), so a busy server never opens and closes
connections (each new SQLite connection runs the pragmas again) and never waits for one."""

WRITER_WAIT_SECONDS = 30.0


class WriterQueueTimeout(BackchannelError):
    """A write waited longer than the busy timeout for the writers before it."""


class WriteWouldWait(Exception):
    """A write tried :func:`without_waiting` found another writer first: nothing was
    written; run the call again where it may wait."""


_NO_WAIT: ContextVar[bool] = ContextVar("backchannel_write_no_wait", default=False)


@contextmanager
def without_waiting() -> Iterator[None]:
    """Run a block whose first write unit must not wait (see the module's docstring)."""
    token = _NO_WAIT.set(True)
    try:
        yield
    finally:
        _NO_WAIT.reset(token)


class WriterQueue:
    """Admits one write transaction of this process at a time, first come, first served.

    A waiting writer sleeps on its own lock until the writer before it hands over, so
    nobody polls and nobody overtakes. Re-entering from the thread that holds it is a
    programming error (SQLite would deadlock on itself) and raises ``RuntimeError``.
    """

    def __init__(self, timeout: float = WRITER_WAIT_SECONDS) -> None:
        self.timeout = timeout
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._holder: int | None = None

    @property
    def waiting(self) -> int:
        """How many writers are queued behind the one that holds the queue."""
        return len(self._waiting)

    @property
    def held(self) -> bool:
        """Whether a writer holds the queue now."""
        return self._holder is not None

    def _enter(self) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._holder == me:
                raise RuntimeError("a write transaction was opened inside another one")
            if self._holder is None:
                self._holder = me
                return
            if _NO_WAIT.get():
                raise WriteWouldWait()
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if not turn.acquire(timeout=self.timeout):
            with self._mutex:
                if turn in self._waiting:  # still queued: give up
                    self._waiting.remove(turn)
                    raise WriterQueueTimeout(
                        t_("the database is busy"), hint=t_("try again in a moment")
                    )
            # handed over between the timeout and the check: the turn is ours
        self._holder = me

    def _leave(self) -> None:
        with self._mutex:
            self._holder = None
            if self._waiting:
                self._holder = -1  # held for the next writer until it takes over
                self._waiting.popleft().release()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the queue for the block (wait for every writer that arrived earlier)."""
        self._enter()
        try:
            yield
        finally:
            self._leave()


PRIVATE_UMASK = 0o077
_UMASK_LOCK = threading.Lock()  # the umask is the process's: one change at a time


@contextmanager
def _private_umask() -> Iterator[None]:
    """Run the block under the umask ``077``: the files and folders it creates are the
    owner's alone."""
    with _UMASK_LOCK:
        previous = os.umask(PRIVATE_UMASK)
        try:
            yield
        finally:
            os.umask(previous)


def _sqlite_open(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    with _private_umask():
        return dialect.connect(*cargs, **cparams)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN drive transactions
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin_write(connection: Any) -> None:
    """``BEGIN IMMEDIATE``: one writer at a time, no upgrade deadlock. Without waiting,
    a database another process writes to raises :class:`WriteWouldWait` at once; the
    first unit that begins ends the call's no-wait part (a later unit waits)."""
    if not _NO_WAIT.get():
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    connection.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except DBAPIError as error:
        code = getattr(error.orig, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF == SQLITE_BUSY:
            raise WriteWouldWait() from error
        raise
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _NO_WAIT.set(False)


def _sqlite_begin_read(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")  # a snapshot; WAL lets readers run beside the writer


def make_engine(url: str, *, reader: bool = False) -> Engine:
    """An engine for ``url`` with the durability settings applied on every connection.

    On SQLite a writer engine starts every transaction with ``BEGIN IMMEDIATE`` (writes
    queue on the busy timeout, never deadlock); a ``reader`` engine starts plain
    snapshots, which WAL runs concurrently with the writer. A reader engine keeps
    :data:`POOL_SIZE` connections; a writer engine needs few, as its users queue in a
    :class:`WriterQueue`. On PostgreSQL a ``reader`` engine is the event loop's, which
    reads one request at a time: it keeps one connection.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        if path is not None:
            with _private_umask():
                path.parent.mkdir(parents=True, exist_ok=True)
        pool = {"pool_size": POOL_SIZE, "max_overflow": 10} if reader else {}
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **pool
        )
        event.listen(engine, "do_connect", _sqlite_open)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin_read if reader else _sqlite_begin_write)
        return engine
    if reader:  # the event loop's reads: one at a time, a second connection only if ever needed
        return create_engine(url, pool_pre_ping=True, pool_size=1, max_overflow=4)
    return create_engine(url, pool_pre_ping=True)


def absent_database(url: str) -> Path | None:
    """The file of an SQLite database URL when no such file exists (None otherwise, and for
    PostgreSQL)."""
    path = sqlite_path(make_url(url))
    return path if path is not None and not path.exists() else None


def check_durability(engine: Engine) -> dict[str, str]:
    """The durability settings in force; :class:`UnsafeDatabase` when they are too weak."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            found = {
                name: str(connection.exec_driver_sql(f"PRAGMA {name}").scalar())
                for name in ("journal_mode", "synchronous", "foreign_keys", "secure_delete")
            }
            wanted = {"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1"}
            problems = [
                f"{name}={found[name]} (needs {value})"
                for name, value in wanted.items()
                if found[name].lower() != value
                and not (name == "synchronous" and found[name] == "3")
            ]
        else:
            found = {
                name: str(connection.execute(text(f"SHOW {name}")).scalar())
                for name in ("fsync", "synchronous_commit", "full_page_writes")
            }
            problems = [
                f"{name}={value} (needs on)" for name, value in found.items() if value != "on"
            ]
    if problems:
        raise UnsafeDatabase(
            t_(
                "the database would not keep acknowledged writes safe: {problems}",
                problems=", ".join(problems),
            ),
            hint=t_(
                "use an SQLite file on a local disk, or a PostgreSQL server with fsync, "
                "synchronous_commit and full_page_writes on"
            ),
        )
    return found


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(
    factory: sessionmaker[Session], writers: WriterQueue | None = None
) -> Iterator[Session]:
    """One unit of work: commit when the block ends normally, roll back on any error.

    With ``writers`` the unit first waits for its turn among this process's writers
    and keeps it until the commit (or rollback) is done. A full disk raises
    :class:`~backchannel.errors.DiskFull` (see :func:`~backchannel.storage.faults.translated`).
    """
    engine = factory.kw["bind"]
    with (
        translated(engine),
        writers.turn() if writers is not None else nullcontext(),
        factory() as session,
        session.begin(),
    ):
        yield session
