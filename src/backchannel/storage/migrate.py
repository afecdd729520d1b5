"""Schema migrations with Alembic, driven from code (``backchannel db upgrade``).

On SQLite a migration runs with foreign keys off, and they are checked before it
commits: SQLite alters most columns only by rebuilding the table (Alembic's batch
mode copies it, drops the old one and renames the copy), and with foreign keys on,
dropping the old ``dialogues`` would cascade to every round, position, key and
evaluation of every dialogue. SQLite changes the setting only outside a transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from backchannel.storage.tables import Base

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(engine: Engine, connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction for a migration; on SQLite with foreign keys off, checked at the end."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        if sqlite:
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")  # no transaction has begun yet
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        tables = sorted({str(row[0]) for row in broken})
                        raise RuntimeError(f"the migration broke references in {tables}")
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (the latest by default)."""
    with _migrating(engine) as connection:
        command.upgrade(_config(engine, connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema down to ``revision`` (``base`` removes every table)."""
    with _migrating(engine) as connection:
        command.downgrade(_config(engine, connection), revision)


def current(engine: Engine) -> str | None:
    """The revision the database is at (None when never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str:
    """The latest revision in the code."""
    script = ScriptDirectory.from_config(_config_without_connection())
    found = script.get_current_head()
    assert found is not None
    return found


def _config_without_connection() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def missing_tables(engine: Engine) -> list[str]:
    """The tables of the schema that the database lacks (dropped by hand or damaged)."""
    return sorted(set(Base.metadata.tables) - set(inspect(engine).get_table_names()))
