"""Consistent online snapshots of the database, and restoring one into a new database.

* **SQLite**: ``VACUUM INTO`` a file in a private temporary folder. It reads one
  snapshot (a read transaction, which WAL runs beside the writers), so the copy is
  consistent while the server keeps writing; the copy is deleted once read.
* **PostgreSQL**: ``pg_dump --format=custom``, which dumps from one repeatable-read
  snapshot, streamed (the password goes in the environment, never on a command line).

A restore writes into a database that does not exist yet (SQLite: a new file, put in
place only once whole and checked; PostgreSQL: an empty database), and over an existing
one only when asked to (``force``): then the server must be stopped first.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url

from backchannel.errors import BackchannelError, InputError
from backchannel.messages import Message, t_, t_n
from backchannel.storage.faults import sqlite_path


class SnapshotFailed(BackchannelError):
    """The database could not be copied or restored (the tool's message says why)."""


def kind(url: str) -> str:
    """``sqlite`` or ``postgresql``: the kind of database a URL names."""
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise InputError(t_("backups support SQLite and PostgreSQL, not {name}", name=name))
    return name


def _file(url: str) -> Path:
    path = sqlite_path(make_url(url))
    if path is None:
        raise InputError(t_("an in-memory database cannot be backed up or restored"))
    return path


def _tool(name: str) -> str:
    """The newest PostgreSQL client tool of that name (the server's packages put them
    under ``/usr/lib/postgresql/<version>/bin``), else the one on PATH."""
    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    tool = found[-1] if found else shutil.which(name)
    if tool is None:
        raise SnapshotFailed(
            t_("{tool} not found", tool=name),
            hint=t_("install the PostgreSQL client tools (`make postgres`)"),
        )
    return tool


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for ``url`` and the environment carrying its password."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _failed(tool: str, process: subprocess.Popen[bytes]) -> SnapshotFailed:
    message = process.stderr.read().decode("utf-8", "replace").strip() if process.stderr else ""
    return SnapshotFailed(
        t_(
            "{tool} failed (exit code {code}): {detail}",
            tool=tool,
            code=process.returncode,
            detail=message[-400:],
        )
    )


@contextmanager
def snapshot(url: str) -> Iterator[IO[bytes]]:
    """A consistent copy of the database at ``url``, as a stream to read once."""
    if kind(url) == "sqlite":
        source = _file(url)
        if not source.is_file():
            raise InputError(t_("database {path} not found", path=str(source)))
        with tempfile.TemporaryDirectory(prefix="backchannel-snapshot-") as folder:
            copy = Path(folder) / "snapshot.db"
            connection = sqlite3.connect(source)
            try:
                connection.execute("VACUUM INTO ?", (str(copy),))
            except sqlite3.Error as error:
                raise SnapshotFailed(
                    t_("the SQLite snapshot failed: {detail}", detail=str(error))
                ) from error
            finally:
                connection.close()
            with copy.open("rb") as stream:
                yield stream
        return
    target, env = _libpq(url)
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--dbname", target]
    with subprocess.Popen(  # noqa: S603 (a fixed tool, arguments as a list, no shell)
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as process:
        assert process.stdout is not None
        yield process.stdout
        process.stdout.read()  # whatever the reader left, so that pg_dump can finish
        if process.wait() != 0:
            raise _failed("pg_dump", process)


def _sqlite_problems(path: Path) -> list[Message]:
    """What ``PRAGMA integrity_check`` finds in an SQLite file (nothing when it is whole)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = connection.execute("PRAGMA integrity_check").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as error:
        return [t_("the snapshot is not a readable SQLite database: {detail}", detail=str(error))]
    found = [str(row[0]) for row in rows]
    if found == ["ok"]:
        return []
    return [t_("SQLite's integrity check: {detail}", detail=line) for line in found]


def check_payload(database: str, chunks: Iterable[bytes]) -> list[Message]:
    """The problems of a decrypted snapshot of the given kind (nothing when it is whole):
    SQLite's ``integrity_check``, or ``pg_restore --list`` reading the whole dump."""
    if database == "sqlite":
        with tempfile.TemporaryDirectory(prefix="backchannel-verify-") as folder:
            path = Path(folder) / "snapshot.db"
            with path.open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            return _sqlite_problems(path)
    with subprocess.Popen(  # noqa: S603 (a fixed tool, arguments as a list, no shell)
        [_tool("pg_restore"), "--list"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as process:
        _feed(process, chunks)
        if process.wait() != 0:
            return [_failed("pg_restore --list", process).whole]
    return []


def _feed(process: subprocess.Popen[bytes], chunks: Iterable[bytes]) -> None:
    assert process.stdin is not None
    try:
        for chunk in chunks:
            process.stdin.write(chunk)
    except BrokenPipeError:
        pass  # the tool stopped reading: its exit code and message say why
    finally:
        with suppress(BrokenPipeError):
            process.stdin.close()


def restore(url: str, database: str, chunks: Iterable[bytes], *, force: bool = False) -> None:
    """Write a decrypted snapshot (of kind ``database``) into the database at ``url``.

    SQLite: the file must not exist (``force``: it is replaced, with its ``-wal`` and
    ``-shm``); the copy is written beside it (mode 0600), checked, and renamed into
    place. PostgreSQL: the database must exist and hold no tables (``force``: its
    tables are dropped and recreated by ``pg_restore --clean``).
    """
    if kind(url) != database:
        raise InputError(
            t_(
                "the backup holds a {database} database, not a {other} one",
                database=database,
                other=kind(url),
            )
        )
    if database == "sqlite":
        _restore_sqlite(_file(url), chunks, force)
    else:
        _restore_postgres(url, chunks, force)


def _restore_sqlite(target: Path, chunks: Iterable[bytes], force: bool) -> None:
    if target.exists() and not force:
        raise InputError(
            t_("{path} exists", path=str(target)),
            hint=t_("restore into a new file, or stop the server and use --force"),
        )
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(prefix=".restore-", dir=target.parent)  # mode 0600
    partial = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        problems = _sqlite_problems(partial)
        if problems:
            more = len(problems) - 1
            first = problems[0]
            if more:
                first = t_n(
                    "{first} (and {n:,} more problem)",
                    "{first} (and {n:,} more problems)",
                    more,
                    first=first,
                )
            raise SnapshotFailed(t_("the restored database is damaged: {problem}", problem=first))
        for companion in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            companion.unlink(missing_ok=True)  # a stale WAL must never meet the new file
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _restore_postgres(url: str, chunks: Iterable[bytes], force: bool) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
    finally:
        engine.dispose()
    if tables and not force:
        raise InputError(
            t_("the target database is not empty"),
            hint=t_("restore into a new, empty database, or stop the server and use --force"),
        )
    target, env = _libpq(url)
    command = [_tool("pg_restore"), "--no-owner", "--exit-on-error", "--dbname", target]
    if tables:
        command[1:1] = ["--clean", "--if-exists"]
    with subprocess.Popen(  # noqa: S603 (a fixed tool, arguments as a list, no shell)
        command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    ) as process:
        _feed(process, chunks)
        if process.wait() != 0:
            raise _failed("pg_restore", process)
