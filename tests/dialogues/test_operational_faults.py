"""Operational faults: a database that cannot be written, and a full disk.

* An SQLite database that cannot be written (a read-only file, a read-only folder, a
  ``mode=ro`` connection) is refused at start with a message that names it, by
  :meth:`Platform.open` and by ``backchannel serve``, which never starts the server; so is
  a PostgreSQL session that is read-only. The read-only file and folder are real: a
  read-only bind mount when the tests run as root (root ignores file modes), ``chmod``
  otherwise.
* A full disk: writes answer 503 with a clear message and ``Retry-After`` (the API as
  JSON; the position page re-rendered with what was typed), pages can still be read
  (a session's ``last_seen_at`` refresh is skipped), the log names the database and the
  free bytes, and once space returns the next write succeeds by itself, with no
  acknowledged write lost, the audit chain intact and the file sound. The disk fills
  for real on a small tmpfs when the tests run as root; everywhere, SQLite's
  ``max_page_count`` makes the database hit ``SQLITE_FULL`` on the same error path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import event, update

from backchannel.cli import main
from backchannel.config import Settings
from backchannel.errors import DiskFull
from backchannel.services import accounts, audit_log, positions
from backchannel.services.platform import Platform
from backchannel.storage.db import UnsafeDatabase
from backchannel.storage.tables import SessionRow, utcnow
from backchannel.web.app import create_app
from conftest import Server, World, build_world, close, make_settings

from .conftest import position_a, sign_in

ROOT = os.geteuid() == 0
FULL = {
    "error": "the server's disk is full; your input was not saved",
    "hint": "try again later",
    "code": "the server's disk is full; your input was not saved",
}


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` (a file or a folder) truly read-only for this process, for the block."""
    if ROOT:
        run("mount", "--bind", str(path), str(path))
        try:
            run("mount", "-o", "remount,bind,ro", str(path))
            yield
        finally:
            run("umount", "-l", str(path))  # lazy: even when a test left the file open
    else:
        before = path.stat().st_mode
        path.chmod(0o500 if path.is_dir() else 0o400)
        try:
            yield
        finally:
            path.chmod(before)


@pytest.fixture
def made(tmp_path: Path) -> Path:
    """A closed, populated database in its own folder; returns the folder."""
    folder = tmp_path / "data"
    settings = make_settings(tmp_path, database_url=f"sqlite:///{folder / 'backchannel.db'}")
    platform = Platform.open(settings, upgrade=True)
    build_world(platform)
    close(platform)
    return folder


def settings_for(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url)


# ------------------------------------------------------------------ an unwritable database
@pytest.mark.parametrize("what", ["file", "folder"])
def test_an_unwritable_database_is_refused_at_start(made: Path, tmp_path: Path, what: str) -> None:
    database = made / "backchannel.db"
    settings = settings_for(tmp_path, f"sqlite:///{database}")
    with read_only(database if what == "file" else made), pytest.raises(UnsafeDatabase) as caught:
        Platform.open(settings)
    message = str(caught.value)
    assert str(database if what == "file" else made) in message
    assert "writ" in message and caught.value.hint
    close(Platform.open(settings))  # writable again: it opens


def test_a_read_only_connection_is_refused_by_the_write_probe(made: Path, tmp_path: Path) -> None:
    database = made / "backchannel.db"
    settings = settings_for(tmp_path, f"sqlite:///file:{database}?mode=ro&uri=true")
    with pytest.raises(UnsafeDatabase, match="cannot be written: attempt to write a readonly"):
        Platform.open(settings)


def test_serve_refuses_an_unwritable_database_and_never_starts(
    made: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: started.append(app))
    database = made / "backchannel.db"
    key = make_settings(tmp_path).key_file
    with read_only(database):
        code = main(["serve", "--database", f"sqlite:///{database}", "--key-file", str(key)])
    assert code == 2 and started == []
    assert "cannot be written" in capsys.readouterr().err


def test_a_read_only_postgresql_session_is_refused(postgres: Server, tmp_path: Path) -> None:
    url = postgres.url(postgres.new_database())
    close(Platform.open(settings_for(tmp_path, url), upgrade=True))
    read_only_url = f"{url}?options=-c%20default_transaction_read_only%3Don"
    with pytest.raises(UnsafeDatabase, match="only allows reading"):
        Platform.open(settings_for(tmp_path, read_only_url))
    close(Platform.open(settings_for(tmp_path, url)))


# ------------------------------------------------------------------ a full disk
@dataclass
class Disk:
    """Where the database lives, and how to fill that place and free it again."""

    folder: Path
    fill: Callable[[Platform], None]
    free: Callable[[], None]


@contextmanager
def page_limit(tmp_path: Path) -> Iterator[Disk]:
    """``PRAGMA max_page_count`` set at the start of each write: SQLITE_FULL on demand."""
    limit = [2**31]

    def _limit(connection: Any) -> None:
        connection.exec_driver_sql(f"PRAGMA max_page_count = {limit[0]}")

    def fill(platform: Platform) -> None:
        if not event.contains(platform.engine, "begin", _limit):
            event.listen(platform.engine, "begin", _limit)
        with platform.engine.connect() as connection:
            limit[0] = int(connection.exec_driver_sql("PRAGMA page_count").scalar_one())

    def free() -> None:
        limit[0] = 2**31

    yield Disk(tmp_path / "data", fill, free)


@contextmanager
def tmpfs(tmp_path: Path) -> Iterator[Disk]:
    """A real 8 MiB file system, filled to the last block with a filler file."""
    folder = tmp_path / "data"
    folder.mkdir()
    run("mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(folder))
    filler = folder / "filler"

    def fill(_: Platform) -> None:
        with filler.open("wb", buffering=0) as out:
            for size in (65536, 4096, 1):
                with contextlib.suppress(OSError):
                    while out.write(b"\0" * size):
                        pass
        assert os.statvfs(folder).f_bavail == 0

    def free() -> None:
        filler.unlink()

    try:
        yield Disk(folder, fill, free)
    finally:
        run("umount", "-l", str(folder))


@pytest.fixture(params=["page-limit", *(["tmpfs"] if ROOT else [])])
def disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Disk]:
    with (page_limit if request.param == "page-limit" else tmpfs)(tmp_path) as made:
        yield made


@pytest.fixture
def full_world(disk: Disk, tmp_path: Path) -> Iterator[World]:
    settings = make_settings(tmp_path, database_url=f"sqlite:///{disk.folder / 'bc.db'}")
    platform = Platform.open(settings, upgrade=True)
    yield build_world(platform)
    close(platform)


def test_a_full_disk_is_a_503_that_loses_nothing_and_heals_itself(
    full_world: World, disk: Disk, caplog: pytest.LogCaptureFixture
) -> None:
    p, d = full_world.platform, full_world.dialogue_id
    app = create_app(p.settings, p)
    a1 = sign_in(app, "a1")
    b1 = sign_in(app, "b1")
    with p.unit() as s:  # every session is due a refresh of its last_seen_at
        s.execute(update(SessionRow).values(last_seen_at=utcnow() - timedelta(minutes=2)))
    url = f"/api/v1/dialogues/{d}/position"
    headers = {"X-CSRF-Token": a1.csrf}

    def save(n: int) -> Any:
        body = position_a(full_world, note=f"note {n}").model_dump(mode="json")
        return a1.client.put(url, json=body, headers=headers)

    acknowledged = [save(0).json()["revision"]]
    disk.fill(p)
    refused = None
    with caplog.at_level(logging.ERROR, logger="backchannel.storage"):
        for n in range(1, 2000):  # until the free space left in the database's pages is used
            answer = save(n)
            if answer.status_code != 200:
                refused = answer
                break
            acknowledged.append(answer.json()["revision"])
    assert refused is not None and refused.status_code == 503, refused and refused.text
    assert refused.json() == FULL and refused.headers["retry-after"] == "60"
    database = Path(p.engine.url.database or "").resolve()
    assert f"disk full: could not write the database {database};" in caplog.text
    assert "bytes free on the file system of" in caplog.text
    assert "OperationalError" not in caplog.text
    page = a1.client.post(
        f"/d/{d}/position", data={"csrf": a1.csrf, "walk_away": "15", "note": "typed, kept"}
    )
    assert page.status_code == 503 and page.headers["retry-after"] == "60"
    assert "the server&#39;s disk is full; your input was not saved" in page.text
    assert ">typed, kept</textarea>" in page.text and 'value="15"' in page.text
    reading = b1.client.get(f"/d/{d}")  # reads go on; the due refresh is skipped
    assert reading.status_code == 200 and "Channel talks" in reading.text
    disk.free()
    healed = save(9999)
    assert healed.status_code == 200, healed.text
    acknowledged.append(healed.json()["revision"])
    assert acknowledged == list(range(1, len(acknowledged) + 1))  # each one stored, in order
    (latest,) = positions.positions(p, full_world.actors["a1"], d)
    assert latest.revision == acknowledged[-1] and latest.position.note == "note 9999"
    saved = [
        line
        for line in audit_log.entries(p, full_world.actors["a1"], d)
        if line.action == "position.saved" and line.mine
    ]
    assert len(saved) == len(acknowledged)  # no refused save left a trace
    assert audit_log.verify(p).ok
    with closing(sqlite3.connect(database)) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for b in (a1, b1):
        b.client.close()


def test_a_page_is_read_when_the_session_refresh_hits_a_full_disk(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = world.platform
    app = create_app(p.settings, p)
    a1 = sign_in(app, "a1")
    with p.unit() as s:
        s.execute(update(SessionRow).values(last_seen_at=utcnow() - timedelta(minutes=2)))

    def full(*_: object) -> None:
        raise DiskFull()

    monkeypatch.setattr(accounts, "keep_up", full)
    page = a1.client.get(f"/d/{world.dialogue_id}")
    assert page.status_code == 200 and "Channel talks" in page.text
    a1.client.close()
