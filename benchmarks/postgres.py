"""A throw-away PostgreSQL server on loopback, for the suite and the benchmarks.

:func:`throwaway_server` finds the server binaries (``/usr/lib/postgresql/*/bin``, then
``PATH``), runs ``initdb --data-checksums`` in a temporary directory and starts the
server on 127.0.0.1 with a free port and a private socket directory (as the ``postgres``
user when run as root, since the server refuses to run as root); it stops the server
and removes the directory at the end. Without the binaries it raises
:class:`PostgresMissing` saying how to install them (``make postgres``).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

INSTALL = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin "
    "or on PATH. Install them with `make postgres` (what `make test` runs first), or "
    "`apt-get install -y postgresql` on Debian or Ubuntu, or put initdb and pg_ctl on PATH."
)


class PostgresMissing(RuntimeError):
    """The server could not be found or started; the message says what to do."""


@dataclass
class Server:
    """A running throw-away PostgreSQL server."""

    port: int
    root: Path
    bin: Path
    counter: itertools.count[int]

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one of its databases."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[Any]:
        """A connection to the ``postgres`` database as the superuser."""
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def new_database(self) -> str:
        """Create an empty database; its name."""
        name = f"bc_{next(self.counter)}_{secrets.token_hex(3)}"
        with self.admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name

    def files_of(self, database: str) -> dict[str, bytes]:
        """The raw bytes of the database's relation files and of the whole WAL."""
        with self.admin() as connection:
            connection.execute("CHECKPOINT")
            oid = connection.execute(
                "SELECT oid FROM pg_database WHERE datname = %s", (database,)
            ).fetchone()
        assert oid is not None
        found = {}
        for folder in (self.root / "data" / "base" / str(oid[0]), self.root / "data" / "pg_wal"):
            for path in folder.rglob("*"):
                if path.is_file():
                    found[str(path.relative_to(self.root))] = path.read_bytes()
        return found


def server_binaries() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl`` (the newest version installed)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        folder = Path(found[-1]).parent
        if (folder / "pg_ctl").exists():
            return folder
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    raise PostgresMissing(INSTALL)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def throwaway_server(options: str = "") -> Iterator[Server]:
    """A PostgreSQL server for the ``with`` block (``options``: more ``-c`` settings)."""
    binaries = server_binaries()
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="backchannel-pg-"))
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresMissing(
                "running as root, but there is no `postgres` user to run the server as; " + INSTALL
            ) from None
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    pg_ctl = str(binaries / "pg_ctl")

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*as_user, *command], capture_output=True, text=True, check=False)

    def must(done: subprocess.CompletedProcess[str]) -> None:
        if done.returncode != 0:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise PostgresMissing(f"{done.args}: {done.stderr or done.stdout}\n{tail}")

    started = False
    try:
        initdb = ["--data-checksums", "--auth=trust", "-U", "postgres", "-E", "UTF8"]
        must(run(str(binaries / "initdb"), *initdb, "--no-locale", "-D", str(data)))
        must(run("mkdir", "-m", "700", str(sockets)))
        for _ in range(5):  # another process may take the free port first: try another
            port = free_port()
            flags = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} {options}".strip()
            done = run(pg_ctl, "-D", str(data), "-l", str(log), "-w", "-o", flags, "start")
            if done.returncode == 0:
                break
        must(done)
        started = True
        yield Server(port, root, binaries, itertools.count())
    finally:
        if started:
            run(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
