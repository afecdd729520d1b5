"""The ``backchannel`` command line (Typer).

Commands live in sub-modules by area; this module assembles them and maps every
:class:`~backchannel.errors.BackchannelError` to a one-line message and its exit code.
Anything else a command raises is a bug: it ends with exit code 1 and one line that
names it, and the traceback only with the global ``--debug`` flag.
"""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer
from rich.console import Console

from backchannel.errors import BackchannelError, shorten

app = typer.Typer(
    name="backchannel",
    help="Confidential negotiation support for track 1.5 diplomacy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _Run:
    """What the global options asked for, for the command being run."""

    debug = False


@app.callback()
def _global_options(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="Show the traceback of an internal error (put it before the command)."
        ),
    ] = False,
) -> None:
    """Confidential negotiation support for track 1.5 diplomacy."""
    _Run.debug = debug


def _register() -> None:
    from backchannel.cli import (
        backup,
        blind,
        conflict,
        negotiation,
        node,
        platform,
        readout,
        robustness,
    )

    negotiation.register(app)
    robustness.register(app)
    conflict.register(app)
    platform.register(app)
    backup.register(app)
    blind.register(app)
    node.register(app)
    readout.register(app)


_register()


EXIT_ABORTED = 130
"""The exit code of a command the user interrupted (as a shell reports Ctrl-C)."""

EXIT_INTERNAL = 1
"""The exit code of an internal error (a bug, or the machine ran out of something)."""


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


def _internal(error: Exception, err: Console) -> int:
    """An exception no command meant to raise: one line, or the traceback with ``--debug``."""
    if _Run.debug:
        traceback.print_exception(error, file=sys.stderr)
    what = type(error).__name__ + (f": {error}" if str(error) else "")
    err.print(
        f"internal error: {shorten(what)} (run again with --debug for the details)", markup=False
    )
    return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 done, 1 internal error, 2 bad input, 3 time limit)."""
    _Run.debug = False
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        result = app(args=argv, standalone_mode=False)
    except (BackchannelError, typer.Exit, typer.Abort, typer.TyperException) as stop:
        return _ended(stop, err)
    except Exception as error:
        return _internal(error, err)
    return result if isinstance(result, int) else 0


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(main())
