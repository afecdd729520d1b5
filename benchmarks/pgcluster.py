"""A throw-away PostgreSQL server, which can also be crashed (every process SIGKILLed).

The server of the tests (``tests/conftest.py``'s ``postgres`` fixture) and of the kill -9
trials.

The kill -9 trials on PostgreSQL stop the database server as a crash would, not as an
operator would: the postmaster and every backend get SIGKILL at once; ``pg_ctl start``
then runs crash recovery from the WAL. The cluster is made with ``initdb
--data-checksums`` in a temporary folder, listens on 127.0.0.1 with a private socket
folder, and runs as the ``postgres`` user when this process is root (the server refuses
to run as root). Its binaries are the newest under ``/usr/lib/postgresql``, or those on
PATH (``make postgres`` installs them).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

INSTALL = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin "
    "or on PATH. Install them with `make postgres` (what `make test` runs first), or "
    "`apt-get install -y postgresql` on Debian or Ubuntu, or put initdb and pg_ctl on PATH."
)


class ClusterError(RuntimeError):
    """The PostgreSQL server could not be set up, started or crashed."""


def binaries() -> Path:
    """The folder of ``initdb`` and ``pg_ctl`` (the newest under /usr/lib/postgresql, or PATH)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found and (Path(found[-1]).parent / "pg_ctl").exists():
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    raise ClusterError(INSTALL)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class Cluster:
    """A PostgreSQL server in a new temporary folder (created by :meth:`create`; the folder
    is its own, so that the ``postgres`` user can reach it)."""

    def __init__(self) -> None:
        self.bin = binaries()
        self.root = Path(tempfile.mkdtemp(prefix="backchannel-pg-"))
        root = self.root
        self.data, self.sockets, self.log = root / "data", root / "sockets", root / "server.log"
        self.as_user: list[str] = []
        self.port = 0

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            [*self.as_user, *command], capture_output=True, text=True, check=False, timeout=120
        )
        if done.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise ClusterError(f"{command}: {done.stderr or done.stdout}\n{tail}")

    def create(self) -> None:
        """``initdb`` and a first start on a free port."""
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise ClusterError(
                    "running as root, but there is no `postgres` user to run the server as; "
                    + INSTALL
                ) from None
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        options = ["--data-checksums", "--auth=trust", "-U", "postgres", "-E", "UTF8"]
        self._run(str(self.bin / "initdb"), *options, "--no-locale", "-D", str(self.data))
        self._run("mkdir", "-m", "700", str(self.sockets))
        for _ in range(5):  # another process may take the free port first: try another
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = int(probe.getsockname()[1])
            try:
                self.start()
                return
            except ClusterError as error:
                failed = error
        raise failed

    def start(self) -> None:
        """Start the server (after a crash: with crash recovery); wait until it accepts."""
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets}"
        pg_ctl = str(self.bin / "pg_ctl")
        self._run(pg_ctl, "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start")

    def processes(self) -> list[int]:
        """The postmaster's pid and its children's."""
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return []
        postmaster = int(pid_file.read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def crash(self) -> None:
        """SIGKILL the postmaster and every backend; wait until all are gone."""
        pids = self.processes()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in pids):
            if time.monotonic() > deadline:
                raise ClusterError(f"PostgreSQL processes {pids} did not die")
            time.sleep(0.05)
        # After a real crash the machine reboots: no pid is reused and the socket folder
        # is emptied, so the lock files are stale. Here a killed postmaster may linger as a
        # zombie, which the server would take for a live one: remove them as a reboot would.
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        for lock in self.sockets.glob(".s.PGSQL.*"):
            lock.unlink(missing_ok=True)

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database``."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create ``name``; return its URL."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        """Stop the server (fast shutdown) and remove its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                pg_ctl = str(self.bin / "pg_ctl")
                with contextlib.suppress(ClusterError):
                    self._run(pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
