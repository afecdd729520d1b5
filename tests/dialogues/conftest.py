"""Fixtures for the platform tests: a fresh database, a small dialogue, signed-in clients.

``INSECURE_FAST_HASHING``: Argon2id with 64 KiB instead of 64 MiB so that the suite
creates accounts quickly. Only the tests lower it; production keeps the default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backchannel.config import Settings
from backchannel.model.dialogue import IfThen, Position, Unacceptable
from backchannel.services import accounts, dialogues, rounds
from backchannel.services.access import Actor
from backchannel.services.platform import Platform
from backchannel.storage.vault import init_key_file
from backchannel.web.app import create_app

INSECURE_FAST_HASHING = 64
PASSWORD = "correct horse battery staple"
BASE_URL = "http://127.0.0.1:8000"


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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh temporary database."""
    return make_settings(tmp_path)


@pytest.fixture
def platform(settings: Settings) -> Platform:
    """An opened platform on a fresh, migrated database."""
    return Platform.open(settings, upgrade=True)


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


def build_world(platform: Platform) -> World:
    """The dialogue of :class:`World`, round 1 open as a draft, no positions yet."""
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
    rounds.open_round(platform, f, dialogue_id)
    return World(platform, dialogue_id, a, b, z, [i1, i2], actors)


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
