"""Short writes on the event loop, and their way back to the thread pool.

On SQLite the web server runs a short write (``web.deps.write``) on its event loop when
nobody else is writing: a write in the thread pool takes the GIL back after each
statement, behind the loop, and held the database for several times its own work. When
another writer is first (a thread of this process, another process), the first unit of
the call stops before it writes anything (``Platform.without_waiting``, raising
``WriteWouldWait``); the call tries again on the loop after short sleeps, then in the
thread pool, where it waits. A later
unit of the same call waits as usual, so a retry never repeats a committed unit.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backchannel.services import meetings, notes
from backchannel.services.meetings import MeetingPlan
from backchannel.services.platform import Platform, WriteWouldWait
from backchannel.storage.db import BUSY_TIMEOUT_MS
from backchannel.storage.faults import sqlite_path
from backchannel.storage.tables import AuditEntryRow
from backchannel.web.deps import RETRY_DELAYS_S, write
from conftest import World, make_settings

from .conftest import Browserless

JOIN_S = 30.0
PLENARY = MeetingPlan(starts="2030-03-14T10:00", zone="Europe/Vienna", place="Vienna")


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + JOIN_S
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.001)


def _entries(platform: Platform) -> int:
    with platform.view() as s:
        return int(s.execute(select(func.count()).select_from(AuditEntryRow)).scalar() or 0)


def _logged(platform: Platform, action: str = "test.written") -> int:
    with platform.unit() as s:
        platform.log(s, action, audience="operator")
    return threading.get_ident()


@contextmanager
def _queue_held_by_another_thread(platform: Platform) -> Iterator[threading.Event]:
    """This process's writer queue, held by another thread until the block ends."""
    assert platform.writers is not None
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        assert platform.writers is not None
        with platform.writers.turn():
            taken.set()
            release.wait(JOIN_S)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(JOIN_S)
    try:
        yield release
    finally:
        release.set()
        thread.join(JOIN_S)


@contextmanager
def _locked_by_another_process(platform: Platform) -> Iterator[sqlite3.Connection]:
    """The database's write lock, held by a connection of its own (as another process's)."""
    path = sqlite_path(platform.engine.url)
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None, timeout=JOIN_S, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("COMMIT")
        other.close()


def test_a_write_without_waiting_commits_when_nobody_else_writes(platform: Platform) -> None:
    before = _entries(platform)
    with platform.without_waiting():
        _logged(platform)
    assert _entries(platform) == before + 1


def test_it_gives_way_to_a_writer_of_this_process_before_writing(platform: Platform) -> None:
    before = _entries(platform)
    with _queue_held_by_another_thread(platform), pytest.raises(WriteWouldWait):  # noqa: SIM117
        with platform.without_waiting():
            _logged(platform)
    assert _entries(platform) == before


def test_it_gives_way_to_another_process_at_once_and_waits_again_after(
    platform: Platform,
) -> None:
    before = _entries(platform)
    with _locked_by_another_process(platform), pytest.raises(WriteWouldWait):  # noqa: SIM117
        with platform.without_waiting():
            _logged(platform)
    assert _entries(platform) == before
    with platform.unit() as s:  # the connection's busy timeout is back to the usual one
        timeout = s.connection().exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert timeout == BUSY_TIMEOUT_MS


def test_a_later_unit_of_the_same_call_waits_instead_of_giving_way(platform: Platform) -> None:
    """The first unit committed: giving way now would make the retry write it twice."""
    before = _entries(platform)
    with platform.without_waiting():
        _logged(platform)
        with _locked_by_another_process(platform) as other:
            threading.Timer(0.2, lambda: other.execute("COMMIT")).start()
            _logged(platform)  # waits for the other connection instead of raising
    assert _entries(platform) == before + 2


def test_write_runs_on_the_loop_when_free_and_tries_again_there_when_not(
    platform: Platform,
) -> None:
    attempts: list[int] = []

    async def where(call: Callable[[], int]) -> tuple[int, int]:
        return threading.get_ident(), await write(platform, call)

    def counted() -> int:
        attempts.append(threading.get_ident())
        return _logged(platform)

    before = _entries(platform)
    loop_thread, ran_on = asyncio.run(where(counted))
    assert ran_on == loop_thread and attempts == [loop_thread]

    attempts.clear()
    with _queue_held_by_another_thread(platform) as release:

        def freed_at_the_third_try() -> int:
            if len(attempts) == 2:  # the other writer finishes while this one sleeps
                release.set()
                _wait_for(lambda: platform.writers is not None and not platform.writers.held)
            return counted()

        loop_thread, ran_on = asyncio.run(where(freed_at_the_third_try))
    assert ran_on == loop_thread and attempts == [loop_thread] * 3
    assert _entries(platform) == before + 2  # one entry per call: the tries wrote nothing


def test_write_goes_to_the_pool_when_the_database_stays_busy(platform: Platform) -> None:
    attempts: list[int] = []

    def counted() -> int:
        attempts.append(threading.get_ident())
        return _logged(platform)

    async def where() -> tuple[int, int]:
        return threading.get_ident(), await write(platform, counted)

    before = _entries(platform)
    with _queue_held_by_another_thread(platform) as release:
        # held past every try on the loop: the last goes to the pool and waits there
        threading.Timer(0.5, release.set).start()
        loop_thread, ran_on = asyncio.run(where())
    assert ran_on != loop_thread
    assert attempts == [loop_thread] * (len(RETRY_DELAYS_S) + 1) + [ran_on]
    assert _entries(platform) == before + 1


def test_write_stays_in_the_pool_on_postgresql(database_url: str, tmp_path: Path) -> None:
    platform = Platform.open(make_settings(tmp_path, database_url=database_url), upgrade=True)
    try:

        async def where() -> tuple[int, int]:
            return threading.get_ident(), await write(platform, _logged, platform)

        loop_thread, ran_on = asyncio.run(where())
        assert (ran_on == loop_thread) == platform.settings.is_sqlite
    finally:
        platform.close()


def test_a_note_saved_while_another_process_writes_is_saved(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    """Through the API: the loop gives way, the pool waits for the lock, and saves."""
    a1 = clients("a1")
    meeting = meetings.schedule(
        world.platform, world.actors["facilitator"], world.dialogue_id, PLENARY
    )
    api = f"/api/v1/dialogues/{world.dialogue_id}/meetings/{meeting}/note"
    with _locked_by_another_process(world.platform) as other:
        threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
        answer = a1.client.put(
            api, json={"text": "written while the file was busy"}, headers={"X-CSRF-Token": a1.csrf}
        )
    assert answer.status_code == 200, answer.text
    found = notes.note(world.platform, world.actors["a1"], world.dialogue_id, meeting)
    assert found.text == "written while the file was busy"
