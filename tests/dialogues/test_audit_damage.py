"""``backchannel audit verify`` on a damaged database: a ``problem:`` line, exit 1, never a
traceback.

* Named cases: a ``detail`` re-stored as a BLOB, NULLs, a time that is not one, a digest
  that is not one, a table or a column dropped, a database that is not a database, a
  file cut short, a head of the wrong type.
* A property: random damage to a valid log (values of any type in any column, rows
  deleted, duplicated or copied, the head rewritten or deleted) never gives a traceback,
  and every damage with an effect on what is stored is found. The audit table is first
  rebuilt without its constraints (same column types), as someone editing the file
  could, so that NULLs and any type can land in any column.
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backchannel.cli import main
from backchannel.config import Settings
from backchannel.services.platform import Platform
from backchannel.storage.audit import COLUMNS, HEAD_KEY
from conftest import build_world, close, make_settings

from .test_storage import flow

ENTRIES = 20  # at least this many in the flow's log


@dataclass
class Pristine:
    """A closed database with a valid log, and a way to get a private copy of it."""

    settings: Settings
    path: Path
    entries: int
    counter: Iterator[int]

    def copy(self) -> Path:
        target = self.path.with_name(f"damaged-{next(self.counter)}.db")
        shutil.copyfile(self.path, target)
        target.chmod(0o600)
        return target

    def verify(self, database: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
        capsys.readouterr()
        code = main(
            [
                "audit",
                "verify",
                "--database",
                f"sqlite:///{database}",
                "--key-file",
                str(self.settings.key_file),
            ]
        )
        captured = capsys.readouterr()
        return code, captured.out + captured.err


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Pristine:
    settings = make_settings(tmp_path_factory.mktemp("audit-damage"))
    platform = Platform.open(settings, upgrade=True)
    flow(build_world(platform))
    close(platform)  # the WAL is checkpointed into the file: copies are whole
    path = Path(platform.engine.url.database or "")
    with closing(sqlite3.connect(path)) as raw:
        (entries,) = raw.execute("SELECT COUNT(*) FROM audit_log").fetchone()
    assert entries >= ENTRIES
    return Pristine(settings, path, entries, itertools.count())


def damage(path: Path, *statements: str, values: tuple[Any, ...] = ()) -> None:
    with closing(sqlite3.connect(path)) as raw:
        for statement in statements:
            raw.execute(statement, values if "?" in statement else ())
        raw.commit()


def assert_found(code: int, output: str, *expected: str) -> None:
    assert "Traceback" not in output, output
    assert code == 1, output
    assert "problem: " in output, output
    for text in expected:
        assert text in output, output


# ------------------------------------------------------------------ named damage
@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE audit_log SET detail = CAST(detail AS BLOB) WHERE seq = 7", "entry 7: detail"),
        ("UPDATE audit_log SET at = 12 WHERE seq = 3", "entry 3: at holds the number 12"),
        ("UPDATE audit_log SET at = 'yesterday' WHERE seq = 3", "not a time"),
        ("UPDATE audit_log SET at = at || 'x' WHERE seq = 3", "not a time"),
        ("UPDATE audit_log SET at = substr(at, 1, 19) WHERE seq = 3", "not a time in the form"),
        ("UPDATE audit_log SET hash = 'zz' WHERE seq = 4", "entry 4: hash holds the text 'zz'"),
        ("UPDATE audit_log SET mac = 'é' || substr(mac, 2) WHERE seq = 4", "entry 4: mac"),
        ("UPDATE audit_log SET prev_hash = x'00' WHERE seq = 5", "a BLOB of 1 byte"),
        ("UPDATE audit_log SET detail = '{not json' WHERE seq = 6", "entry 6 was altered"),
        ("UPDATE audit_log SET audience = 7 WHERE seq = 6", "entry 6 was altered"),
        ("UPDATE meta SET value = 'text' WHERE key = 'audit_head'", "recorded head"),
        ("UPDATE meta SET value = CAST(value AS TEXT) WHERE key = 'audit_head'", "head"),
        ("DROP TABLE audit_log", "lost tables: audit_log"),
        ("DROP TABLE meta", "lost tables: meta"),
        ("ALTER TABLE audit_log DROP COLUMN mac", "lacks the columns mac"),
        ("DELETE FROM alembic_version", "schema is not up to date"),
    ],
)
def test_each_damage_is_a_problem_line(
    pristine: Pristine, capsys: pytest.CaptureFixture[str], statement: str, expected: str
) -> None:
    copy = pristine.copy()
    damage(copy, statement)
    assert_found(*pristine.verify(copy, capsys), expected)


def test_nulls_in_any_column_are_problem_lines(
    pristine: Pristine, capsys: pytest.CaptureFixture[str]
) -> None:
    for column in COLUMNS:
        copy = pristine.copy()
        loosen(copy)
        with closing(sqlite3.connect(copy)) as raw:
            (seq,) = raw.execute(
                f"SELECT MIN(seq) FROM audit_log WHERE {column} IS NOT NULL AND seq > 1"
            ).fetchone()
        damage(copy, f"UPDATE audit_log SET {column} = NULL WHERE seq = {seq}")
        code, output = pristine.verify(copy, capsys)
        if column in ("dialogue_id", "actor_id", "target"):  # NULL there, but not in this one
            assert_found(code, output, f"entry {seq} was altered")
        elif column == "seq":
            assert_found(code, output, "seq holds NULL")
        else:
            assert_found(code, output, f"entry {seq}: {column} holds NULL")


@pytest.mark.parametrize("how", ["garbage", "cut short", "zeroed header"])
def test_a_file_that_is_not_a_database_is_a_problem_line(
    pristine: Pristine, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    copy = pristine.copy()
    data = copy.read_bytes()
    if how == "garbage":
        copy.write_bytes(b"this is not a database\n" * 400)
    elif how == "cut short":
        copy.write_bytes(data[: len(data) // 3])
    else:
        copy.write_bytes(b"\0" * 100 + data[100:])
    assert_found(*pristine.verify(copy, capsys))


def test_the_pristine_copy_and_its_loosened_table_verify(
    pristine: Pristine, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = pristine.copy()
    assert pristine.verify(copy, capsys)[0] == 0
    loosen(copy)
    code, output = pristine.verify(copy, capsys)
    assert code == 0, output
    assert f"audit log intact: {pristine.entries} entries" in output


# ------------------------------------------------------------------ random damage
def loosen(path: Path) -> None:
    """Rebuild the audit table with the same column types and no constraint."""
    with closing(sqlite3.connect(path)) as raw:
        types = {name: kind for _, name, kind, *_ in raw.execute("PRAGMA table_info(audit_log)")}
        columns = ", ".join(f"{c} {types[c]}" for c in COLUMNS)
        raw.execute(f"CREATE TABLE loose ({columns})")
        raw.execute(f"INSERT INTO loose SELECT {', '.join(COLUMNS)} FROM audit_log ORDER BY seq")
        raw.execute("DROP TABLE audit_log")
        raw.execute("ALTER TABLE loose RENAME TO audit_log")
        raw.commit()


def stored(path: Path) -> tuple[Any, ...]:
    """What the log holds, as SQLite keeps it (type and value of every cell), in any order."""
    cells = ", ".join(f"typeof({c}), quote({c})" for c in COLUMNS)
    with closing(sqlite3.connect(path)) as raw:
        rows = sorted(raw.execute(f"SELECT {cells} FROM audit_log").fetchall())
        head = raw.execute(
            "SELECT typeof(value), quote(value) FROM meta WHERE key = ?", (HEAD_KEY,)
        ).fetchall()
    return tuple(rows), tuple(head)


ANY_VALUE = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=70),
    st.binary(max_size=70),
)
ROW = st.integers(min_value=1, max_value=ENTRIES)  # a rowid of the loosened table
COLUMN = st.sampled_from(COLUMNS)
DAMAGE = st.one_of(
    st.tuples(st.just("set"), ROW, COLUMN, ANY_VALUE),
    st.tuples(st.just("blob"), ROW, COLUMN),
    st.tuples(st.just("text"), ROW, COLUMN),
    st.tuples(st.just("copy"), ROW, COLUMN, ROW),
    st.tuples(st.just("delete"), ROW),
    st.tuples(st.just("duplicate"), ROW),
    st.tuples(st.just("head"), ANY_VALUE),
    st.tuples(st.just("no head")),
)


def apply(path: Path, step: tuple[Any, ...]) -> None:
    kind, *args = step
    if kind == "set":
        row, column, value = args
        damage(path, f"UPDATE audit_log SET {column} = ? WHERE rowid = ?", values=(value, row))
    elif kind in ("blob", "text"):
        row, column = args
        cast = "BLOB" if kind == "blob" else "TEXT"
        damage(
            path, f"UPDATE audit_log SET {column} = CAST({column} AS {cast}) WHERE rowid = {row}"
        )
    elif kind == "copy":
        row, column, source = args
        damage(
            path,
            f"UPDATE audit_log SET {column} = "
            f"(SELECT {column} FROM audit_log WHERE rowid = {source}) WHERE rowid = {row}",
        )
    elif kind == "delete":
        damage(path, f"DELETE FROM audit_log WHERE rowid = {args[0]}")
    elif kind == "duplicate":
        damage(path, f"INSERT INTO audit_log SELECT * FROM audit_log WHERE rowid = {args[0]}")
    elif kind == "head":
        with suppress(sqlite3.IntegrityError):  # meta keeps its NOT NULL: no damage then
            damage(path, "UPDATE meta SET value = ? WHERE key = ?", values=(args[0], HEAD_KEY))
    else:
        damage(path, f"DELETE FROM meta WHERE key = '{HEAD_KEY}'")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(DAMAGE, min_size=1, max_size=3))
def test_random_damage_is_never_a_traceback_and_always_found(
    pristine: Pristine, capsys: pytest.CaptureFixture[str], steps: list[tuple[Any, ...]]
) -> None:
    copy = pristine.copy()
    loosen(copy)
    before = stored(copy)
    for step in steps:
        apply(copy, step)
    code, output = pristine.verify(copy, capsys)
    assert "Traceback" not in output, output
    if stored(copy) == before:  # no effect (e.g. a value set to what it was)
        assert code == 0, output
    else:
        assert_found(code, output)
    copy.unlink()
