"""Blind-node commands: ``backchannel node init | show | position | run | connect``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from backchannel.cli import language
from backchannel.cli.language import text
from backchannel.messages import t_, verbatim

if TYPE_CHECKING:  # the commands import what they run on (start-up time: tests/test_startup.py)
    from backchannel.services.node import NodeIdentity, NodeRun

PASSPHRASE_VARIABLE = "BACKCHANNEL_NODE_PASSPHRASE"  # noqa: S105 (a variable's name)
TOKEN_VARIABLE = "BACKCHANNEL_NODE_TOKEN"  # noqa: S105 (a variable's name)

node_app = typer.Typer(
    name="node",
    help="A blind node: this side's party of secure computations, on its own machine.",
    no_args_is_help=True,
)

Folder = Annotated[
    Path,
    typer.Option(
        "--folder", help="The node's folder: its key, certificate and sealed position (0700)."
    ),
]


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _print_identity(identity: NodeIdentity, *, created: bool) -> None:
    out = _out()
    if created:
        said = t_("created the node's key and certificate in {folder}", folder=identity.folder)
        out.print(text(said), markup=False)
    out.print(text(t_("certificate: {path}", path=identity.cert_path)), markup=False)
    said = t_("fingerprint (SHA-256): {fingerprint}", fingerprint=identity.fingerprint)
    out.print(text(said), markup=False)
    said = t_(
        "give the facilitator the certificate file, its fingerprint, and the host and port "
        "this node listens on"
    )
    out.print(text(said), markup=False)


def _passphrase(confirm: bool) -> str:
    given = os.environ.get(PASSPHRASE_VARIABLE)
    if given is not None:
        return given
    typed: str = typer.prompt(
        text(t_("passphrase of the node's position")),
        hide_input=True,
        confirmation_prompt=confirm,
    )
    return typed


@node_app.command("init")
def init_command(folder: Folder) -> None:
    """Create the node's private key (0600) and self-signed certificate; print its fingerprint."""
    from backchannel.services import node as service

    _print_identity(service.init(folder), created=True)


@node_app.command("show")
def show_command(folder: Folder) -> None:
    """Print the node's certificate path and fingerprint again."""
    from backchannel.services import node as service

    _print_identity(service.show(folder), created=False)


@node_app.command("position")
def position_command(
    folder: Folder,
    side: Annotated[
        Path,
        typer.Option(
            "--side",
            help="Case file holding the agenda and exactly one delegation: this side's.",
        ),
    ],
) -> None:
    """Seal this side's position in the node's folder (passphrase from
    BACKCHANNEL_NODE_PASSPHRASE, or asked)."""
    from backchannel.services import node as service

    service.show(folder)  # a node folder, before the passphrase is asked
    path = service.store_position(folder, side, _passphrase(confirm=True))
    said = t_(
        "sealed the position of {side} in {path}; the case file itself can now be removed",
        side=side,
        path=path,
    )
    _out().print(text(said), markup=False)


def _doc(run: NodeRun) -> dict[str, Any]:
    from backchannel.blind.session import result_document

    return result_document(run.session, run.index, run.opened)


def _print(run: NodeRun) -> None:
    out = _out()
    session, opened = run.session, run.opened
    party = session.parties[run.index]
    kind = text(PARTY_KINDS.get(party.kind, verbatim(party.kind)))
    kind = kind if not party.party else f"{kind}, {party.party}"
    said = t_(
        "blind {finding}, computation {computation}, round {round}: this node is party "
        "{index} ({kind})",
        finding=session.finding.value,
        computation=session.computation,
        round=session.round,
        index=run.index,
        kind=kind,
    )
    out.print(text(said), markup=False)
    if opened.overlap is not None:
        for issue, bit in zip(session.issues, opened.overlap, strict=True):
            out.print(f"  {issue.name}: {text(OVERLAP[bit])}", markup=False)
    elif opened.package is not None:
        out.print("  " + text(t_("package:")), markup=False)
        for issue, option in zip(session.issues, opened.package, strict=True):
            out.print(f"    {issue.name}: {issue.labels[option]}", markup=False)
    elif opened.exists:
        out.print("  " + text(t_("an admissible package exists")), markup=False)
    else:
        out.print("  " + text(t_("no admissible package")), markup=False)


OVERLAP = {True: t_("overlap"), False: t_("no overlap")}
"""How the overlap of one issue reads."""

PARTY_KINDS = {"delegation": t_("delegation"), "helper": t_("helper")}
"""The kinds of party of a blind computation, in words."""


@node_app.command("run")
def run_command(
    folder: Folder,
    session: Annotated[
        Path, typer.Option("--session", help="The session document (JSON) of one computation.")
    ],
    index: Annotated[int, typer.Option("--index", help="This node's index in the session.")],
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", help="Seconds to wait for the other parties, then for the computation."
        ),
    ] = 600.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result document instead of text.")
    ] = False,
) -> None:
    """Run this node's party of one computation and print what was opened (posts nothing)."""
    from backchannel.formats.json_stream import write_json
    from backchannel.services import node as service

    checked = service.read_session(session)
    run = service.run(folder, checked, index, lambda: _passphrase(confirm=False), timeout=timeout)
    if as_json:
        write_json(_doc(run), sys.stdout)
    else:
        _print(run)


def _token() -> str:
    given = os.environ.get(TOKEN_VARIABLE)
    if given:
        return given
    typed: str = typer.prompt(
        text(t_("this node's token (shown once when the node was registered)")), hide_input=True
    )
    return typed.strip()


@node_app.command("connect")
def connect_command(
    folder: Folder,
    server: Annotated[
        str,
        typer.Option(
            "--server", help="The coordinating server's address, e.g. https://talks.example."
        ),
    ],
    once: Annotated[
        bool,
        typer.Option("--once", help="Take part in the computations waiting now, then stop."),
    ] = False,
    poll: Annotated[
        float,
        typer.Option(
            "--poll", min=0.2, max=600.0, help="Seconds between two questions to the server."
        ),
    ] = 5.0,
    server_ca: Annotated[
        Path | None,
        typer.Option(
            "--server-ca", help="Trust only this PEM certificate (or CA) for an https server."
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", help="Seconds to wait for the other nodes, then for the computation."
        ),
    ] = 600.0,
) -> None:
    """Take part in the computations the facilitator asks for (token from
    BACKCHANNEL_NODE_TOKEN or a prompt); the position never leaves this machine."""
    import time

    from backchannel.errors import InputError
    from backchannel.services import node_link

    coordinator = node_link.Coordinator(server, _token(), node_link.context_for(server_ca))
    out = _out()
    while True:
        try:
            outcomes = node_link.take_part(
                folder, coordinator, lambda: _passphrase(confirm=False), poll=poll, timeout=timeout
            )
        except InputError as error:
            if once:
                raise
            message, _ = error.shown_in(language.translations())
            said = t_(
                "{problem}; trying again in {seconds} s", problem=message, seconds=f"{poll:g}"
            )
            out.print(text(said), markup=False)
            outcomes = []
        for outcome in outcomes:
            if outcome.failed is None:
                said = t_(
                    "computation {computation} ({finding}): opened and posted",
                    computation=outcome.computation,
                    finding=outcome.finding,
                )
            else:
                said = t_(
                    "computation {computation} ({finding}) failed: {problem}",
                    computation=outcome.computation,
                    finding=outcome.finding,
                    problem=outcome.failed,
                )
            out.print(text(said), markup=False)
        if once:
            return
        time.sleep(poll)


def register(app: typer.Typer) -> None:
    """Add the ``node`` command group to the main application."""
    app.add_typer(node_app)
