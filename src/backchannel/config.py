"""The one frozen settings object of the platform (pydantic-settings).

Every value can be set by an environment variable prefixed ``BACKCHANNEL_`` (e.g.
``BACKCHANNEL_DATABASE_URL``) or passed explicitly; nothing is read at import time.
:func:`load_settings` builds the object the CLI and the server use (a bad value is a
one-line error, not a traceback), and tests build their own. The defaults give a
local SQLite database under ``var/`` and a key-encryption key file under ``var/keys/``
(outside the database, never in backups of it).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from backchannel.errors import InputError, validation_problem
from backchannel.messages import t_

SIGNIN_QUEUE_PER_PLACE = 2
"""Sign-ins that may wait for each password check place, unless ``signin_queue`` is set
(4 places: 8 waiting, 12 at once in all)."""


class Settings(BaseSettings):
    """Configuration of the platform: database, keys, server and limits."""

    model_config = SettingsConfigDict(env_prefix="BACKCHANNEL_", frozen=True, extra="forbid")

    database_url: str = "sqlite:///var/backchannel.db"
    key_file: Path = Path("var/keys/kek.key")
    key_passphrase: str | None = Field(default=None, repr=False)
    backup_public_key: Path | None = None
    """The public key backups are sealed to (``backchannel keys backup-init``); its secret
    half is kept offline, so the server cannot read its own backups. Unset:
    ``backup.pub`` beside the key file."""
    signing_key_file: Path | None = None
    """The Ed25519 key that signs audit checkpoints (never in the database), made on the
    first start when missing. Unset: ``signing.key`` beside the key file."""
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    tls: bool = False
    public_url: str | None = None
    """The address people reach the server at (``https://talks.example.org``); invitation
    links are built from it. Unset: ``http://host:port`` of ``serve`` (``https`` with TLS)."""
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    """Host names a request may name in ``Host`` (comma-separated in the environment);
    any other is refused. Unset: the public URL's host, ``127.0.0.1``, ``localhost``, ``::1``."""
    session_idle_minutes: Annotated[int, Field(ge=1)] = 30
    session_absolute_hours: Annotated[int, Field(ge=1)] = 8
    login_failures_allowed: Annotated[int, Field(ge=1)] = 5
    login_window_seconds: Annotated[int, Field(ge=1)] = 60
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    """Addresses or networks of the reverse proxies whose ``X-Forwarded-For`` is believed
    (comma-separated in the environment). Unset: nobody's; the peer address is the client."""
    signin_concurrency: Annotated[int, Field(ge=1)] = 4
    """Sign-ins checked at once (each Argon2id check takes ``password_hash_memory_kib``);
    one more is refused at once with 429."""
    signin_queue: Annotated[int, Field(ge=0)] | None = None
    """Sign-ins that may wait (at most 5 s) for one of those places before one more is
    refused with 429; unset: ``SIGNIN_QUEUE_PER_PLACE`` per place (:attr:`sign_in_queue`)."""
    signin_concurrency_per_source: Annotated[int, Field(ge=1)] = 1
    """Sign-ins checked at once for one client address; one more is refused with 429."""
    max_request_bytes: Annotated[int, Field(ge=1024)] = 1_000_000
    evaluation_time_limit: Annotated[float, Field(gt=0)] = 20.0
    blind_deadline_s: Annotated[int, Field(ge=10, le=86_400)] = 600
    """Seconds the nodes of a blind dialogue have to finish a computation, from the
    facilitator's request; past it the computation has failed and nothing is opened."""
    api_docs: bool = True
    password_hash_memory_kib: Annotated[int, Field(ge=64)] = 65536
    """Argon2id memory cost; tests lower it (and say so), production keeps the default."""
    require_mfa_for: Literal["nobody", "facilitators", "everyone"] = "nobody"
    """Accounts that must use two-factor sign-in, besides those the operator names
    (``users require-mfa``): ``facilitators`` (whoever facilitates a dialogue) or
    ``everyone``. Such an account is sent to set it up right after signing in."""

    @field_validator("key_passphrase")
    @classmethod
    def _no_placeholder(cls, value: str | None) -> str | None:
        if value is not None and (
            len(value) < 15 or value.lower() in {"changeme" * 2, "password" * 2}
        ):
            raise ValueError(
                t_("the key passphrase must be at least 15 characters and not a placeholder")
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _plain_origin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.username is not None
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise ValueError(t_("the public URL is http(s)://host[:port], nothing more"))
        return f"{parts.scheme}://{parts.netloc.lower()}"

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            return tuple(_bracketed(str(host).strip().lower()) for host in value)
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            try:
                return tuple(str(ipaddress.ip_network(str(v).strip(), strict=False)) for v in value)
            except ValueError as error:
                raise ValueError(
                    t_("not an IP address or network: {detail}", detail=repr(str(error)))
                ) from None
        return value

    @property
    def base_url(self) -> str:
        """Where links point: the public URL, else this server's own address."""
        if self.public_url is not None:
            return self.public_url
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{_bracketed(self.host)}:{self.port}"

    @property
    def sign_in_queue(self) -> int:
        """How many sign-ins may wait for a password check place."""
        if self.signin_queue is not None:
            return self.signin_queue
        return self.signin_concurrency * SIGNIN_QUEUE_PER_PLACE

    @property
    def hosts(self) -> tuple[str, ...]:
        """The ``Host`` names a request may use (IPv6 addresses in brackets)."""
        if self.allowed_hosts:
            return self.allowed_hosts
        own = _bracketed(urlsplit(self.base_url).hostname or "")
        return tuple(dict.fromkeys([own, "127.0.0.1", "localhost", "[::1]"]))

    @property
    def backup_key_path(self) -> Path:
        """Where the backup public key is (beside the key file unless set)."""
        return self.backup_public_key or Path(self.key_file).parent / "backup.pub"

    @property
    def signing_key_path(self) -> Path:
        """Where the checkpoint signing key is (beside the key file unless set)."""
        return self.signing_key_file or Path(self.key_file).parent / "signing.key"

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is an SQLite file."""
        return self.database_url.startswith("sqlite")


def _bracketed(host: str) -> str:
    """An IPv6 address in brackets, as it appears in a URL or a ``Host`` header."""
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (CLI flags) on top."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(p) for p in first.get("loc", ()))
        raise InputError(
            t_("setting {name}: {problem}", name=name, problem=validation_problem(first)),
            hint=t_(
                "check {variable} or the matching command-line option",
                variable=f"BACKCHANNEL_{name.upper()}",
            ),
        ) from None
