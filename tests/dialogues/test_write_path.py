"""The write path and the per-process caches that keep requests cheap.

* :class:`WriterQueue` admits writers one at a time in arrival order, refuses a write
  opened inside another one, gives up after its timeout and stays usable after it;
  :meth:`Platform.unit` on SQLite goes through it, and writers of many threads still
  commit each action with its audit entry, or neither, with an intact chain.
* :class:`KeyCache` keeps one dialogue's keys under that dialogue only (a cached key
  never opens another dialogue's fields), answers NotFound for an unknown dialogue
  without caching anything, drops what :meth:`KeyCache.forget` names, and stays bounded.
* :func:`positions.save_position` refuses a bad position before it waits for the write
  lock, writes nothing when it refuses, and runs every check again under the lock when
  the agenda or the round changed after the first check.
* The app's start-up freezes the objects that live as long as the process, so the
  garbage collector's full collections no longer scan (and pause for) them, and
  shortens the GIL switch interval while it serves (restored at shutdown).

No test here measures time: waiting writers are observed through ``WriterQueue.waiting``.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backchannel.errors import InputError, NotAllowedNow, NotFound
from backchannel.model.dialogue import Agenda, Position, Unacceptable
from backchannel.services import dialogues, positions, rounds
from backchannel.services.platform import DialogueKeys, KeyCache, Platform
from backchannel.storage import audit, repo
from backchannel.storage.db import WriterQueue, WriterQueueTimeout
from backchannel.storage.tables import AuditEntryRow, DelegationRow, DialogueRow, PositionRow
from backchannel.storage.vault import TamperedData
from backchannel.web.app import SWITCH_INTERVAL_S, create_app, serving_app
from conftest import World

from .conftest import BASE_URL, position_a

JOIN_S = 30.0  # generous bound on joining a worker thread: a hang fails, never a slow run


def _wait_for(condition: Callable[[], bool]) -> None:
    """Poll until ``condition`` holds (bounded, so a broken queue fails instead of hanging)."""
    deadline = time.monotonic() + JOIN_S
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.001)


def _count(platform: Platform, table: Any) -> int:
    with platform.view() as s:
        return int(s.execute(select(func.count()).select_from(table)).scalar() or 0)


# ------------------------------------------------------------------ the writer queue
def test_writers_enter_in_the_order_they_arrived() -> None:
    queue = WriterQueue()
    order: list[int] = []

    def writer(n: int) -> None:
        with queue.turn():
            order.append(n)

    threads = []
    with queue.turn():  # hold it while five writers line up, one after the other
        for n in range(5):
            thread = threading.Thread(target=writer, args=(n,))
            thread.start()
            threads.append(thread)
            _wait_for(lambda n=n: queue.waiting == n + 1)
        assert order == []  # nobody got in while it was held
    for thread in threads:
        thread.join(JOIN_S)
    assert order == [0, 1, 2, 3, 4]
    assert not queue.held and queue.waiting == 0


def test_a_write_inside_a_write_is_refused_not_deadlocked() -> None:
    queue = WriterQueue()
    with queue.turn(), pytest.raises(RuntimeError, match="inside another"), queue.turn():
        pass
    with queue.turn():  # the refusal left it usable
        assert queue.held


def test_a_writer_that_waits_too_long_gives_up_and_the_queue_goes_on() -> None:
    queue = WriterQueue(timeout=0.05)
    outcome: list[str] = []

    def writer() -> None:
        try:
            with queue.turn():
                outcome.append("entered")
        except WriterQueueTimeout:
            outcome.append("gave up")

    with queue.turn():
        thread = threading.Thread(target=writer)
        thread.start()
        thread.join(JOIN_S)
    assert outcome == ["gave up"]
    assert queue.waiting == 0 and not queue.held
    thread = threading.Thread(target=writer)
    thread.start()
    thread.join(JOIN_S)
    assert outcome == ["gave up", "entered"]


def test_a_unit_on_sqlite_waits_in_the_queue(platform: Platform) -> None:
    assert platform.writers is not None
    done = threading.Event()

    def write() -> None:
        with platform.unit() as s:
            platform.log(s, "test.queued", audience="operator")
        done.set()

    with platform.writers.turn():
        thread = threading.Thread(target=write)
        thread.start()
        _wait_for(lambda: platform.writers is not None and platform.writers.waiting == 1)
        assert not done.is_set()  # it did not reach the database while the queue was held
    thread.join(JOIN_S)
    assert done.is_set()


def test_concurrent_writers_commit_each_action_with_its_audit_entry(world: World) -> None:
    p, d = world.platform, world.dialogue_id
    entries_before = _count(p, AuditEntryRow)
    errors: list[BaseException] = []

    def save(name: str, n: int) -> None:
        try:
            positions.save_position(p, world.actors[name], d, position_a(world, f"{name} {n}"))
        except BaseException as error:  # reported below, never swallowed
            errors.append(error)

    threads = [
        threading.Thread(target=save, args=(name, n))
        for n in range(6)
        for name in ("a1", "a2", "b1")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_S)
    assert errors == []
    assert _count(p, AuditEntryRow) == entries_before + len(threads)
    with p.view() as s:
        saved = s.execute(select(AuditEntryRow).where(AuditEntryRow.action == "position.saved"))
        assert len(saved.scalars().all()) == len(threads)
        rows = {r.delegation_id: r.revision for r in s.execute(select(PositionRow)).scalars()}
    # one row per side; A was saved 12 times (a1 and a2), B 6 times: revisions 1..n
    assert rows == {world.delegation_a: 12, world.delegation_b: 6}
    with p.unit() as s:
        assert audit.verify(s, p.vault.audit_key()).ok


def test_a_failed_unit_commits_neither_its_action_nor_its_audit_entry(world: World) -> None:
    p, d = world.platform, world.dialogue_id
    entries, delegations = _count(p, AuditEntryRow), _count(p, DelegationRow)
    with pytest.raises(ZeroDivisionError), p.unit() as s:
        repo.add(s, DelegationRow(dialogue_id=d, role="delegation", name_ct=b"x", ordinal=9))
        p.log(s, "delegation.added", dialogue_id=d, audience="all")
        raise ZeroDivisionError  # after the action and its audit entry were staged
    assert (_count(p, AuditEntryRow), _count(p, DelegationRow)) == (entries, delegations)
    assert p.writers is not None and not p.writers.held  # the turn was handed back
    dialogues.add_delegation(p, world.actors["facilitator"], d, "Side C")  # writes go on
    assert _count(p, AuditEntryRow) == entries + 1
    with p.unit() as s:
        assert audit.verify(s, p.vault.audit_key()).ok


# ------------------------------------------------------------------ the key cache
def test_a_cached_key_belongs_to_one_dialogue_only(world: World) -> None:
    p, f = world.platform, world.actors["facilitator"]
    other = dialogues.create_dialogue(p, f, "Another dialogue")
    with p.view() as s:
        mine, theirs = p.keys(s, world.dialogue_id), p.keys(s, other)
    assert (mine.dialogue_id, theirs.dialogue_id) == (world.dialogue_id, other)
    assert mine.dek != theirs.dek
    assert world.dialogue_id in p.key_cache and other in p.key_cache
    with p.view() as s:
        assert p.keys(s, world.dialogue_id) is mine  # served from the cache
        assert p.keys(s, other) is theirs
        title = repo.get(s, DialogueRow, other)
    assert title is not None
    # the other dialogue's title does not open with this dialogue's key, nor with its
    # key bytes under this dialogue's id: the id is part of the associated data
    with pytest.raises(TamperedData):
        mine.open("dialogues", "title", other, title.title_ct)
    with pytest.raises(TamperedData):
        DialogueKeys(world.dialogue_id, theirs.version, theirs.dek).open(
            "dialogues", "title", other, title.title_ct
        )
    assert theirs.open("dialogues", "title", other, title.title_ct) == "Another dialogue"


def test_an_unknown_dialogue_is_not_found_and_nothing_is_cached(platform: Platform) -> None:
    with platform.view() as s, pytest.raises(NotFound):
        platform.keys(s, "no-such-dialogue")
    assert "no-such-dialogue" not in platform.key_cache


def test_a_dialogue_whose_creation_rolled_back_leaves_no_cached_key(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = world.platform
    made: list[str] = []
    new_keys, log = p.new_keys, p.log

    def remembered(s: Any, dialogue_id: str) -> DialogueKeys:
        made.append(dialogue_id)
        return new_keys(s, dialogue_id)

    def failing(s: Any, action: str, **fields: Any) -> None:
        log(s, action, **fields)
        raise ZeroDivisionError  # the creation fails after its key was made

    monkeypatch.setattr(p, "new_keys", remembered)
    monkeypatch.setattr(p, "log", failing)
    with pytest.raises(ZeroDivisionError):
        dialogues.create_dialogue(p, world.actors["facilitator"], "Never made")
    monkeypatch.undo()
    [dialogue_id] = made
    assert dialogue_id not in p.key_cache
    with p.view() as s, pytest.raises(NotFound):
        p.keys(s, dialogue_id)


def test_forget_drops_the_named_dialogue_and_the_cache_is_bounded(world: World) -> None:
    p, d = world.platform, world.dialogue_id
    with p.view() as s:
        first = p.keys(s, d)
    p.key_cache.forget(d)
    assert d not in p.key_cache
    with p.view() as s:
        again = p.keys(s, d)  # read and unwrapped again from the database
    assert again is not first and again == first
    small = KeyCache(size=2)
    made = [DialogueKeys(f"d{n}", 1, bytes([n]) * 32) for n in range(3)]
    for keys in made:
        small.put(keys)
    assert "d0" not in small and small.get("d1") is made[1] and small.get("d2") is made[2]
    small.forget()
    assert small.get("d1") is None and small.get("d2") is None


# ------------------------------------------------------------------ position checks
@contextmanager
def _no_write_lock(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any write unit fails the test: a refusal must come before the write lock."""

    def refused() -> Any:
        raise AssertionError("the write lock was requested")

    monkeypatch.setattr(platform, "unit", refused)
    yield
    monkeypatch.undo()


def _unknown_option(world: World) -> Position:
    return Position(
        importance={world.issues[0]: 1},
        unacceptable=[Unacceptable(issue=world.issues[0], option="no such option")],
    )


def test_a_bad_position_is_refused_before_the_write_lock(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    p, d = world.platform, world.dialogue_id
    entries, stored = _count(p, AuditEntryRow), _count(p, PositionRow)
    with _no_write_lock(p, monkeypatch):
        with pytest.raises(InputError, match="not an option"):
            positions.save_position(p, world.actors["a1"], d, _unknown_option(world))
        with pytest.raises(NotFound):  # another side's delegation: refused as well
            positions.save_position(p, world.actors["a1"], d, position_a(world), world.delegation_b)
        with pytest.raises(NotFound):  # no seat in the dialogue
            positions.save_position(p, world.actors["outsider"], d, position_a(world))
    assert (_count(p, AuditEntryRow), _count(p, PositionRow)) == (entries, stored)


def test_a_position_for_a_frozen_round_is_refused_before_the_write_lock(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    p, d = world.platform, world.dialogue_id
    rounds.lock_round(p, world.actors["facilitator"], d)
    entries = _count(p, AuditEntryRow)
    with _no_write_lock(p, monkeypatch), pytest.raises(NotAllowedNow, match="frozen"):
        positions.save_position(p, world.actors["a1"], d, position_a(world))
    assert _count(p, AuditEntryRow) == entries and _count(p, PositionRow) == 0


def _between_check_and_write(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[], None]
) -> list[int]:
    """Run ``change`` once, right after the first (lock-free) check of a position."""
    original = positions._check_position
    calls: list[int] = []

    def checked(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        found = original(*args, **kwargs)
        if len(calls) == 1:
            change()
        return found

    monkeypatch.setattr(positions, "_check_position", checked)
    return calls


def test_an_agenda_changed_after_the_check_is_checked_again_under_the_lock(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    kept = dialogues.view(p, f, d).agenda.issues[1:]
    calls = _between_check_and_write(
        monkeypatch, lambda: dialogues.set_agenda(p, f, d, Agenda(issues=kept))
    )
    entries = _count(p, AuditEntryRow)
    with pytest.raises(InputError, match="unknown issue"):  # one that is gone now
        positions.save_position(p, world.actors["a1"], d, position_a(world))
    assert len(calls) == 2  # checked once without the lock, once again under it
    assert _count(p, AuditEntryRow) == entries + 1  # only the agenda change was logged
    assert _count(p, PositionRow) == 0


def test_a_round_locked_after_the_check_refuses_the_write(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    calls = _between_check_and_write(monkeypatch, lambda: rounds.lock_round(p, f, d))
    with pytest.raises(NotAllowedNow, match="frozen"):
        positions.save_position(p, world.actors["a1"], d, position_a(world))
    assert len(calls) == 2 and _count(p, PositionRow) == 0


def test_an_unchanged_dialogue_is_written_after_one_check(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    p, d = world.platform, world.dialogue_id
    calls = _between_check_and_write(monkeypatch, lambda: None)
    saved = positions.save_position(p, world.actors["a1"], d, position_a(world, "kept"))
    assert len(calls) == 1 and saved.revision == 1
    [history] = positions.positions(p, world.actors["a1"], d)
    assert history.position.note == "kept"


# ------------------------------------------------------------------ one snapshot
def test_the_overview_is_the_view_and_the_rounds_of_one_seat(world: World) -> None:
    p, d = world.platform, world.dialogue_id
    for name in ("facilitator", "a1", "b1", "observer"):
        actor = world.actors[name]
        view, found = rounds.overview(p, actor, d)
        assert view == dialogues.view(p, actor, d)
        assert found == rounds.rounds(p, actor, d)
    with pytest.raises(NotFound):
        rounds.overview(p, world.actors["outsider"], d)


# ------------------------------------------------------------------ the server process
def test_serving_freezes_the_start_up_heap_and_shortens_the_gil_interval(
    platform: Platform,
) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        test_app = create_app(platform.settings, platform)
        with TestClient(test_app, base_url=BASE_URL):  # an app inside a longer-lived process
            assert gc.get_freeze_count() == 0  # leaves the collector alone
        served = serving_app(platform.settings, platform)
        assert gc.get_freeze_count() > 10_000  # modules, the app, the ORM machinery
        before = sys.getswitchinterval()
        with TestClient(served, base_url=BASE_URL) as client:  # runs the lifespan
            assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
            assert client.get("/api/v1/dialogues").status_code == 401  # still serves
        assert sys.getswitchinterval() == pytest.approx(before)  # restored at shutdown
    finally:
        gc.unfreeze()
