"""Schema migrations with Alembic, driven from code (``backchannel db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from backchannel.storage.tables import Base

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(engine: Engine, connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (the latest by default)."""
    with engine.begin() as connection:
        command.upgrade(_config(engine, connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema down to ``revision`` (``base`` removes every table)."""
    with engine.begin() as connection:
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
