"""The one frozen settings object of the platform (pydantic-settings).

Every value can be set by an environment variable prefixed ``BACKCHANNEL_`` (e.g.
``BACKCHANNEL_DATABASE_URL``) or passed explicitly; nothing is read at import time.
:func:`load_settings` builds the object the CLI and the server use (a bad value is a
one-line error, not a traceback), and tests build their own. The defaults give a
local SQLite database under ``var/`` and a key-encryption key file under ``var/keys/``
(outside the database, never in backups of it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backchannel.errors import InputError


class Settings(BaseSettings):
    """Configuration of the platform: database, keys, server and limits."""

    model_config = SettingsConfigDict(env_prefix="BACKCHANNEL_", frozen=True, extra="forbid")

    database_url: str = "sqlite:///var/backchannel.db"
    key_file: Path = Path("var/keys/kek.key")
    key_passphrase: str | None = Field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    tls: bool = False
    session_idle_minutes: Annotated[int, Field(ge=1)] = 30
    session_absolute_hours: Annotated[int, Field(ge=1)] = 8
    login_failures_allowed: Annotated[int, Field(ge=1)] = 5
    login_window_seconds: Annotated[int, Field(ge=1)] = 60
    max_request_bytes: Annotated[int, Field(ge=1024)] = 1_000_000
    evaluation_time_limit: Annotated[float, Field(gt=0)] = 20.0
    api_docs: bool = True
    password_hash_memory_kib: Annotated[int, Field(ge=64)] = 65536
    """Argon2id memory cost; tests lower it (and say so), production keeps the default."""

    @field_validator("key_passphrase")
    @classmethod
    def _no_placeholder(cls, value: str | None) -> str | None:
        if value is not None and (
            len(value) < 15 or value.lower() in {"changeme" * 2, "password" * 2}
        ):
            raise ValueError(
                "the key passphrase must be at least 15 characters and not a placeholder"
            )
        return value

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is an SQLite file."""
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (CLI flags) on top."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(p) for p in first.get("loc", ()))
        raise InputError(
            f"setting {name}: {first['msg']}",
            hint=f"check BACKCHANNEL_{name.upper()} or the matching command-line option",
        ) from None
