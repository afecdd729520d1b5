"""Fixtures for the platform tests: a fresh database, a small dialogue, signed-in clients.

The settings, the world and the PostgreSQL server they share with other folders are in
``tests/conftest.py``.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text

from backchannel.config import Settings
from backchannel.model.dialogue import IfThen, Position, Unacceptable
from backchannel.services.platform import Platform
from backchannel.storage.tables import Base
from backchannel.web.app import create_app
from conftest import PASSWORD, Server, World, build_world, make_settings

BASE_URL = "http://127.0.0.1:8000"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh temporary database."""
    return make_settings(tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database: an SQLite file, then one on the shared PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'backchannel.db'}"
    server: Server = request.getfixturevalue("postgres")
    return server.url(server.new_database())


@pytest.fixture
def platform(settings: Settings) -> Platform:
    """An opened platform on a fresh, migrated database."""
    return Platform.open(settings, upgrade=True)


def position_a(world: World, note: str = "") -> Position:
    """An illustrative position of side A."""
    i1, i2 = world.issues
    return Position(
        importance={i1: 1, i2: 2},
        ratings={i1: {"full": 100, "partial": 60}, i2: {"keep": 100, "ease": 50}},
        unacceptable=[Unacceptable(issue=i2, option="lift")],
        walk_away=20,
        note=note,
    )


def position_b(world: World, note: str = "") -> Position:
    """An illustrative position of side B (with a condition)."""
    i1, i2 = world.issues
    return Position(
        importance={i2: 1, i1: 2},
        ratings={i2: {"lift": 100, "ease": 70}, i1: {"none": 100, "partial": 60}},
        unacceptable=[Unacceptable(issue=i1, option="full")],
        rules=[
            IfThen(
                if_issue=i1, if_options=["partial"], then_issue=i2, then_options=["ease", "lift"]
            )
        ],
        note=note,
    )


@pytest.fixture
def world(platform: Platform) -> World:
    """A fresh :class:`World`."""
    return build_world(platform)


@pytest.fixture
def app(platform: Platform) -> FastAPI:
    """The web application on the test platform."""
    return create_app(platform.settings, platform)


@dataclass
class Browserless:
    """A signed-in test client and its CSRF token."""

    client: TestClient
    csrf: str


def sign_in(app: FastAPI, username: str, password: str = PASSWORD) -> Browserless:
    """A client signed in through the JSON API (cookie set, CSRF token kept)."""
    client = TestClient(app, base_url=BASE_URL)
    response = client.post("/api/v1/session", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return Browserless(client, response.json()["csrf"])


@pytest.fixture
def clients(app: FastAPI, world: World) -> Iterator[Callable[[str], Browserless]]:
    """``clients(name)``: a signed-in client for one of the world's actors."""
    made: dict[str, Browserless] = {}

    def get(name: str) -> Browserless:
        if name not in made:
            made[name] = sign_in(app, name)
        return made[name]

    yield get
    for b in made.values():
        b.client.close()


def csrf_of(html: str) -> str:
    """The CSRF token in a rendered page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


@contextmanager
def live_server(app: FastAPI, host: str = "127.0.0.1", **options: Any) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free port of ``host``; yields its origin.

    ``options`` go to ``uvicorn.Config`` (e.g. the proxy settings of ``backchannel serve``).
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((host, 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", **{"log_level": "warning", **options})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table of the schema (the data a migration must keep); a table that the
    database's revision does not have yet counts as empty."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return {
            table: int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() or 0)
            if table in present
            else 0
            for table in sorted(Base.metadata.tables)
        }
