"""The readout commands: ``readout public-key`` and ``readout verify``.

Both work offline: ``public-key`` reads the server's signing key file (kept beside the
key-encryption key), ``verify`` needs only the readout file and the public key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backchannel.cli.language import text
from backchannel.cli.platform import KeyOption, _settings
from backchannel.messages import t_

readout_app = typer.Typer(
    help="Signed readouts: the server's public key, and checking a readout file.",
    no_args_is_help=True,
)

SigningKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--signing-key-file",
        help="The server's signing key (default: BACKCHANNEL_SIGNING_KEY_FILE or signing.key "
        "beside the key-encryption key).",
    ),
]


@readout_app.command("public-key")
def public_key(key_file: KeyOption = None, signing_key_file: SigningKeyOption = None) -> None:
    """Print the server's public key that signs readouts (give it to the principals)."""
    from backchannel.services import readouts

    settings = _settings(key_file=key_file, signing_key_file=signing_key_file)
    Console(highlight=False).print(readouts.server_public_key(settings), markup=False)


@readout_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="The readout file (HTML or PDF) to check.")],
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="The trusted public key (ed25519:…, or a file holding it); default: this "
            "server's own key.",
        ),
    ] = None,
    key_file: KeyOption = None,
    signing_key_file: SigningKeyOption = None,
) -> None:
    """Check that a readout is unaltered and signed by the trusted key; print its fingerprint."""
    from backchannel.services import readouts

    if key is None:
        trusted = readouts.server_public_key(
            _settings(key_file=key_file, signing_key_file=signing_key_file)
        )
    else:
        trusted = readouts.key_text(key)
    found = readouts.verify_file(file, trusted)
    console = Console(highlight=False, soft_wrap=True)
    if found.ok:
        said = t_(
            "readout intact: {kind} signed by {key}, fingerprint {fingerprint}",
            kind=found.kind,
            key=found.signed_by,
            fingerprint=found.fingerprint,
        )
        console.print(text(said), markup=False)
        return
    assert found.problem is not None
    console.print(text(t_("problem: {problem}", problem=found.problem)), markup=False)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the readout commands to the main CLI."""
    app.add_typer(readout_app, name="readout")
