"""The ``backchannel`` command line (Typer).

Commands live in sub-modules by area; this module assembles them and maps every
:class:`~backchannel.errors.BackchannelError` to a one-line message and its exit code.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from backchannel.errors import BackchannelError, CaseFileErrors

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


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 done, 2 bad input, 3 time limit)."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        result = app(args=argv, standalone_mode=False)
        if isinstance(result, int):
            return result
    except BackchannelError as error:
        if isinstance(error, CaseFileErrors):
            for line in error.lines():
                err.print(f"error: {line}", markup=False)
        else:
            err.print(f"error: {error}", markup=False)
        return error.exit_code
    except typer.Exit as done:
        return int(done.exit_code or 0)
    except typer.Abort:
        err.print("aborted", markup=False)
        return 130
    except typer.TyperException as usage:  # usage errors carry their own exit code
        show = getattr(usage, "show", None)
        if show is None:
            err.print(f"error: {usage}", markup=False)
            return 2
        show(file=sys.stderr)
        return int(getattr(usage, "exit_code", 2))
    return 0


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(main())
