"""The backup commands: ``backup create``, ``backup verify``, ``backup restore``, and
``keys backup-init`` (the backup key pair)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backchannel.cli.platform import DatabaseOption, KeyOption, _platform, _settings, keys_app

backup_app = typer.Typer(
    help="Encrypted backups: create, verify, restore (the secret key stays offline).",
    no_args_is_help=True,
)

PublicKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--public-key",
        help="Backup public key (default: BACKCHANNEL_BACKUP_PUBLIC_KEY or var/keys/backup.pub).",
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
    console.print(f"backup public key {made} written to {settings.backup_public_key}", markup=False)
    console.print(
        f"secret key written to {secret_key}: move it offline now; "
        "backups cannot be restored without it",
        markup=False,
    )


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
    _console().print(
        f"backup of the {made.database} database written to {made.path} "
        f"({made.payload_bytes} bytes, sealed to key {made.recipient})",
        markup=False,
    )


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
        how = "decrypted and checked" if report.decrypted else "framing intact (not decrypted)"
        console.print(
            f"backup {how}: {report.facts.get('database')} database, schema "
            f"{report.facts.get('schema')}, made {report.facts.get('created')}, "
            f"{report.chunks} chunks, key {report.facts.get('recipient')}",
            markup=False,
        )
        return
    for problem in report.problems:
        console.print(f"problem: {problem}", markup=False)
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
    _console().print(
        f"{kind} database restored to {database}; start it with the key-encryption key it "
        "was made with, and run `backchannel audit verify`",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add the backup commands to the main CLI."""
    app.add_typer(backup_app, name="backup")
