"""The platform commands: ``serve``, ``demo``, ``db``, ``users``, ``keys``, ``audit`` and
``nonpapers``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from backchannel.cli.language import text
from backchannel.messages import t_, t_n

if TYPE_CHECKING:  # pydantic-settings loads when a command needs the settings
    from backchannel.config import Settings

db_app = typer.Typer(help="The database: create or migrate the schema.", no_args_is_help=True)
users_app = typer.Typer(
    help="Accounts: create, deactivate, reactivate, reset; two-factor sign-in.",
    no_args_is_help=True,
)
keys_app = typer.Typer(
    help="The key-encryption key (kept outside the database).", no_args_is_help=True
)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
nonpapers_app = typer.Typer(
    help="Non-papers: destroy those whose time is up.", no_args_is_help=True
)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database", help="Database URL (default: BACKCHANNEL_DATABASE_URL or var/backchannel.db)."
    ),
]
KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file", help="Key file (default: BACKCHANNEL_KEY_FILE or var/keys/kek.key)."
    ),
]


def _settings(
    database: str | None = None, key_file: Path | None = None, **more: object
) -> Settings:
    from backchannel.config import load_settings

    overrides: dict[str, object] = {k: v for k, v in more.items() if v is not None}
    if database:
        overrides["database_url"] = database
    if key_file:
        overrides["key_file"] = key_file
    return load_settings(**overrides)


def _platform(settings: Settings, upgrade: bool = False):  # type: ignore[no-untyped-def]
    from backchannel.services.platform import Platform

    return Platform.open(settings, upgrade=upgrade)


@keys_app.command("init")
def keys_init(
    key_file: KeyOption = None,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing when the file exists.")
    ] = False,
) -> None:
    """Write a new random key-encryption key (mode 0600). Keep it, and keep it out of backups."""
    from backchannel.services.platform import create_key_file

    settings = _settings(key_file=key_file)
    if create_key_file(settings, if_missing=if_missing):
        said = t_("key-encryption key written to {path}", path=settings.key_file)
        Console().print(text(said), markup=False)


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOption = None, key_file: KeyOption = None) -> None:
    """Create the schema or bring it up to date (checks durability settings and the key)."""
    _platform(_settings(database, key_file), upgrade=True)
    Console().print(text(t_("database is up to date")), markup=False)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    database: DatabaseOption = None,
    key_file: KeyOption = None,
) -> None:
    """Create an account; its one-time password is printed once."""
    from backchannel.services import accounts

    platform = _platform(_settings(database, key_file))
    user, secret = accounts.create_user(platform, username, name or username)
    said = t_("{username}: one-time password {secret}", username=user.username, secret=secret)
    Console().print(text(said), markup=False)


@users_app.command("deactivate")
def users_deactivate(
    username: str, database: DatabaseOption = None, key_file: KeyOption = None
) -> None:
    """Deactivate an account and end all its sessions."""
    from backchannel.services import accounts

    accounts.set_active(_platform(_settings(database, key_file)), username, False)
    Console().print(text(t_("{username} deactivated", username=username)), markup=False)


@users_app.command("reactivate")
def users_reactivate(
    username: str, database: DatabaseOption = None, key_file: KeyOption = None
) -> None:
    """Allow a deactivated account to sign in again."""
    from backchannel.services import accounts

    accounts.set_active(_platform(_settings(database, key_file)), username, True)
    Console().print(text(t_("{username} reactivated", username=username)), markup=False)


@users_app.command("reset-password")
def users_reset(username: str, database: DatabaseOption = None, key_file: KeyOption = None) -> None:
    """Give an account a new one-time password (printed once); its sessions end."""
    from backchannel.services import accounts

    secret = accounts.reset_password(_platform(_settings(database, key_file)), username)
    said = t_("{username}: one-time password {secret}", username=username, secret=secret)
    Console().print(text(said), markup=False)


@users_app.command("require-mfa")
def users_require_mfa(
    username: str,
    off: Annotated[
        bool, typer.Option("--off", help="No longer require it (beyond the settings).")
    ] = False,
    database: DatabaseOption = None,
    key_file: KeyOption = None,
) -> None:
    """Require two-factor sign-in of an account: it must set it up at its next sign-in."""
    from backchannel.services import mfa

    mfa.require(_platform(_settings(database, key_file)), username, not off)
    said = (
        t_("{username}: two-factor sign-in no longer required", username=username)
        if off
        else t_("{username}: two-factor sign-in required", username=username)
    )
    Console().print(text(said), markup=False)


@users_app.command("reset-mfa")
def users_reset_mfa(
    username: str, database: DatabaseOption = None, key_file: KeyOption = None
) -> None:
    """Turn an account's two-factor sign-in off (a lost device); its sessions end."""
    from backchannel.services import mfa

    mfa.reset(_platform(_settings(database, key_file)), username)
    said = t_(
        "{username}: two-factor sign-in turned off; it signs in with its password and "
        "sets up a new device if it must",
        username=username,
    )
    Console().print(text(said), markup=False)


@nonpapers_app.command("expire")
def nonpapers_expire(database: DatabaseOption = None, key_file: KeyOption = None) -> None:
    """Destroy every non-paper whose time is up, text and key (run it from cron or a
    systemd timer, e.g. hourly; reads destroy what is due as well)."""
    from backchannel.services import nonpapers

    count = nonpapers.expire(_platform(_settings(database, key_file)))
    said = t_n("{n} non-paper destroyed", "{n} non-papers destroyed", count)
    Console().print(text(said), markup=False)


@audit_app.command("verify")
def audit_verify(
    database: DatabaseOption = None,
    key_file: KeyOption = None,
    expect: Annotated[
        str | None, typer.Option("--expect", help="A checkpoint SEQ:HASH noted earlier.")
    ] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="A signed checkpoint file a delegation downloaded (repeatable): the log must "
            "still hold every checkpoint in it, signed by this server's key.",
        ),
    ] = None,
) -> None:
    """Re-check the audit chain: edits, deletions, insertions, reordering, truncation, and
    rollback or rewriting after signed checkpoints."""
    from backchannel.errors import InputError
    from backchannel.services import checkpoints

    expected: list[tuple[int | None, str]] = []
    if expect:
        try:
            seq, digest = expect.split(":", 1)
            expected.append((int(seq), digest))
        except ValueError:
            raise InputError(
                t_("--expect {value} is not SEQ:HASH", value=repr(expect)),
                hint=t_("give the entry's number and its hash, as `audit verify` printed them"),
            ) from None
    report = checkpoints.verify_database(
        _settings(database, key_file), expected, list(checkpoint or [])
    )
    console = Console(highlight=False, soft_wrap=True)  # one line per problem, never wrapped
    if report.ok:
        said = t_n(
            "audit log intact: {n} entry, head {seq}:{digest}",
            "audit log intact: {n} entries, head {seq}:{digest}",
            report.entries,
            seq=report.head[0],
            digest=report.head[1],
        )
        console.print(text(said), markup=False)
        return
    for problem in report.problems:
        console.print(text(t_("problem: {problem}", problem=problem)), markup=False)
    raise typer.Exit(1)


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    database: DatabaseOption = None,
    key_file: KeyOption = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=MOST_WORKERS,
            help="Processes serving requests on the one database (about one per core).",
        ),
    ] = 1,
) -> None:
    """Start the web application and JSON API."""
    import uvicorn

    from backchannel.web.app import WORKER_SETTINGS, server_options, serving_app, worker_settings

    settings = _settings(database, key_file, host=host, port=port)
    options = server_options(settings)
    # opened here, so that an unsafe database or a wrong key is refused with a message
    platform = _platform(settings)
    said = (
        t_("Backchannel on {address}", address=f"{settings.base_url}/")
        if workers == 1
        else t_n(
            "Backchannel on {address} ({n} worker process)",
            "Backchannel on {address} ({n} worker processes)",
            workers,
            address=f"{settings.base_url}/",
        )
    )
    Console().print(text(said), markup=False)
    if workers == 1:
        uvicorn.run(serving_app(settings, platform), **options)  # type: ignore[arg-type]
        return
    platform.close()
    os.environ[WORKER_SETTINGS] = worker_settings(settings, workers)
    uvicorn.run(
        "backchannel.web.app:worker_app",
        factory=True,
        workers=workers,
        **options,  # type: ignore[arg-type]
    )


MOST_WORKERS = 32
"""The most worker processes ``serve`` starts."""


def demo(
    database: DatabaseOption = None,
    key_file: KeyOption = None,
    serve_after: Annotated[
        bool, typer.Option("--serve", help="Start the server afterwards.")
    ] = False,
    language: Annotated[
        str,
        typer.Option(
            "--language",
            help="The language of the demo's names (en or ru); its accounts read their pages "
            "in it.",
        ),
    ] = "en",
) -> None:
    """Seed the demo dialogue (US–Russia example) and print its one-time passwords."""
    from backchannel.services import demo as demo_service

    demo_service.wording(language)  # an unknown language is refused before any database
    settings = _settings(database, key_file)
    platform = _platform(settings, upgrade=True)
    made = demo_service.seed(platform, language=language)
    console = Console(highlight=False)
    said = (
        t_("Demo dialogue created")
        if made.created
        else t_("Demo dialogue already there: passwords reset")
    )
    console.print(text(said), markup=False)
    console.print(
        text(t_("Sign in at the address below with these one-time passwords (shown once):")),
        markup=False,
    )
    for username, secret in made.passwords.items():
        console.print(f"  {username:<12} {secret}", markup=False)
    if serve_after:
        serve(None, None, database, key_file, 1)


def register(app: typer.Typer) -> None:
    """Add the platform commands to the main CLI."""
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")
    app.add_typer(nonpapers_app, name="nonpapers")
    app.command("serve")(serve)
    app.command("demo")(demo)
