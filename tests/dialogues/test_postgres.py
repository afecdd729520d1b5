"""The services and the storage on a real PostgreSQL server, side by side with SQLite.

The server is the session fixture ``postgres`` of ``tests/conftest.py``: a throw-away
PostgreSQL on loopback, started once; without the server binaries it fails and says how
to install them: these tests never skip.

Each test gets a fresh database; the representative tests run on both SQLite and
PostgreSQL: the flow of ``test_flow.py``, the audit chain, uniform NotFound, the
durability check, the migrations and the head schema, concurrency, and the raw files
of the database scanned for canaries.
"""

from __future__ import annotations

import contextlib
import glob
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, inspect, select, text

from backchannel.config import Settings
from backchannel.errors import BackchannelError, NotAllowedNow, NotFound
from backchannel.model.dialogue import Position
from backchannel.services import audit_log, dialogues, evaluations, positions, releases, rounds
from backchannel.services.platform import Platform, SchemaOutOfDate
from backchannel.storage import audit, migrate
from backchannel.storage.db import UnsafeDatabase, check_durability, make_engine
from backchannel.storage.tables import AuditEntryRow, Base
from backchannel.storage.vault import KeyFileError, TamperedData, init_key_file
from backchannel.web.app import create_app
from conftest import Server, World, build_world, close, make_settings, server_binaries

from .conftest import position_a, position_b, sign_in


# ------------------------------------------------------------------ one database per test
@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'backchannel.db'}"
    server: Server = request.getfixturevalue("postgres")
    return server.url(server.new_database())


@pytest.fixture
def pg_settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(tmp_path, database_url=database_url)


@pytest.fixture
def db(pg_settings: Settings) -> Iterator[Platform]:
    platform = Platform.open(pg_settings, upgrade=True)
    yield platform
    close(platform)


@pytest.fixture
def table(db: Platform) -> World:
    return build_world(db)


def evaluated(world: World) -> str:
    p, f = world.platform, world.actors["facilitator"]
    positions.save_position(p, world.actors["a1"], world.dialogue_id, position_a(world))
    positions.save_position(p, world.actors["b1"], world.dialogue_id, position_b(world))
    rounds.lock_round(p, f, world.dialogue_id)
    return evaluations.evaluate(p, f, world.dialogue_id)


# ------------------------------------------------------------------ the flow of test_flow.py
@pytest.fixture
def world(table: World) -> World:
    """test_flow's world, on each backend: its tests below run here on SQLite and PostgreSQL."""
    return table


from .test_flow import (  # noqa: E402  (collected again here, with the fixture above)
    test_a_clash_is_released_only_to_the_owner_of_the_red_line,
    test_each_side_sees_only_its_own_release,
    test_evaluation_finds_the_zone_and_the_packages,
    test_evaluations_are_rationed_and_logged_for_both_sides,
    test_only_locked_rounds_are_evaluated_and_positions_freeze,
)

__all__ = [
    "test_a_clash_is_released_only_to_the_owner_of_the_red_line",
    "test_each_side_sees_only_its_own_release",
    "test_evaluation_finds_the_zone_and_the_packages",
    "test_evaluations_are_rationed_and_logged_for_both_sides",
    "test_only_locked_rounds_are_evaluated_and_positions_freeze",
]


def test_positions_round_trip_and_carry_over(table: World) -> None:
    evaluated(table)
    p, f, d = table.platform, table.actors["facilitator"], table.dialogue_id
    rounds.open_round(p, f, d)
    (first, second) = positions.positions(p, table.actors["a2"], d)
    assert first.position == second.position == position_a(table)
    assert (first.round_number, first.revision, second.round_number, second.revision) == (
        1,
        1,
        2,
        0,
    )


# ------------------------------------------------------------------ uniform NotFound
def test_not_found_is_uniform(table: World) -> None:
    p, d, actors = table.platform, table.dialogue_id, table.actors
    evaluation_id = evaluated(table)
    attempts: list[Callable[[], object]] = [
        lambda: positions.positions(p, actors["b1"], d, table.delegation_a),
        lambda: positions.positions(p, actors["facilitator"], d, table.delegation_a),
        lambda: positions.positions(p, actors["observer"], d),
        lambda: positions.positions(p, actors["outsider"], d),
        lambda: positions.positions(p, actors["a1"], "no-such-dialogue"),
        lambda: positions.save_position(p, actors["b1"], d, Position(), table.delegation_a),
        lambda: evaluations.evaluations(p, actors["a1"], d),
        lambda: rounds.lock_round(p, actors["b1"], d),
        lambda: releases.release(p, actors["a1"], d, evaluation_id, table.delegation_b, "zone"),
        lambda: audit_log.entries(p, actors["outsider"], d),
        lambda: releases.released_to_me(p, actors["outsider"], d),
        lambda: dialogues.view(p, actors["outsider"], d),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound) as caught:
            attempt()
        assert (type(caught.value), str(caught.value), caught.value.hint) == (
            NotFound,
            "not found",
            None,
        )
    app = create_app(p.settings, p)
    b1, outsider = sign_in(app, "b1"), sign_in(app, "outsider")
    bodies = {
        b1.client.get(f"/api/v1/dialogues/{d}/position?delegation={table.delegation_a}").text,
        b1.client.get(f"/api/v1/dialogues/{d}/evaluations").text,
        b1.client.get("/api/v1/dialogues/no-such-dialogue/position").text,
        outsider.client.get(f"/api/v1/dialogues/{d}").text,
    }
    assert bodies == {'{"error":"not found","code":"not found"}'}
    pages = {
        b1.client.get(f"/d/{d}/analysis").text,
        b1.client.get("/d/no-such-dialogue/analysis").text,
    }
    assert len(pages) == 1 and "Not found" in pages.pop()
    b1.client.close()
    outsider.client.close()


# ------------------------------------------------------------------ the audit chain
def test_audit_verify_on_a_real_flow_and_after_tampering(
    table: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from backchannel.cli import main

    evaluation_id = evaluated(table)
    p, f, d = table.platform, table.actors["facilitator"], table.dialogue_id
    releases.release(p, f, d, evaluation_id, table.delegation_b, "zone")
    with p.unit() as s:
        report = audit.verify(s, p.vault.audit_key())
    assert report.ok and report.entries >= 20
    command = ["audit", "verify", "--database", p.settings.database_url]
    command += ["--key-file", str(p.settings.key_file)]
    assert main(command) == 0
    assert main([*command, "--expect", f"{report.head[0]}:{report.head[1]}"]) == 0
    assert "audit log intact" in capsys.readouterr().out
    with p.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET audience = 'tampered' WHERE seq = 18"))
        connection.execute(text("DELETE FROM audit_log WHERE seq = 9"))
    with p.unit() as s:
        problems = [str(problem) for problem in audit.verify(s, p.vault.audit_key()).problems]
    assert "entry 18 was altered (its hash does not match)" in problems
    assert "entry 9 is missing (next is 10)" in problems
    assert main(command) == 1


def test_concurrent_writers_keep_one_unbroken_chain(db: Platform) -> None:
    from conftest import user

    owners = [user(db, f"convener{n}") for n in range(6)]
    barrier = threading.Barrier(len(owners))
    errors: list[BaseException] = []

    def work(owner: Any) -> None:
        try:
            barrier.wait(timeout=30)
            d = dialogues.create_dialogue(db, owner, f"Talks of {owner.username}")
            for n in range(3):
                dialogues.add_delegation(db, owner, d, f"Side {n}")
            rounds.open_round(db, owner, d)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(o,)) for o in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.unit() as s:
        report = audit.verify(s, db.vault.audit_key())
        seqs = list(s.execute(select(AuditEntryRow.seq).order_by(AuditEntryRow.seq)).scalars())
    assert report.ok, report.problems
    # the database's first entry, then 6 owners' accounts and 5 actions each
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 1 + 6 + 6 * 5


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite's writers take turns anyway
def test_a_unit_locks_the_chain_only_from_its_end_to_its_commit(db: Platform) -> None:
    """A write unit that logged and is still at work does not hold the audit chain's
    head: another unit logs and commits meanwhile (on PostgreSQL; on SQLite the writers
    take turns anyway). The entries follow the commits, and the chain stays intact."""
    logged, other_done = threading.Event(), threading.Event()
    waited: list[bool] = []

    def slow() -> None:
        with db.unit() as s:
            db.log(s, "test.slow", audience="operator")
            logged.set()
            waited.append(other_done.wait(timeout=8.0))  # a held head would time this out

    def quick() -> None:
        logged.wait(timeout=30)
        with db.unit() as s:
            db.log(s, "test.quick", audience="operator")
        other_done.set()

    results = _together(slow, quick)
    assert results == [None, None] and waited == [True]
    with db.unit() as s:
        assert audit.verify(s, db.vault.audit_key()).ok
        last = s.execute(select(AuditEntryRow.action).order_by(AuditEntryRow.seq.desc()).limit(2))
        assert list(last.scalars()) == ["test.slow", "test.quick"]


# ------------------------------------------------------------------ concurrency rules
def patience(backend: str) -> float:
    """How long a writer waits for the others at a meeting point.

    On SQLite the first writer holds the write lock (BEGIN IMMEDIATE), so no other can
    reach the point: the wait times out (well within the 5 s busy timeout) and the
    writes run one after the other. On PostgreSQL two writers that were let in together
    meet there, after their checks and before their writes; a busy machine gets plenty
    of time to bring them together (a correct lock makes the wait time out instead).
    """
    return 1.5 if backend == "sqlite" else 8.0


@contextmanager
def pause_before(engine: Engine, statement: str, wait: Callable[[], None]) -> Iterator[None]:
    """Run ``wait()`` in any thread just before it executes SQL starting with ``statement``."""

    def hook(*args: Any) -> None:
        if args[2].lstrip().upper().startswith(statement):
            wait()

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", hook)


def meeting(parties: int, timeout: float) -> Callable[[], None]:
    barrier = threading.Barrier(parties)

    def wait() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=timeout)

    return wait


def _together(*calls: Callable[[], object]) -> list[object]:
    results: list[object] = [None] * len(calls)

    def run(n: int) -> None:
        try:
            results[n] = calls[n]()
        except BackchannelError as error:
            results[n] = type(error)
        except Exception as error:  # an unexpected one: kept for the assertion
            results[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_evaluations_stay_within_the_ration(
    table: World, backend: str, request: pytest.FixtureRequest
) -> None:
    p, f, d = table.platform, table.actors["facilitator"], table.dialogue_id
    positions.save_position(p, table.actors["a1"], d, position_a(table))
    positions.save_position(p, table.actors["b1"], d, position_b(table))
    rounds.lock_round(p, f, d)
    with pause_before(p.engine, "INSERT INTO EVALUATIONS", meeting(2, patience(backend))):
        results = _together(
            lambda: evaluations.evaluate(p, f, d), lambda: evaluations.evaluate(p, f, d)
        )
    assert sum(r is NotAllowedNow for r in results) == 1, results
    assert len(evaluations.evaluations(p, f, d)) == 1
    (view,) = rounds.rounds(p, f, d)
    assert view.evaluations_used == 1 <= view.evaluations_allowed
    evaluated_entries = [
        e for e in audit_log.entries(p, table.actors["a1"], d) if "evaluated" in e.action
    ]
    assert len(evaluated_entries) == 1


def test_a_position_cannot_be_saved_into_a_round_being_locked(
    table: World, backend: str, request: pytest.FixtureRequest
) -> None:
    p, f, d = table.platform, table.actors["facilitator"], table.dialogue_id
    checked, locked = threading.Event(), threading.Event()

    def hold_the_save() -> None:  # the state check passed; now let the lock try to happen
        checked.set()
        locked.wait(timeout=patience(backend))

    def lock() -> object:
        checked.wait(timeout=30)
        try:
            return rounds.lock_round(p, f, d)
        finally:
            locked.set()

    save = lambda: positions.save_position(p, table.actors["a1"], d, position_a(table))  # noqa: E731
    with pause_before(p.engine, "INSERT INTO POSITIONS", hold_the_save):
        results = _together(save, lock)
    assert not any(isinstance(r, Exception) for r in results), results
    order = [e.action for e in reversed(audit_log.entries(p, f, d))]
    assert order.index("position.saved") < order.index("round.locked"), order


def test_two_members_saving_at_once_both_succeed(
    table: World, backend: str, request: pytest.FixtureRequest
) -> None:
    p, d = table.platform, table.dialogue_id
    with pause_before(p.engine, "INSERT INTO POSITIONS", meeting(2, patience(backend))):
        results = _together(
            lambda: positions.save_position(p, table.actors["a1"], d, position_a(table, note="a1")),
            lambda: positions.save_position(p, table.actors["a2"], d, position_a(table, note="a2")),
        )
    assert all(isinstance(r, positions.PositionView) for r in results), results
    assert sorted(r.revision for r in results) == [1, 2]  # type: ignore[union-attr]


# ------------------------------------------------------------------ durability and schema
def test_check_durability_accepts_the_database(db: Platform, backend: str) -> None:
    found = check_durability(db.engine)
    if backend == "sqlite":
        assert found["journal_mode"] == "wal" and found["synchronous"] in ("2", "3")
    else:
        assert found == {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def test_check_durability_refuses_synchronous_commit_off(postgres: Server) -> None:
    url = postgres.url(postgres.new_database())
    weak = create_engine(url, connect_args={"options": "-c synchronous_commit=off"})
    with pytest.raises(UnsafeDatabase, match="synchronous_commit=off"):
        check_durability(weak)
    weak.dispose()
    good = make_engine(url)
    assert check_durability(good)["synchronous_commit"] == "on"
    good.dispose()


def test_platform_open_refuses_a_schema_not_at_head(pg_settings: Settings) -> None:
    # PostgreSQL: an empty database; SQLite: no file yet (refused before one is made)
    with pytest.raises(SchemaOutOfDate, match=r"not up to date|there is no database at"):
        Platform.open(pg_settings)
    close(Platform.open(pg_settings, upgrade=True))
    engine = make_engine(pg_settings.database_url)
    migrate.downgrade(engine, "base")
    with pytest.raises(SchemaOutOfDate):
        Platform.open(pg_settings)
    engine.dispose()


def test_migrations_keep_working_on_a_populated_database(pg_settings: Settings) -> None:
    platform = Platform.open(pg_settings, upgrade=True)
    world = build_world(platform)
    evaluated(world)
    close(platform)
    platform = Platform.open(pg_settings, upgrade=True)  # at head: nothing changes
    assert positions.positions(platform, world.actors["a1"], world.dialogue_id)[0].position == (
        position_a(world)
    )
    close(platform)
    engine = make_engine(pg_settings.database_url)
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()
    platform = Platform.open(pg_settings)
    evaluated(build_world(platform))
    close(platform)


def test_a_wrong_key_is_refused(pg_settings: Settings, tmp_path: Path) -> None:
    close(Platform.open(pg_settings, upgrade=True))
    other = tmp_path / "other.key"
    init_key_file(other)
    wrong = pg_settings.model_copy(update={"key_file": other})
    with pytest.raises(KeyFileError, match="does not match this database"):
        Platform.open(wrong)


def test_a_flipped_bit_or_a_moved_blob_is_tampered_data(table: World) -> None:
    p, d = table.platform, table.dialogue_id
    positions.save_position(p, table.actors["a1"], d, position_a(table, note="secret of A"))
    positions.save_position(p, table.actors["b1"], d, position_b(table, note="secret of B"))
    with p.engine.begin() as connection:
        rows = connection.execute(
            text("SELECT id, delegation_id, body_ct FROM positions WHERE dialogue_id = :d"),
            {"d": d},
        ).all()
        by_side = {r.delegation_id: (r.id, bytes(r.body_ct)) for r in rows}
        a_id, _ = by_side[table.delegation_a]
        connection.execute(
            text("UPDATE positions SET body_ct = :b WHERE id = :i"),
            {"b": by_side[table.delegation_b][1], "i": a_id},
        )
    with pytest.raises(TamperedData) as caught:
        positions.positions(p, table.actors["a1"], d)
    assert "secret" not in str(caught.value)
    with p.engine.begin() as connection:
        title = bytearray(
            connection.execute(
                text("SELECT title_ct FROM dialogues WHERE id = :d"), {"d": d}
            ).scalar_one()
        )
        title[15] ^= 0x04
        connection.execute(
            text("UPDATE dialogues SET title_ct = :b WHERE id = :d"), {"b": bytes(title), "d": d}
        )
    with pytest.raises(TamperedData):
        dialogues.view(p, table.actors["facilitator"], d)


# ------------------------------------------------------------------ canaries in the raw files
def test_no_canary_in_the_servers_files(postgres: Server, tmp_path: Path) -> None:
    name = postgres.new_database()
    settings = make_settings(tmp_path, database_url=postgres.url(name))
    platform = Platform.open(settings, upgrade=True)
    canaries = {
        what: f"cnry{secrets.token_hex(10)}"
        for what in ("title", "issue", "option", "delegation", "pseudonym", "note")
    }
    world = build_world(platform)
    p, f = platform, world.actors["facilitator"]
    other = dialogues.create_dialogue(p, f, canaries["title"])
    dialogues.add_issue(p, f, other, canaries["issue"], "unordered", [canaries["option"], "b"])
    side = dialogues.add_delegation(p, f, other, canaries["delegation"])
    dialogues.add_delegation(p, f, other, "Other side")
    dialogues.add_member(
        p,
        f,
        other,
        "a1",
        "member",
        delegation_id=side,
        track="expert",
        pseudonym=canaries["pseudonym"],
    )
    rounds.open_round(p, f, other)
    positions.save_position(p, world.actors["a1"], other, Position(note=canaries["note"] * 20))
    evaluated(world)
    close(platform)

    def hits() -> set[str]:
        files = postgres.files_of(name)
        files["server.log"] = (postgres.root / "server.log").read_bytes()
        assert any("pg_wal" in path for path in files)
        return {
            what
            for what, value in canaries.items()
            if any(value.encode() in blob for blob in files.values())
        }

    assert hits() == set()
    with psycopg.connect(
        host="127.0.0.1", port=postgres.port, user="postgres", dbname=name, autocommit=True
    ) as connection:
        connection.execute("CREATE TABLE scratch (note text)")
        connection.execute("INSERT INTO scratch VALUES (%s)", (canaries["note"],))
    assert hits() == {"note"}  # the negative control: the same scan sees plaintext


def test_missing_server_binaries_fail_with_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(glob, "glob", lambda pattern: [])
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="make postgres"):
        server_binaries()
