"""The sign-in throttle under attack: no forged sources, no lock-out, no flood, few rows.

Issue 12 §1.2: uvicorn believed ``X-Forwarded-For`` from loopback, so 50 wrong
passwords with varying headers got no 429; 20 wrong passwords from one address locked
the real user out; a flood of 30 bogus sign-ins raised a real sign-in from 0.15 s to
4 s and wrote an audit row per failure. Here, against a real server started the way
``backchannel serve`` starts it and against the app:

* ``X-Forwarded-For`` is ignored unless the peer is a configured trusted proxy;
* the real user signs in from another address after 20+ failures from one;
* failures on one account from many addresses delay its sign-ins (growing, capped),
  one at a time, and never refuse the right password;
* a flood gets immediate 429s once its address (or the server) has no place left for
  a password check, instead of queueing in front of everyone else;
* the audit log counts failures per (account, source) and window, one entry each.

The latency under a flood is measured by ``benchmarks/signin_flood_bench.py``, not here.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import inspect, select, text

from backchannel.config import SIGNIN_QUEUE_PER_PLACE, Settings
from backchannel.errors import InputError, TooManyAttempts
from backchannel.services import accounts, throttle
from backchannel.services.platform import Platform
from backchannel.storage import migrate
from backchannel.storage.db import make_engine
from backchannel.storage.tables import AuditEntryRow, utcnow
from backchannel.web import gate as gate_module
from backchannel.web.app import create_app, server_options
from backchannel.web.gate import SignInGate, TrustedProxies
from conftest import PASSWORD, World, build_world, close, make_settings

from .conftest import live_server, row_counts

WRONG = "not the password at all"


def serve_options(settings: Settings) -> dict[str, Any]:
    """What ``backchannel serve`` gives uvicorn, less the address (the test binds one)."""
    found = server_options(settings)
    return {k: v for k, v in found.items() if k not in ("host", "port")}


@contextmanager
def served(tmp_path: Path, **more: object) -> Iterator[tuple[str, World]]:
    """The world on a server started like ``backchannel serve``; yields its origin."""
    settings = make_settings(tmp_path, **more)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    try:
        with live_server(create_app(settings, platform), **serve_options(settings)) as origin:
            yield origin, world
    finally:
        close(platform)


def client_from(origin: str, address: str) -> httpx.Client:
    """A client whose connections come from ``address`` (any 127.x.y.z is loopback)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=origin, transport=transport, timeout=30, trust_env=False)


def attempt(client: httpx.Client, username: str, password: str, **headers: str) -> int:
    body = {"username": username, "password": password}
    return client.post("/api/v1/session", json=body, headers=headers).status_code


# ------------------------------------------------------------------ X-Forwarded-For
def test_forwarded_for_from_an_untrusted_peer_changes_nothing(tmp_path: Path) -> None:
    with served(tmp_path) as (origin, world), client_from(origin, "127.0.0.1") as client:
        allowed = world.platform.settings.login_failures_allowed
        statuses = [
            attempt(client, "b1", WRONG, **{"X-Forwarded-For": f"198.51.100.{k}"})
            for k in range(50)
        ]
        assert statuses == [401] * allowed + [429] * (50 - allowed)
        right = attempt(client, "b1", PASSWORD, **{"X-Forwarded-For": "203.0.113.9"})
        assert right == 429  # the same address: the pair is paused, whatever the header


def test_a_trusted_proxy_passes_on_the_client_address(tmp_path: Path) -> None:
    with (
        served(tmp_path, trusted_proxies="127.0.0.1") as (origin, world),
        client_from(origin, "127.0.0.1") as proxy,
        client_from(origin, "127.0.0.2") as stranger,
    ):
        allowed = world.platform.settings.login_failures_allowed
        forged = {"X-Forwarded-For": "198.51.100.7"}
        statuses = [attempt(proxy, "b1", WRONG, **forged) for _ in range(allowed + 2)]
        assert statuses == [401] * allowed + [429] * 2
        elsewhere = {"X-Forwarded-For": "203.0.113.9"}
        assert attempt(proxy, "b1", PASSWORD, **elsewhere) == 200
        # a peer that is not a trusted proxy is judged by its own address
        assert attempt(stranger, "b1", PASSWORD, **forged) == 200


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("192.0.2.5", ["198.51.100.1"], "192.0.2.5"),  # not a proxy: its header is ignored
        ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["203.0.113.9, 198.51.100.1"], "198.51.100.1"),  # the nearest hop
        ("127.0.0.1", ["203.0.113.9, 10.1.2.3"], "203.0.113.9"),  # 10/8 is a proxy too
        ("127.0.0.1", ["203.0.113.9", "10.1.2.3"], "203.0.113.9"),  # two headers
        ("127.0.0.1", ["198.51.100.1:4321"], "198.51.100.1"),
        ("127.0.0.1", ["[2001:db8::1]:4321"], "2001:db8::1"),
        ("127.0.0.1", ["10.9.9.9, 127.0.0.1"], "10.9.9.9"),  # all proxies: the first
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", ["not-an-address"], "not-an-address"),
    ],
)
def test_the_client_behind_trusted_proxies(peer: str, forwarded: list[str], client: str) -> None:
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert proxies.client(peer, forwarded) == client
    # applied again to its own answer (as after uvicorn applied it), the rule keeps it
    assert proxies.client(client, forwarded) == client
    assert TrustedProxies([]).client(peer, forwarded) == peer


def test_serve_believes_proxy_headers_only_from_trusted_proxies(tmp_path: Path) -> None:
    plain = server_options(make_settings(tmp_path))
    assert plain["proxy_headers"] is False
    trusting = server_options(make_settings(tmp_path, trusted_proxies="10.0.0.1, 10.1.0.0/16"))
    assert trusting["proxy_headers"] is True
    assert trusting["forwarded_allow_ips"] == "10.0.0.1/32,10.1.0.0/16"
    with pytest.raises(ValueError, match="not an IP address or network"):
        make_settings(tmp_path, trusted_proxies="*")


def test_serve_runs_uvicorn_on_its_c_parser_and_loop(tmp_path: Path) -> None:
    """httptools and uvloop, named (a missing one fails at start-up, not silently slower)."""
    config = uvicorn.Config(create_app, factory=True, **server_options(make_settings(tmp_path)))
    assert config.http == "httptools" and config.loop == "uvloop"
    loop = config.get_loop_factory()()  # type: ignore[misc]
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()


# ------------------------------------------------------------------ no lock-out
def test_the_real_user_signs_in_after_many_failures_from_another_address(
    tmp_path: Path,
) -> None:
    with (
        served(tmp_path) as (origin, _),
        client_from(origin, "127.0.0.2") as attacker,
        client_from(origin, "127.0.0.3") as user,
    ):
        statuses = [attempt(attacker, "b1", WRONG) for _ in range(25)]
        assert statuses.count(429) == 20
        assert attempt(user, "b1", PASSWORD) == 200
        assert attempt(attacker, "a1", PASSWORD) == 200  # other accounts are not paused


def fail_from_many(platform: Platform, name: str, count: int, start: int = 0) -> None:
    for k in range(start, start + count):  # one failure per address: no pair is paused
        with pytest.raises(InputError):
            accounts.sign_in(platform, name, WRONG, f"198.51.100.{k}")


def test_failures_from_many_addresses_delay_the_account_growing_and_capped(
    world: World,
) -> None:
    p = world.platform
    fail_from_many(p, "b1", throttle.BACKOFF_AFTER - 1)
    assert accounts.sign_in_delay(p, "b1") == 0
    fail_from_many(p, "b1", 1, start=100)
    assert accounts.sign_in_delay(p, "b1") == throttle.BACKOFF_FIRST_S
    fail_from_many(p, "b1", throttle.BACKOFF_DOUBLING, start=110)
    assert accounts.sign_in_delay(p, "b1") == 2 * throttle.BACKOFF_FIRST_S
    fail_from_many(p, "b1", 30, start=120)
    assert accounts.sign_in_delay(p, "b1") == throttle.BACKOFF_MAX_S
    assert accounts.sign_in_delay(p, " B1 ") == throttle.BACKOFF_MAX_S
    assert accounts.sign_in_delay(p, "a1") == 0  # another account is not delayed
    later = utcnow() + timedelta(seconds=throttle.BACKOFF_WINDOW_S + 1)
    assert accounts.sign_in_delay(p, "b1", now=later) == 0
    # a name without an account is treated the same (no hint that it does not exist)
    fail_from_many(p, "nobody-here", throttle.BACKOFF_AFTER)
    assert accounts.sign_in_delay(p, "nobody-here") == throttle.BACKOFF_FIRST_S


def test_the_back_off_delays_the_right_password_and_never_refuses_it(
    world: World, app: FastAPI
) -> None:
    fail_from_many(world.platform, "b1", throttle.BACKOFF_AFTER)
    delay = accounts.sign_in_delay(world.platform, "b1")

    async def sign_in() -> tuple[int, float]:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.50", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            start = time.monotonic()
            first = await c.post("/api/v1/session", json={"username": "b1", "password": WRONG})
            second = await c.post("/api/v1/session", json={"username": "b1", "password": PASSWORD})
            assert first.status_code == 401
            return second.status_code, time.monotonic() - start

    status, took = asyncio.run(sign_in())
    assert status == 200
    assert took >= delay  # the second attempt waited its turn after the first


def test_attempts_on_a_backed_off_account_take_turns() -> None:
    gate = SignInGate(overall=10, per_source=10)
    entered: list[float] = []

    async def one() -> None:
        async with gate.turn("b1", 0.2):
            entered.append(asyncio.get_running_loop().time())
            await asyncio.sleep(0.01)

    async def three() -> None:
        await asyncio.gather(one(), one(), one())
        async with gate.turn("a1", 0.0):  # no back-off: no wait, no bookkeeping
            pass

    asyncio.run(three())
    gaps = [b - a for a, b in itertools.pairwise(entered)]
    assert len(gaps) == 2 and all(gap >= 0.2 for gap in gaps), gaps
    assert gate._turns == {} and gate._queued == {}  # nothing left behind


def test_no_more_attempts_wait_for_one_account_than_there_are_places() -> None:
    gate = SignInGate(overall=2, per_source=1)

    async def waiting() -> str:
        async def one() -> None:
            async with gate.turn("b1", 0.3):
                await asyncio.sleep(0.2)  # a password check under way

        queued = [asyncio.create_task(one()) for _ in range(2)]
        await asyncio.sleep(0.05)  # one checking, one waiting its turn
        try:
            async with gate.turn("b1", 0.3):
                return "admitted"
        except TooManyAttempts as refused:
            return refused.message
        finally:
            await asyncio.gather(*queued)

    assert asyncio.run(waiting()) == "too many sign-ins to this account at once"


# ------------------------------------------------------------------ a flood
def test_a_flood_fills_a_short_queue_then_gets_immediate_refusals(
    world: World, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = world.platform.settings
    per_source, overall = settings.signin_concurrency_per_source, settings.signin_concurrency
    assert (per_source, overall) == (1, 4)
    gate: SignInGate = app.state.signin_gate
    queue = gate.queue
    assert queue == overall * SIGNIN_QUEUE_PER_PLACE == settings.sign_in_queue
    release = threading.Event()
    started = threading.Semaphore(0)
    real = accounts.verify_password

    def slow(*args: Any) -> bool:  # a password check that waits until the test says
        started.release()
        release.wait(timeout=30)
        return real(*args)

    monkeypatch.setattr(accounts, "verify_password", slow)

    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 1234))
        return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")

    async def flood() -> dict[str, Any]:
        body = {"username": "b1", "password": WRONG}
        flooders = [client(f"10.0.0.{k}") for k in range(1 + overall - per_source)]
        waiters = [client(f"10.0.1.{k}") for k in range(queue)]
        held: list[asyncio.Task[httpx.Response]] = []

        async def hold(c: httpx.AsyncClient, count: int) -> None:
            held.extend(
                asyncio.create_task(c.post("/api/v1/session", json=body)) for _ in range(count)
            )
            for _ in range(count):
                assert await asyncio.to_thread(started.acquire, timeout=10)

        await hold(flooders[0], per_source)
        same_source = await flooders[0].post("/api/v1/session", json=body)
        for c in flooders[1:]:  # one each from other addresses: every check place taken
            await hold(c, 1)
        for c in waiters:  # then the queue fills, checking nothing
            held.append(asyncio.create_task(c.post("/api/v1/session", json=body)))
        for _ in range(200):
            if gate.waiting == queue:
                break
            await asyncio.sleep(0.01)
        queued = gate.waiting
        newcomer = client("10.0.0.200")
        elsewhere = await newcomer.post("/api/v1/session", json=body)
        still_held = sum(not t.done() for t in held)
        checks_while_full = gate.checking
        release.set()
        done = await asyncio.gather(*held)
        for c in [*flooders, *waiters, newcomer]:
            await c.aclose()
        return {
            "same source": (same_source.status_code, same_source.json()["error"]),
            "queued": queued,
            "elsewhere": (elsewhere.status_code, elsewhere.json()["error"]),
            "held while refused": still_held,
            "checks while full": checks_while_full,
            "held": [r.status_code for r in done],
        }

    found = asyncio.run(flood())
    assert found["same source"] == (429, "too many sign-ins from your address at once")
    assert found["queued"] == queue
    assert found["elsewhere"] == (429, "the server is busy with other sign-ins")
    assert found["held while refused"] == overall + queue  # refused at once, while they waited
    assert found["checks while full"] == overall  # never more Argon2 work than the places
    assert found["held"] == [401] * (overall + queue)  # the queue was served, not dropped


def test_people_who_sign_in_together_wait_their_turn(world: World, app: FastAPI) -> None:
    """Ten people at once, more than the places (4), fewer than places and queue (12):
    every one is signed in, none refused."""
    gate: SignInGate = app.state.signin_gate
    people = ["facilitator", "a1", "a2", "b1", "observer", "outsider"] * 2
    people = people[:10]
    assert gate.overall < len(people) <= gate.overall + gate.queue

    async def together() -> list[int]:
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=(f"10.0.2.{k}", 1234)),
                base_url="http://127.0.0.1",
            )
            for k in range(len(people))
        ]
        answers = await asyncio.gather(
            *(
                c.post("/api/v1/session", json={"username": name, "password": PASSWORD})
                for c, name in zip(clients, people, strict=True)
            )
        )
        for c in clients:
            await c.aclose()
        return [a.status_code for a in answers]

    assert asyncio.run(together()) == [200] * len(people)


def test_a_wait_too_long_is_refused(
    world: World, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate: SignInGate = app.state.signin_gate
    monkeypatch.setattr(gate_module, "QUEUE_WAIT_S", 0.05)
    gate.checking = gate.overall  # every place taken, and none comes free

    async def waits() -> int:
        transport = httpx.ASGITransport(app=app, client=("10.0.3.1", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            answer = await c.post("/api/v1/session", json={"username": "b1", "password": WRONG})
            return answer.status_code

    try:
        assert asyncio.run(waits()) == 429
        assert gate.waiting == 0
    finally:
        gate.checking = 0


def test_the_sign_in_page_says_when_the_server_is_busy(
    world: World, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate: SignInGate = app.state.signin_gate
    monkeypatch.setattr(gate, "overall", 0)
    transport = httpx.ASGITransport(app=app, client=("10.0.0.9", 1234))

    async def page() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.post("/signin", data={"username": "b1", "password": PASSWORD})

    response = asyncio.run(page())
    assert response.status_code == 429
    assert "busy with other sign-ins" in response.text


# ------------------------------------------------------------------ the audit log
def failed_entries(platform: Platform) -> list[AuditEntryRow]:
    with platform.view() as s:
        query = select(AuditEntryRow).where(AuditEntryRow.action == "signin.failed")
        return list(s.execute(query.order_by(AuditEntryRow.seq)).scalars())


def test_failed_sign_ins_are_counted_per_account_source_and_window(world: World) -> None:
    p = world.platform
    window = p.settings.login_window_seconds
    start = throttle._window_start(utcnow(), window) + timedelta(seconds=1)
    for k in range(p.settings.login_failures_allowed):
        with pytest.raises(InputError):
            accounts.sign_in(p, "b1", WRONG, "198.51.100.1", now=start + timedelta(seconds=k))
    with pytest.raises(TooManyAttempts):  # refused unchecked: not a failure, nothing written
        accounts.sign_in(p, "b1", WRONG, "198.51.100.1", now=start + timedelta(seconds=9))
    for k in range(3):
        with pytest.raises(InputError):
            accounts.sign_in(p, "b1", WRONG, "198.51.100.2", now=start + timedelta(seconds=k))
    with pytest.raises(InputError):
        accounts.sign_in(p, "nobody-here", WRONG, "198.51.100.2", now=start)
    assert failed_entries(p) == []  # the window is not over: nothing counted yet
    later = start + timedelta(seconds=2 * window)
    accounts.sign_in(p, "a1", PASSWORD, "192.0.2.1", now=later)  # anyone's sign-in counts them
    found = failed_entries(p)
    details = [json.loads(e.detail) for e in found]
    assert sorted((d["failures"], e.target) for d, e in zip(details, found, strict=True)) == [
        (1, None),
        (3, world.actors["b1"].user_id),
        (5, world.actors["b1"].user_id),
    ]
    assert {d["window_seconds"] for d in details} == {window}
    assert len({d["pair"] for d in details}) == 3
    assert all(e.audience == "operator" for e in found)
    accounts.sign_in(p, "a1", PASSWORD, "192.0.2.1", now=later + timedelta(seconds=1))
    assert len(failed_entries(p)) == 3  # each window counted once


def test_a_success_counts_its_own_failures_at_once(world: World) -> None:
    p = world.platform
    for _ in range(2):
        with pytest.raises(InputError):
            accounts.sign_in(p, "b1", WRONG, "198.51.100.1")
    accounts.sign_in(p, "b1", PASSWORD, "198.51.100.1")
    (entry,) = failed_entries(p)
    assert json.loads(entry.detail)["failures"] == 2
    for _ in range(p.settings.login_failures_allowed):  # the pair starts afresh
        with pytest.raises(InputError):
            accounts.sign_in(p, "b1", WRONG, "198.51.100.1")


def test_failures_on_postgresql_are_counted_once(postgres: Any, tmp_path: Path) -> None:
    url = postgres.url(postgres.new_database())
    platform = Platform.open(make_settings(tmp_path, database_url=url), upgrade=True)
    build_world(platform)
    errors: list[BaseException] = []

    def fail(k: int) -> None:
        try:
            accounts.sign_in(platform, "b1", WRONG, f"198.51.100.{k % 3}")
        except InputError:
            pass
        except BaseException as error:  # kept for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=fail, args=(k,)) for k in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    later = utcnow() + timedelta(seconds=2 * platform.settings.login_window_seconds)
    done: list[Callable[[], object]] = [
        lambda: accounts.sign_in(platform, "a1", PASSWORD, "192.0.2.1", now=later)
    ] * 4
    threads = [threading.Thread(target=f) for f in done]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    counted = [json.loads(e.detail)["failures"] for e in failed_entries(platform)]
    assert sum(counted) == 9 and len(counted) <= 6, counted  # 3 sources, 1-2 windows
    close(platform)


# ------------------------------------------------------------------ migration 0004
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0004_up_and_down_with_data(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'backchannel.db'}"
    if backend == "postgresql":
        server = request.getfixturevalue("postgres")
        url = server.url(server.new_database())
    settings = make_settings(tmp_path, database_url=url)
    platform = Platform.open(settings, upgrade=True)
    build_world(platform)
    fail_from_many(platform, "b1", 3)
    close(platform)
    engine = make_engine(url)
    before = row_counts(engine)
    assert before["login_failures"] == 3
    migrate.downgrade(engine, "0003")
    columns = {c["name"] for c in inspect(engine).get_columns("login_failures")}
    assert columns == {"id", "key", "at"}
    with engine.begin() as connection:  # a failure of the old kind, forgotten on upgrade
        connection.execute(
            text("INSERT INTO login_failures (id, key, at) VALUES ('x', 'k', CURRENT_TIMESTAMP)")
        )
    migrate.upgrade(engine, "0004")
    columns = {c["name"] for c in inspect(engine).get_columns("login_failures")}
    assert columns == {"id", "key", "account", "user_id", "at", "reported"}
    migrate.upgrade(engine)
    # the rest is all there (signed checkpoints, schema 0005, go below their schema)
    assert row_counts(engine) == {**before, "login_failures": 0, "checkpoints": 0}
    engine.dispose()
    platform = Platform.open(settings)
    fail_from_many(platform, "b1", throttle.BACKOFF_AFTER)
    assert accounts.sign_in_delay(platform, "b1") == throttle.BACKOFF_FIRST_S
    close(platform)
