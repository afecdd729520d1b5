"""The ``backchannel`` command line (Typer).

Commands live in sub-modules by area; this module assembles them and maps every
:class:`~backchannel.errors.BackchannelError` to a one-line message and its exit code.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from backchannel.errors import BackchannelError

app = typer.Typer(
    name="backchannel",
    help="Confidential negotiation support for track 1.5 diplomacy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from backchannel.cli import conflict, negotiation, platform

    negotiation.register(app)
    conflict.register(app)
    platform.register(app)


_register()


EXIT_ABORTED = 130
"""The exit code of a command the user interrupted (as a shell reports Ctrl-C)."""


def _ended(stop: Exception, err: Console) -> int:
    """What the user sees when a command ends with an exception, and the exit code.

    The one mapping of the CLI: a :class:`BackchannelError` prints its lines and exits
    with its class's ``exit_code``; Typer's exit carries its code (3 when a command's
    time limit was reached); an abort is 130; a usage error shows itself, exit 2.
    """
    if isinstance(stop, BackchannelError):
        for line in stop.lines():
            err.print(f"error: {line}", markup=False)
        return stop.exit_code
    if isinstance(stop, typer.Exit):
        return int(stop.exit_code or 0)
    if isinstance(stop, typer.Abort):
        err.print("aborted", markup=False)
        return EXIT_ABORTED
    show = getattr(stop, "show", None)  # usage errors print themselves, with their exit code
    if show is None:
        err.print(f"error: {stop}", markup=False)
        return 2
    show(file=sys.stderr)
    return int(getattr(stop, "exit_code", 2))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 done, 2 bad input, 3 time limit)."""
    try:
        result = app(args=argv, standalone_mode=False)
    except (BackchannelError, typer.Exit, typer.Abort, typer.TyperException) as stop:
        return _ended(stop, Console(stderr=True, highlight=False, soft_wrap=True))
    return result if isinstance(result, int) else 0


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(main())
