"""The database's files are the owner's alone, and nothing CSRF-related is stored.

* A new database, its ``-wal`` and ``-shm`` are created ``0600`` (and a folder made for
  them ``0700``) whatever the umask; a file of the three that group or others can read
  is refused at start, naming it and the ``chmod 600`` that fixes it.
* A session's CSRF token is derived from its cookie token: it appears nowhere in the
  database's raw bytes, the sessions table has no column for it, and a token derived
  from what is stored (the cookie token's SHA-256) is refused.
* Migration 0002 (which drops the stored tokens) goes up, down and up again on a
  populated database, SQLite and PostgreSQL, keeping every row and every session.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from backchannel.services import accounts
from backchannel.services.platform import Platform
from backchannel.storage import migrate
from backchannel.storage.db import UnsafeDatabase, make_engine
from backchannel.web.app import create_app
from conftest import PASSWORD, World, build_world, close, make_settings

from .conftest import BASE_URL, sign_in


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_of(platform: Platform) -> list[Path]:
    database = Path(platform.engine.url.database or "")
    return [database, Path(f"{database}-wal"), Path(f"{database}-shm")]


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The umask of a careless shell: files 0644 unless the code says otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


# ------------------------------------------------------------------ file modes
@pytest.mark.usefixtures("open_umask")
def test_a_new_database_its_wal_and_shm_are_the_owners_alone(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "db"
    settings = make_settings(tmp_path, database_url=f"sqlite:///{folder / 'backchannel.db'}")
    platform = Platform.open(settings, upgrade=True)
    build_world(platform)  # writes: the WAL and the shared memory exist while it is open
    for path in files_of(platform):
        assert path.exists(), path
        assert mode(path) == 0o600, f"{path} has mode {mode(path):o}"
    assert mode(folder) == 0o700 and mode(folder.parent) == 0o700
    close(platform)


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o660])
def test_a_database_file_others_can_read_is_refused(
    tmp_path: Path, suffix: str, loose: int
) -> None:
    settings = make_settings(tmp_path)
    running = Platform.open(settings, upgrade=True)  # keeps the -wal and -shm in place
    build_world(running)
    target = Path(f"{running.engine.url.database}{suffix}")
    target.chmod(loose)
    with pytest.raises(UnsafeDatabase) as caught:
        Platform.open(settings)
    assert str(target) in caught.value.message and f"mode {loose:o}" in caught.value.message
    assert "read by other users" in caught.value.message
    assert caught.value.hint == f"run `chmod 600 {target}`"
    target.chmod(0o600)
    close(Platform.open(settings))
    close(running)


# ------------------------------------------------------------------ CSRF tokens
def test_no_csrf_token_is_stored_and_one_from_the_stored_digest_is_refused(
    world: World,
) -> None:
    platform = world.platform
    app = create_app(platform.settings, platform)
    a1 = sign_in(app, "a1")
    token = a1.client.cookies["bc_session"]
    assert a1.csrf == accounts.csrf_of(token)
    done = accounts.sign_in(platform, "b1", PASSWORD, "127.0.0.1")
    assert done.csrf == accounts.csrf_of(done.token) != a1.csrf
    raw = b"".join(path.read_bytes() for path in files_of(platform) if path.exists())
    for csrf in (a1.csrf, done.csrf):
        assert csrf.encode() not in raw
    assert "csrf_token" not in {c["name"] for c in inspect(platform.engine).get_columns("sessions")}
    d = world.dialogue_id
    note = {"walk_away": "10"}
    digest = accounts.csrf_of(accounts._digest(token))  # what a copy of the database gives
    refused = a1.client.post(f"/d/{d}/position", data={"csrf": digest, **note})
    assert refused.status_code == 422 and "form token" in refused.text
    page = a1.client.post(f"/d/{d}/position", data={"csrf": a1.csrf, **note})
    assert page.status_code == 200, page.text
    a1.client.close()


# ------------------------------------------------------------------ migration 0002
def counts(url: str) -> dict[str, int]:
    """Rows per table that has any (a table a later revision adds is empty or absent)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        names = [n for n in inspect(connection).get_table_names() if n != "alembic_version"]
        found = {
            n: int(connection.execute(text(f'SELECT COUNT(*) FROM "{n}"')).scalar_one())
            for n in names
        }
    engine.dispose()
    return {n: c for n, c in found.items() if c}


def test_migration_0002_up_down_up_keeps_every_row_and_session(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, database_url=database_url)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    sessions = [accounts.sign_in(platform, name, PASSWORD, "setup") for name in world.actors]
    close(platform)
    before = counts(database_url)
    assert before["sessions"] == len(sessions)
    engine = make_engine(database_url)
    migrate.downgrade(engine, "0001")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT csrf_token FROM sessions")).scalars().all()
    assert len(stored) == len(sessions) and len(set(stored)) == len(stored)
    assert all(len(token) == 43 for token in stored)  # 256 random bits, as the old code made
    kept = {name: n for name, n in before.items() if name != "checkpoints"}
    assert counts(database_url) == kept  # signed checkpoints (0005) go below their schema
    migrate.upgrade(engine)
    engine.dispose()
    assert counts(database_url) == kept  # (a table with no rows is not listed)
    platform = Platform.open(settings)
    for done in sessions:  # every session survived both ways, with its derived token
        current = accounts.current(platform, done.token)
        assert current.actor == done.actor and current.csrf == done.csrf
    client = TestClient(create_app(settings, platform), base_url=BASE_URL)
    client.cookies.set("bc_session", sessions[0].token)
    assert client.get("/dialogues").status_code == 200
    client.close()
    close(platform)
