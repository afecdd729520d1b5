"""Shared test fixtures and helpers: settings, the platform's test world, PostgreSQL.

* :func:`make_settings`: a throw-away SQLite database and key file, with
  ``INSECURE_FAST_HASHING``: Argon2id with 64 KiB instead of 64 MiB so that the suite
  creates accounts quickly. Only the tests lower it; production keeps the default.
* :func:`build_world`: a dialogue with two delegations, an absent stakeholder and every
  role (the platform tests and the browser tests start from it).
* :func:`postgres`: a session fixture that starts a throw-away PostgreSQL server on
  loopback (:class:`benchmarks.pgcluster.Cluster`: ``initdb --data-checksums`` in a
  temporary directory, 127.0.0.1 with a free port and a private socket directory, as the
  ``postgres`` user when the tests run as root), and stops it at the end. Without the
  binaries the fixture fails and says how to install them: these tests never skip.

Fixtures used by one folder only live in that folder's ``conftest.py``.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from backchannel.config import Settings
from backchannel.services import accounts, dialogues, rounds
from backchannel.services.access import Actor
from backchannel.services.platform import Platform
from backchannel.storage.vault import init_key_file
from benchmarks.pgcluster import Cluster, ClusterError, binaries

INSECURE_FAST_HASHING = 64
PASSWORD = "correct horse battery staple"


def make_settings(tmp: Path, **more: object) -> Settings:
    """Settings for a throw-away SQLite database and key file under ``tmp``."""
    key = tmp / "keys" / "kek.key"
    if not key.exists():
        init_key_file(key)
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp / 'backchannel.db'}",
        "key_file": key,
        "password_hash_memory_kib": INSECURE_FAST_HASHING,
        **more,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _english_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI speaks English in every test unless the test chooses otherwise (the tests
    read its English; a developer's own locale or BACKCHANNEL_LANGUAGE must not change it)."""
    for name in ("BACKCHANNEL_LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


def close(platform: Platform) -> None:
    """Dispose of the platform's engines: the writer and (on SQLite) the reader."""
    platform.close()


# ------------------------------------------------------------------ the test world
@dataclass
class World:
    """A dialogue with two delegations (A, B), an absent stakeholder, and every role.

    ``actors``: facilitator, a1, a2 (delegation A), b1 (delegation B), observer and
    outsider (an account with no seat). ``issues``: two issue ids.
    """

    platform: Platform
    dialogue_id: str
    delegation_a: str
    delegation_b: str
    absent: str
    issues: list[str]
    actors: dict[str, Actor] = field(default_factory=dict)


def user(platform: Platform, name: str) -> Actor:
    """Create an account with the shared test password; return it as an actor."""
    row, _ = accounts.create_user(platform, name, name.capitalize(), PASSWORD)
    return Actor(row.id, row.username, row.display_name)


def build_world(platform: Platform, *, first_round: bool = True) -> World:
    """The dialogue of :class:`World`, round 1 open as a draft (with ``first_round``), no
    positions yet."""
    names = ("facilitator", "a1", "a2", "b1", "observer", "outsider")
    actors = {n: user(platform, n) for n in names}
    f = actors["facilitator"]
    dialogue_id = dialogues.create_dialogue(platform, f, "Channel talks")
    i1 = dialogues.add_issue(
        platform, f, dialogue_id, "Ceasefire", "ordered", ["none", "partial", "full"]
    )
    i2 = dialogues.add_issue(
        platform, f, dialogue_id, "Sanctions", "ordered", ["keep", "ease", "lift"]
    )
    a = dialogues.add_delegation(platform, f, dialogue_id, "Side A")
    b = dialogues.add_delegation(platform, f, dialogue_id, "Side B")
    z = dialogues.add_delegation(platform, f, dialogue_id, "Absent Z", absent=True)
    for name, side, track in (
        ("a1", a, "former official"),
        ("a2", a, "expert"),
        ("b1", b, "serving official"),
    ):
        dialogues.add_member(
            platform, f, dialogue_id, name, "member", delegation_id=side, track=track
        )
    dialogues.add_member(platform, f, dialogue_id, "observer", "observer")
    if first_round:
        rounds.open_round(platform, f, dialogue_id)
    return World(platform, dialogue_id, a, b, z, [i1, i2], actors)


# ------------------------------------------------------------------ PostgreSQL
@dataclass
class Server:
    """A running throw-away PostgreSQL server."""

    port: int
    root: Path
    bin: Path
    counter: itertools.count[int]

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def new_database(self) -> str:
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
    """The folder of the PostgreSQL server binaries; fails (never skips) without them."""
    try:
        return binaries()
    except ClusterError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    """A PostgreSQL server on 127.0.0.1 for the session (fails, never skips, without one)."""
    server_binaries()
    cluster = Cluster()
    try:
        cluster.create()
    except ClusterError as error:
        cluster.remove()
        pytest.fail(str(error), pytrace=False)
    try:
        yield Server(cluster.port, cluster.root, cluster.bin, itertools.count())
    finally:
        cluster.remove()
