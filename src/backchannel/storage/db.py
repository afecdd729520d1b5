"""Database engine, durability settings and transactions.

SQLite connections are set to WAL, ``synchronous=FULL``, foreign keys on, a 5 s busy
timeout and ``secure_delete`` on, and :func:`check_durability` refuses to run with
anything weaker (an in-memory database, a file system without WAL, a PostgreSQL
server with ``fsync`` or ``synchronous_commit`` off). Every write happens inside
:func:`transaction`, with its audit entry, so both commit or neither does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "Engine",
    "Session",
    "UnsafeDatabase",
    "check_durability",
    "make_engine",
    "session_factory",
    "sessionmaker",
    "transaction",
]

from backchannel.errors import BackchannelError

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA secure_delete=ON",
)


class UnsafeDatabase(BackchannelError):
    """The database would not keep acknowledged writes safe; the server refuses to start."""

    exit_code = 2


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN drive transactions
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin_write(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")  # one writer at a time, no upgrade deadlock


def _sqlite_begin_read(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")  # a snapshot; WAL lets readers run beside the writer


def make_engine(url: str, *, reader: bool = False) -> Engine:
    """An engine for ``url`` with the durability settings applied on every connection.

    On SQLite a writer engine starts every transaction with ``BEGIN IMMEDIATE`` (writes
    queue on the busy timeout, never deadlock); a ``reader`` engine starts plain
    snapshots, which WAL runs concurrently with the writer.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin_read if reader else _sqlite_begin_write)
        return engine
    return create_engine(url, pool_pre_ping=True)


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
            "the database would not keep acknowledged writes safe: " + ", ".join(problems),
            hint="use an SQLite file on a local disk, or a PostgreSQL server with fsync, "
            "synchronous_commit and full_page_writes on",
        )
    return found


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block ends normally, roll back on any error."""
    with factory() as session, session.begin():
        yield session
