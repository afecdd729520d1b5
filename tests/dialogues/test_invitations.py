"""One invitation link, one account, on SQLite and on PostgreSQL.

Issue 12 §1.1: eight concurrent POSTs of one ``/invite/{token}`` with different user
names gave one 303 and seven 422, but all eight accounts existed and could sign in: the
account was created in a transaction of its own before the link was marked used. Now
the link is taken, the account created and the seat given in one transaction, so
racing acceptances (threads against the service, and real concurrent requests to a
running server) leave exactly one account, and a refused acceptance leaves the link
usable.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backchannel.config import Settings
from backchannel.errors import InputError, NotAllowedNow, WrongCredentials
from backchannel.services import accounts, dialogues
from backchannel.services.platform import Platform
from backchannel.storage import repo
from backchannel.web.app import create_app
from conftest import PASSWORD, Server, World, build_world, close, make_settings

from .conftest import live_server

RACERS = 8


@pytest.fixture(params=["sqlite", "postgresql"])
def both(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    """A fresh platform on SQLite, then on PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'backchannel.db'}"
    if request.param == "postgresql":
        server: Server = request.getfixturevalue("postgres")
        url = server.url(server.new_database())
    platform = Platform.open(make_settings(tmp_path, database_url=url), upgrade=True)
    yield platform
    close(platform)


def invited(platform: Platform) -> tuple[World, str]:
    """The test world and a new member invitation to delegation A."""
    world = build_world(platform)
    token = dialogues.invite(
        platform,
        world.actors["facilitator"],
        world.dialogue_id,
        "member",
        delegation_id=world.delegation_a,
        track="expert",
    )
    return world, token


def existing(platform: Platform, names: list[str]) -> list[str]:
    """Which of these accounts exist."""
    with platform.view() as s:
        return [n for n in names if repo.user_by_name(s, n) is not None]


def seats(platform: Platform, dialogue_id: str) -> int:
    with platform.view() as s:
        return len(repo.members(s, dialogue_id))


def check_one_winner(world: World, names: list[str], winners: list[str]) -> None:
    """One acceptance won; only its account exists, has the seat and signs in."""
    p = world.platform
    assert len(winners) == 1, winners
    assert existing(p, names) == winners
    (winner,) = winners
    signed_in = accounts.sign_in(p, winner, PASSWORD, "192.0.2.1")
    assert [d for d, _, _ in dialogues.my_dialogues(p, signed_in.actor)] == [world.dialogue_id]
    for loser in set(names) - {winner}:
        with pytest.raises(WrongCredentials, match="user name or password is wrong"):
            accounts.sign_in(p, loser, PASSWORD, "192.0.2.1")


def test_racing_acceptances_of_one_link_leave_one_account(both: Platform) -> None:
    world, token = invited(both)
    before = seats(both, world.dialogue_id)
    names = [f"racer{k}" for k in range(RACERS)]
    start = threading.Barrier(RACERS)
    outcomes: dict[str, str] = {}

    def accept(name: str) -> None:
        start.wait()
        try:
            dialogues.accept_invitation(both, token, name, name.title(), PASSWORD)
            outcomes[name] = "seated"
        except InputError as refused:
            outcomes[name] = refused.message

    threads = [threading.Thread(target=accept, args=(n,)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == RACERS
    winners = [n for n, outcome in outcomes.items() if outcome == "seated"]
    check_one_winner(world, names, winners)
    assert {o for o in outcomes.values() if o != "seated"} == {
        "this invitation link is not valid (used, expired or mistyped)"
    }
    assert seats(both, world.dialogue_id) == before + 1


def test_racing_requests_to_a_running_server_leave_one_account(both: Platform) -> None:
    world, token = invited(both)
    names = [f"racer{k}" for k in range(RACERS)]

    async def race(origin: str) -> list[int]:
        async with httpx.AsyncClient(base_url=origin, timeout=60, trust_env=False) as client:
            answers = await asyncio.gather(
                *(
                    client.post(
                        f"/invite/{token}",
                        data={"username": n, "display_name": n, "password": PASSWORD},
                    )
                    for n in names
                )
            )
        return sorted(a.status_code for a in answers)

    with live_server(create_app(both.settings, both)) as origin:
        statuses = asyncio.run(race(origin))
    assert statuses == [303] + [422] * (RACERS - 1)
    check_one_winner(world, names, existing(both, names))


def test_a_refused_acceptance_leaves_the_link_unused(settings: Settings) -> None:
    platform = Platform.open(settings, upgrade=True)
    world, token = invited(platform)
    with pytest.raises(NotAllowedNow, match="is taken"):
        dialogues.accept_invitation(platform, token, "a1", "Someone", PASSWORD)
    assert dialogues.accept_invitation(platform, token, "newcomer", "New", PASSWORD) == (
        world.dialogue_id
    )
    with pytest.raises(InputError, match="not valid"):
        dialogues.accept_invitation(platform, token, "another", "Another", PASSWORD)
    close(platform)
