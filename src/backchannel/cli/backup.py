"""The commands of backups and keys: ``backup create``, ``backup verify``, ``backup
restore``, ``keys backup-init`` (the backup key pair) and ``keys rotate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backchannel.cli.language import text
from backchannel.cli.platform import DatabaseOption, KeyOption, _platform, _settings, keys_app
from backchannel.messages import t_, t_n

backup_app = typer.Typer(
    help="Encrypted backups: create, verify, restore (the secret key stays offline).",
    no_args_is_help=True,
)

PublicKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--public-key",
        help="Backup public key (default: BACKCHANNEL_BACKUP_PUBLIC_KEY, or backup.pub beside "
        "the key file).",
    ),
]
SecretKeyOption = Annotated[
    Path, typer.Option("--secret-key", help="The backup secret key file (kept offline).")
]
BackupArg = Annotated[Path, typer.Argument(help="The backup file.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace what is there.")]


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


@keys_app.command("backup-init")
def keys_backup_init(
    secret_key: Annotated[
        Path,
        typer.Option("--secret-key", help="Where to write the secret key (then move it offline)."),
    ],
    public_key: PublicKeyOption = None,
) -> None:
    """Write the backup key pair: the public key for the server, the secret key for you."""
    from backchannel.services import backups

    settings = _settings(backup_public_key=public_key)
    made = backups.init_backup_keys(settings, secret_key)
    console = _console()
    said = t_("backup public key {key} written to {path}", key=made, path=settings.backup_key_path)
    console.print(text(said), markup=False)
    said = t_(
        "secret key written to {path}: move it offline now; backups cannot be restored without it",
        path=secret_key,
    )
    console.print(text(said), markup=False)


@backup_app.command("create")
def backup_create(
    output: Annotated[Path, typer.Argument(help="The backup file to write.")],
    database: DatabaseOption = None,
    key_file: KeyOption = None,
    public_key: PublicKeyOption = None,
    force: ForceOption = False,
) -> None:
    """Take a consistent snapshot while the server runs, sealed to the backup public key."""
    from backchannel.services import backups

    settings = _settings(database, key_file, backup_public_key=public_key)
    made = backups.create_backup(_platform(settings), output, force=force)
    said = t_(
        "backup of the {database} database written to {path} ({size} bytes, sealed to key {key})",
        database=made.database,
        path=made.path,
        size=made.payload_bytes,
        key=made.recipient,
    )
    _console().print(text(said), markup=False)


@backup_app.command("verify")
def backup_verify(
    backup: BackupArg,
    secret_key: Annotated[
        Path | None,
        typer.Option(
            "--secret-key", help="Decrypt and check the database too (else: the framing only)."
        ),
    ] = None,
) -> None:
    """Check a backup: its framing, and with the secret key every byte and the database."""
    from backchannel.services import backups

    report = backups.verify_backup(backup, secret_key)
    console = _console()
    if report.ok:
        facts = {
            "database": report.facts.get("database"),
            "schema": report.facts.get("schema"),
            "made": report.facts.get("created"),
            "key": report.facts.get("recipient"),
        }
        said = (
            t_n(
                "backup decrypted and checked: {database} database, schema {schema}, made "
                "{made}, {n} chunk, key {key}",
                "backup decrypted and checked: {database} database, schema {schema}, made "
                "{made}, {n} chunks, key {key}",
                report.chunks,
                **facts,
            )
            if report.decrypted
            else t_n(
                "backup framing intact (not decrypted): {database} database, schema {schema}, "
                "made {made}, {n} chunk, key {key}",
                "backup framing intact (not decrypted): {database} database, schema {schema}, "
                "made {made}, {n} chunks, key {key}",
                report.chunks,
                **facts,
            )
        )
        console.print(text(said), markup=False)
        return
    for problem in report.problems:
        console.print(text(t_("problem: {problem}", problem=problem)), markup=False)
    raise typer.Exit(1)


@backup_app.command("restore")
def backup_restore(
    backup: BackupArg,
    secret_key: SecretKeyOption,
    database: Annotated[
        str, typer.Option("--database", help="The database to restore into (a new one).")
    ],
    force: ForceOption = False,
) -> None:
    """Restore a backup into a new database (an existing one only with --force)."""
    from backchannel.services import backups

    kind = backups.restore_backup(backup, secret_key, database, force=force)
    said = t_(
        "{kind} database restored to {database}; start it with the key-encryption key it "
        "was made with, and run `backchannel audit verify`",
        kind=kind,
        database=database,
    )
    _console().print(text(said), markup=False)


def register(app: typer.Typer) -> None:
    """Add the backup commands to the main CLI."""
    app.add_typer(backup_app, name="backup")


@keys_app.command("rotate")
def keys_rotate(
    to_key_file: Annotated[
        Path | None,
        typer.Option("--to-key-file", help="Move to this key file (make it with `keys init`)."),
    ] = None,
    to_passphrase: Annotated[
        bool,
        typer.Option(
            "--to-passphrase",
            help="Move to a passphrase (from BACKCHANNEL_NEW_KEY_PASSPHRASE, else asked twice).",
        ),
    ] = False,
    data_keys: Annotated[
        bool,
        typer.Option(
            "--data-keys", help="Instead: give dialogues new data keys, re-sealing their fields."
        ),
    ] = False,
    dialogue: Annotated[
        list[str] | None,
        typer.Option("--dialogue", help="With --data-keys: only this dialogue (repeatable)."),
    ] = None,
    database: DatabaseOption = None,
    key_file: KeyOption = None,
) -> None:
    """Re-wrap every dialogue key under a new key-encryption key (resumable, no downtime for
    reads), or with --data-keys re-seal dialogues under new data keys."""
    import os

    from backchannel.errors import InputError
    from backchannel.services import keys

    settings = _settings(database, key_file)
    console = _console()
    if data_keys:
        if to_key_file or to_passphrase:
            raise InputError(
                t_("--data-keys keeps the key-encryption key: give no new key"),
                hint=t_("leave out --to-key-file and --to-passphrase, or --data-keys"),
            )
        done = keys.rotate_data_keys(_platform(settings), dialogue)
        said = t_n(
            "{n} dialogue re-sealed under new data keys",
            "{n} dialogues re-sealed under new data keys",
            done,
        )
        console.print(text(said), markup=False)
        return
    passphrase = None
    if to_passphrase:
        passphrase = os.environ.get("BACKCHANNEL_NEW_KEY_PASSPHRASE") or typer.prompt(
            text(t_("New passphrase")), hide_input=True, confirmation_prompt=True
        )
        _settings(key_passphrase=passphrase)  # the same rules as for every passphrase
    made = keys.rotate_kek(settings, keys.NewKey(to_key_file, passphrase))
    if made.already_done:
        said = t_("the rotation had finished: the database opens with the new key")
        console.print(text(said), markup=False)
    elif made.resumed:
        said = t_n(
            "{n} dialogue key re-wrapped under the new key (resumed); restart the server with "
            "the new key, and keep the old one until the next backup",
            "{n} dialogue keys re-wrapped under the new key (resumed); restart the server "
            "with the new key, and keep the old one until the next backup",
            made.keys,
        )
        console.print(text(said), markup=False)
    else:
        said = t_n(
            "{n} dialogue key re-wrapped under the new key; restart the server with the new "
            "key, and keep the old one until the next backup",
            "{n} dialogue keys re-wrapped under the new key; restart the server with the new "
            "key, and keep the old one until the next backup",
            made.keys,
        )
        console.print(text(said), markup=False)
