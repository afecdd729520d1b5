"""Storage: the audit chain, the durability checks and the migrations.

* :func:`audit.verify` passes on a real flow and names each kind of tampering: an edited,
  deleted, inserted or swapped entry, a truncated tail, an edit re-hashed without the
  MAC key, and (given a checkpoint) a rollback to an older copy of the database; the
  ``backchannel audit verify`` command exits 0 or 1 accordingly.
* :func:`check_durability` refuses an in-memory database and ``synchronous=NORMAL``;
  :meth:`Platform.open` refuses a schema that is not at the migration head.
* upgrade, downgrade to base and upgrade again keep working on a populated database,
  and the head schema is exactly the ORM metadata.
"""

from __future__ import annotations

import hmac
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, event, inspect, select, text

from backchannel.cli import main
from backchannel.config import Settings
from backchannel.services import dialogues, evaluations, positions, releases, rounds
from backchannel.services.platform import Platform, SchemaOutOfDate
from backchannel.storage import audit, migrate
from backchannel.storage.db import UnsafeDatabase, check_durability, make_engine
from backchannel.storage.tables import AuditEntryRow, Base
from conftest import World, build_world, close, make_settings

from .conftest import position_a, position_b


def flow(world: World) -> str:
    """Positions, an evaluation and two releases: a log of a few dozen entries."""
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, f, d)
    evaluation = evaluations.evaluate(p, f, d)
    releases.release(p, f, d, evaluation, world.delegation_a, "zone")
    releases.release(p, f, d, evaluation, world.delegation_b, "package", "nash")
    return evaluation


def verify(platform: Platform, expect: tuple[int, str] | None = None) -> audit.Verification:
    with platform.unit() as s:
        return audit.verify(s, platform.vault.audit_key(), [] if expect is None else [expect])


def sql(platform: Platform, statement: str, **values: Any) -> Any:
    with platform.engine.begin() as connection:
        return connection.execute(text(statement), values)


def entries(platform: Platform) -> list[dict[str, Any]]:
    found = sql(platform, "SELECT * FROM audit_log ORDER BY seq").mappings().all()
    return [dict(row) for row in found]


def chain(platform: Platform) -> list[AuditEntryRow]:
    with platform.unit() as s:
        return list(s.execute(select(AuditEntryRow).order_by(AuditEntryRow.seq)).scalars())


def cli(settings: Settings, *more: str) -> int:
    return main(
        [
            "audit",
            "verify",
            "--database",
            settings.database_url,
            "--key-file",
            str(settings.key_file),
            *more,
        ]
    )


@pytest.fixture
def logged(world: World) -> World:
    flow(world)
    report = verify(world.platform)
    assert report.ok and report.entries >= 20, report
    return world


# ------------------------------------------------------------------ the audit chain
def test_verify_passes_on_a_real_flow(logged: World, capsys: pytest.CaptureFixture[str]) -> None:
    report = verify(logged.platform)
    last = entries(logged.platform)[-1]
    assert report.head == (last["seq"], last["hash"])
    assert [e["seq"] for e in entries(logged.platform)] == list(range(1, report.entries + 1))
    assert cli(logged.platform.settings) == 0
    assert f"audit log intact: {report.entries} entries" in capsys.readouterr().out
    assert cli(logged.platform.settings, "--expect", f"{report.head[0]}:{report.head[1]}") == 0


def test_an_edited_entry_is_found(logged: World, capsys: pytest.CaptureFixture[str]) -> None:
    sql(logged.platform, "UPDATE audit_log SET detail = :d WHERE seq = 20", d='{"round":9}')
    report = verify(logged.platform)
    assert [str(problem) for problem in report.problems] == [
        "entry 20 was altered (its hash does not match)"
    ]
    assert cli(logged.platform.settings) == 1
    assert "problem: entry 20 was altered" in capsys.readouterr().out


def test_an_edited_actor_or_time_is_found(logged: World) -> None:
    sql(logged.platform, "UPDATE audit_log SET actor_id = NULL WHERE seq = 12")
    sql(logged.platform, "UPDATE audit_log SET at = :t WHERE seq = 13", t="2001-01-01 00:00:00")
    problems = [str(problem) for problem in verify(logged.platform).problems]
    assert "entry 12 was altered (its hash does not match)" in problems
    assert "entry 13 was altered (its hash does not match)" in problems


def test_a_deleted_middle_entry_is_found(logged: World) -> None:
    sql(logged.platform, "DELETE FROM audit_log WHERE seq = 15")
    problems = [str(problem) for problem in verify(logged.platform).problems]
    assert "entry 15 is missing (next is 16)" in problems
    assert "entry 16 does not follow the entry before it" in problems
    assert cli(logged.platform.settings) == 1


def test_an_inserted_entry_is_found(logged: World) -> None:
    p = logged.platform
    before = chain(p)
    k = 10
    sql(p, "UPDATE audit_log SET seq = seq + 1000000 WHERE seq > :k", k=k)
    sql(p, "UPDATE audit_log SET seq = seq - 999999 WHERE seq > 1000000")
    forged = AuditEntryRow(
        seq=k + 1,
        at=before[k - 1].at,
        dialogue_id=before[k - 1].dialogue_id,
        actor_id=None,
        action="round.evaluated",
        target=None,
        audience="all",
        detail="{}",
        prev_hash=before[k - 1].hash,
    )
    forged.hash = audit._hash(forged.prev_hash, forged)  # the attacker can hash...
    forged.mac = hmac.new(b"not the key", forged.hash.encode(), "sha256").hexdigest()  # ...not MAC
    with p.unit() as s:
        s.add(forged)
    problems = [str(problem) for problem in verify(p).problems]
    assert f"entry {k + 1} has no valid MAC (forged or re-hashed)" in problems
    assert f"entry {k + 2} does not follow the entry before it" in problems
    assert cli(p.settings) == 1


def test_an_entry_appended_without_the_key_is_found(logged: World) -> None:
    p = logged.platform
    last = chain(p)[-1]
    forged = AuditEntryRow(
        seq=last.seq + 1,
        at=last.at,
        dialogue_id=last.dialogue_id,
        action="finding.released",
        audience="all",
        detail="{}",
        prev_hash=last.hash,
    )
    forged.hash = audit._hash(forged.prev_hash, forged)
    forged.mac = "0" * 64
    with p.unit() as s:
        s.add(forged)
    problems = [str(problem) for problem in verify(p).problems]
    assert f"entry {forged.seq} has no valid MAC (forged or re-hashed)" in problems
    assert any("truncated" in problem for problem in problems)  # the head is behind it


def test_two_swapped_entries_are_found(logged: World) -> None:
    p = logged.platform
    first, second = entries(p)[17:19]
    columns = [c for c in first if c != "seq"]
    assignments = ", ".join(f"{c} = :{c}" for c in columns)
    for row, target in ((first, second["seq"]), (second, first["seq"])):
        values = {c: row[c] for c in columns}
        sql(
            p,
            f"UPDATE audit_log SET {assignments} WHERE seq = :where_seq",
            where_seq=target,
            **values,
        )
    problems = [str(problem) for problem in verify(p).problems]
    assert problems, "a swap must be found"
    assert any(f"entry {first['seq']}" in problem for problem in problems)
    assert cli(p.settings) == 1


def test_a_truncated_tail_is_found(logged: World) -> None:
    p = logged.platform
    last = entries(p)[-1]["seq"]
    sql(p, "DELETE FROM audit_log WHERE seq > :n", n=last - 3)
    report = verify(p)
    assert [str(problem) for problem in report.problems] == [
        "the log's recorded head does not match its last entry (truncated)"
    ]
    assert report.head[0] == last - 3
    assert cli(p.settings) == 1


def test_a_truncated_tail_with_a_rewritten_head_is_found(logged: World) -> None:
    p = logged.platform
    rows = entries(p)
    keep = rows[-4]
    sql(p, "DELETE FROM audit_log WHERE seq > :n", n=keep["seq"])
    fake = f"{keep['seq']}:{keep['hash']}:{'0' * 64}".encode("ascii")  # no key for the MAC
    sql(p, "UPDATE meta SET value = :v WHERE key = :k", v=fake, k=audit.HEAD_KEY)
    assert "truncated" in " ".join(map(str, verify(p).problems))
    sql(p, "DELETE FROM meta WHERE key = :k", k=audit.HEAD_KEY)  # or no head at all
    assert "truncated" in " ".join(map(str, verify(p).problems))


def test_a_log_truncated_to_nothing_is_found(logged: World) -> None:
    p = logged.platform
    sql(p, "DELETE FROM audit_log")
    sql(p, "DELETE FROM meta WHERE key = :k", k=audit.HEAD_KEY)
    assert not verify(p).ok


def test_an_edit_rehashed_without_the_mac_key_is_found(logged: World) -> None:
    p = logged.platform
    k = 14
    with p.unit() as s:
        rows = list(s.execute(select(AuditEntryRow).order_by(AuditEntryRow.seq)).scalars())
        rows[k - 1].detail = json.dumps({"round": 7})
        prev = rows[k - 2].hash
        for entry in rows[k - 1 :]:  # a consistent SHA-256 chain from the edit on
            entry.prev_hash = prev
            entry.hash = audit._hash(prev, entry)
            prev = entry.hash
    problems = [str(problem) for problem in verify(p).problems]
    assert f"entry {k} has no valid MAC (forged or re-hashed)" in problems
    assert not any("altered" in problem or "follow" in problem for problem in problems)
    assert len([problem for problem in problems if "MAC" in problem]) == len(rows) - k + 1
    assert cli(p.settings) == 1


def test_a_rollback_to_an_older_copy_is_found_with_a_checkpoint(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p, settings = world.platform, world.platform.settings
    database = Path(p.engine.url.database or "")
    positions.save_position(p, world.actors["a1"], world.dialogue_id, position_a(world))
    early = verify(p).head
    close(p)  # the WAL is checkpointed into the file: copy it whole
    copy = tmp_path / "copy.db"
    shutil.copy(database, copy)
    p = Platform.open(settings)
    world.platform = p
    flow_rest = position_b(world)
    positions.save_position(p, world.actors["b1"], world.dialogue_id, flow_rest)
    rounds.lock_round(p, world.actors["facilitator"], world.dialogue_id)
    evaluations.evaluate(p, world.actors["facilitator"], world.dialogue_id)
    checkpoint = verify(p).head  # what a delegation notes after the evaluation
    assert checkpoint[0] > early[0]
    close(p)
    shutil.copy(copy, database)  # the operator restores the older copy
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    restored = Platform.open(settings)
    assert verify(restored).ok  # on its own, an older copy is a consistent log...
    assert verify(restored, early).ok
    report = verify(restored, checkpoint)  # ...but not one that holds the checkpoint
    assert [str(problem) for problem in report.problems] == [
        f"checkpoint {checkpoint[0]}:{checkpoint[1][:12]}… is not in this log "
        "(rolled back or forked)"
    ]
    capsys.readouterr()
    assert cli(settings, "--expect", f"{checkpoint[0]}:{checkpoint[1]}") == 1
    assert "rolled back or forked" in capsys.readouterr().out
    assert cli(settings, "--expect", f"{early[0]}:{early[1]}") == 0
    assert cli(settings, "--expect", "not-a-checkpoint") == 2
    # and a fork: the same seq with another hash
    assert not verify(restored, (early[0], "f" * 64)).ok
    close(restored)


# ------------------------------------------------------------------ durability
def test_check_durability_refuses_an_in_memory_database() -> None:
    engine = make_engine("sqlite://")
    with pytest.raises(UnsafeDatabase, match="journal_mode=memory"):
        check_durability(engine)
    with pytest.raises(UnsafeDatabase):
        Platform.open(Settings(database_url="sqlite://", key_file=Path("/nonexistent")))


def test_check_durability_refuses_synchronous_normal(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'weak.db'}")

    @event.listens_for(engine, "connect")
    def _weak(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    with pytest.raises(UnsafeDatabase) as caught:
        check_durability(engine)
    assert "synchronous=1 (needs 2)" in str(caught.value)
    assert "journal_mode" not in str(caught.value) and "foreign_keys" not in str(caught.value)
    plain = create_engine(f"sqlite:///{tmp_path / 'plain.db'}")  # no pragmas at all
    with pytest.raises(UnsafeDatabase, match="journal_mode=delete"):
        check_durability(plain)


def test_check_durability_accepts_the_apps_database(platform: Platform) -> None:
    found = check_durability(platform.engine)
    assert found["journal_mode"] == "wal" and found["synchronous"] in ("2", "3")
    assert found["foreign_keys"] == "1" and found["secure_delete"] == "1"


def test_platform_open_refuses_a_schema_that_is_not_at_head(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with pytest.raises(SchemaOutOfDate, match="there is no database at"):
        Platform.open(settings)  # no file yet: refused, and nothing is created
    assert not (tmp_path / "backchannel.db").exists()
    created = make_engine(settings.database_url)
    with created.connect():  # a database file (0600), never migrated
        pass
    created.dispose()
    with pytest.raises(SchemaOutOfDate, match="not up to date"):
        Platform.open(settings)
    close(Platform.open(settings, upgrade=True))
    engine = make_engine(settings.database_url)
    migrate.downgrade(engine, "base")
    with pytest.raises(SchemaOutOfDate):
        Platform.open(settings)
    migrate.upgrade(engine)
    with engine.begin() as connection:  # stamped with a revision the code does not know
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    with pytest.raises(SchemaOutOfDate, match="not up to date"):
        Platform.open(settings)
    engine.dispose()


# ------------------------------------------------------------------ migrations
def test_upgrade_downgrade_upgrade_on_a_populated_database(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    flow(world)
    close(platform)
    # an upgrade at head keeps every row
    platform = Platform.open(settings, upgrade=True)
    world.platform = platform
    assert positions.positions(platform, world.actors["a1"], world.dialogue_id)[0].position == (
        position_a(world)
    )
    assert verify(platform).ok
    tables = set(inspect(platform.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    close(platform)
    engine = make_engine(settings.database_url)
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert migrate.current(engine) is None
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head()
    engine.dispose()
    platform = Platform.open(settings)
    again = build_world(platform)  # a new database's worth of work
    flow(again)
    assert verify(platform).ok
    assert [d for d, _, _ in dialogues.my_dialogues(platform, again.actors["facilitator"])] == [
        again.dialogue_id
    ]
    close(platform)


def test_the_head_schema_is_the_orm_metadata(platform: Platform) -> None:
    with platform.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []
    assert migrate.current(platform.engine) == migrate.head()
