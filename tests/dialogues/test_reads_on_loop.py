"""Reads on the event loop: the read-only guard, and the session's rare writes.

On SQLite the web server runs read-only service calls on its event loop
(``web.deps.read``); a write opened there must fail at once, and the session check's
writes (refreshing ``last_seen_at``, deleting a stale session) must still happen. On
PostgreSQL, whose reads wait on a socket, they run in the thread pool.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from anyio import to_thread
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from backchannel.services import accounts, rounds
from backchannel.services.platform import Platform
from backchannel.storage.tables import SessionRow, as_utc, utcnow
from backchannel.web.app import POSTGRES_THREADS, create_app
from backchannel.web.deps import read
from conftest import PASSWORD, World, make_settings

from .conftest import BASE_URL, Browserless


def test_a_write_unit_inside_a_read_only_block_raises(platform: Platform) -> None:
    with platform.read_only(), pytest.raises(RuntimeError, match="read-only"):  # noqa: SIM117
        with platform.unit():
            pass
    with platform.unit():  # outside the block, writing works again
        pass


def _where() -> int:
    return threading.get_ident()


async def _threads(platform: Platform) -> tuple[int, int]:
    """The loop's thread, and the thread :func:`read` ran a call on."""
    return threading.get_ident(), await read(platform, _where)


def test_read_runs_on_the_loop_on_sqlite_and_in_the_pool_on_postgresql(
    database_url: str, tmp_path: Path
) -> None:
    """SQLite: on the loop, where a write fails at once. PostgreSQL: in a worker thread
    (reads on the loop would wait on the server one after the other)."""
    platform = Platform.open(make_settings(tmp_path, database_url=database_url), upgrade=True)

    def writes() -> None:
        with platform.unit():
            pass

    try:
        loop_thread, call_thread = asyncio.run(_threads(platform))
        if platform.settings.is_sqlite:
            assert call_thread == loop_thread
            with pytest.raises(RuntimeError, match="read-only"):
                asyncio.run(read(platform, writes))
        else:
            assert call_thread != loop_thread
    finally:
        platform.close()


def test_the_read_only_mark_does_not_outlive_the_call(platform: Platform) -> None:
    async def twice() -> None:
        await read(platform, lambda: None)
        with platform.unit():  # the same task, after the read
            pass

    asyncio.run(twice())


def _last_seen(platform: Platform, digest: str) -> object:
    with platform.view() as s:
        return s.execute(
            select(SessionRow.last_seen_at).where(SessionRow.token_hash == digest)
        ).scalar()


def _age(platform: Platform, digest: str, by: timedelta) -> None:
    with platform.unit() as s:
        s.execute(
            update(SessionRow)
            .where(SessionRow.token_hash == digest)
            .values(last_seen_at=utcnow() - by)
        )


def test_look_up_reads_only_and_names_the_write_due(world: World) -> None:
    p = world.platform
    token = accounts.sign_in(p, "a1", PASSWORD, "192.0.2.1").token
    found = accounts.look_up(p, token)
    assert found.current is not None and found.upkeep is None
    _age(p, found.digest, timedelta(seconds=45))
    before = _last_seen(p, found.digest)
    with p.read_only():  # would raise if it tried to write
        due = accounts.look_up(p, token)
    assert due.upkeep == "touch" and due.current is not None
    assert _last_seen(p, found.digest) == before
    accounts.keep_up(p, due)
    assert as_utc(_last_seen(p, found.digest)) > as_utc(before)  # type: ignore[arg-type]
    _age(p, found.digest, timedelta(minutes=p.settings.session_idle_minutes + 1))
    stale = accounts.look_up(p, token)
    assert (stale.current, stale.upkeep) == (None, "end")
    assert accounts.look_up(p, None).current is None
    assert accounts.look_up(p, "no such token").upkeep is None


def test_the_web_refreshes_a_session_and_ends_a_stale_one(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    p = world.platform
    a1 = clients("a1").client
    digest = accounts._digest(a1.cookies["bc_session"])
    _age(p, digest, timedelta(seconds=45))
    aged = as_utc(_last_seen(p, digest))  # type: ignore[arg-type]
    assert a1.get("/api/v1/dialogues").status_code == 200
    assert as_utc(_last_seen(p, digest)) > aged + timedelta(seconds=30)  # type: ignore[arg-type]
    _age(p, digest, timedelta(minutes=p.settings.session_idle_minutes + 1))
    assert a1.get(f"/api/v1/dialogues/{world.dialogue_id}/log").status_code == 401
    assert _last_seen(p, digest) is None  # the stale session is gone from the database


def test_every_read_the_web_runs_on_the_loop_is_read_only(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    """Every GET of the API and the pages, as each seat: none opens a write unit."""
    d = world.dialogue_id
    paths = ["", "/rounds", "/position", "/releases", "/log", "/evaluations"]
    paths += ["/invitations", "/readiness"]
    pages = ["", "/position", "/analysis", "/releases", "/log", "/history", "/rounds/evaluate"]
    for who in ("facilitator", "a1", "b1", "observer"):
        client = clients(who).client
        for path in paths:
            assert client.get(f"/api/v1/dialogues/{d}{path}").status_code in (200, 403, 404, 409)
        for page in pages:
            assert client.get(f"/d/{d}{page}").status_code in (200, 303, 404, 409)
        assert client.get("/api/v1/dialogues").status_code == 200
        assert client.get("/dialogues").status_code == 200


def test_a_read_route_that_writes_fails_loudly(
    world: World, clients: Callable[[str], Browserless], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative control: a read service that opens a write unit gets a 500, not a stall."""
    original = rounds.rounds

    def writes_too(platform: Platform, *args: object) -> object:
        with platform.unit():
            pass
        return original(platform, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(rounds, "rounds", writes_too)
    response = clients("a1").client.get(f"/api/v1/dialogues/{world.dialogue_id}/rounds")
    assert response.status_code == 500


def test_the_application_matches_its_routes_in_one_flat_list(platform: Platform) -> None:
    """Every route sits in the application's own list: no included router for each request
    to walk route by route before the route is chosen (FastAPI 0.137 and later)."""
    from fastapi.routing import APIRoute
    from starlette.routing import Mount, Route

    from backchannel.web.app import create_app

    routes = create_app(platform.settings, platform).router.routes
    assert len(routes) > 100
    assert all(isinstance(r, APIRoute | Route | Mount) for r in routes), {
        type(r).__name__ for r in routes
    }


def test_a_server_on_postgresql_keeps_a_small_thread_pool(
    database_url: str, tmp_path: Path
) -> None:
    """PostgreSQL: 8 workers (40 fought for the GIL: p99 1.3-1.6 s instead of 0.4-0.6 s at 200
    users); SQLite, whose reads and short writes run on the loop: AnyIO's default."""
    platform = Platform.open(make_settings(tmp_path, database_url=database_url), upgrade=True)

    async def workers() -> float:
        return to_thread.current_default_thread_limiter().total_tokens

    try:
        app = create_app(platform.settings, platform)
        with TestClient(app, base_url=BASE_URL) as client:  # runs the lifespan
            assert client.portal is not None
            found = client.portal.call(workers)
        assert found == (40 if platform.settings.is_sqlite else POSTGRES_THREADS)
    finally:
        platform.close()
