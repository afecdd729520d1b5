"""The ``backchannel`` command line (Typer).

Commands live in sub-modules by area; this module assembles them and maps every
:class:`~backchannel.errors.BackchannelError` to a one-line message and its exit code.
Anything else a command raises is a bug: it ends with exit code 1 and one line that
names it, and the traceback only with the global ``--debug`` flag.

The global ``--language`` (else ``BACKCHANNEL_LANGUAGE``, else the POSIX locale) chooses
the language of what the commands print and of their errors (:mod:`backchannel.cli.language`);
Typer's own help and usage errors stay English.
"""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer
from rich.console import Console

from backchannel.cli import language
from backchannel.errors import BackchannelError, shorten
from backchannel.messages import t_, verbatim

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
    speak: Annotated[
        str | None,
        typer.Option(
            "--language",
            metavar="LANGUAGE",
            help="The language of the output and the errors: en or ru (default: "
            "BACKCHANNEL_LANGUAGE, "
            "else the locale's LC_ALL, LC_MESSAGES or LANG, else English; put it before the "
            "command).",
        ),
    ] = None,
) -> None:
    """Confidential negotiation support for track 1.5 diplomacy."""
    from backchannel import i18n

    _Run.debug = debug
    language.use(i18n.cli_language(speak))


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
        for line in stop.lines(language.translations()):
            err.print(language.text(t_("error: {problem}", problem=verbatim(line))), markup=False)
        return stop.exit_code
    if isinstance(stop, typer.Exit):
        return int(stop.exit_code or 0)
    if isinstance(stop, typer.Abort):
        err.print(language.text(t_("aborted")), markup=False)
        return EXIT_ABORTED
    show = getattr(stop, "show", None)  # usage errors print themselves, with their exit code
    if show is None:
        err.print(language.text(t_("error: {problem}", problem=str(stop))), markup=False)
        return 2
    show(file=sys.stderr)
    return int(getattr(stop, "exit_code", 2))


def _internal(error: Exception, err: Console) -> int:
    """An exception no command meant to raise: one line, or the traceback with ``--debug``."""
    if _Run.debug:
        traceback.print_exception(error, file=sys.stderr)
    what = type(error).__name__ + (f": {error}" if str(error) else "")
    said = t_(
        "internal error: {problem} (run again with --debug for the details)",
        problem=shorten(what),
    )
    err.print(language.text(said), markup=False)
    return EXIT_INTERNAL


def _provisional_language() -> None:
    """The locale's language, until the global options choose (what a refused
    ``--language`` is said in); English when the locale's is not served."""
    from backchannel import i18n

    language.use(i18n.from_environment())


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 done, 1 internal error, 2 bad input, 3 time limit)."""
    _Run.debug = False
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    _provisional_language()
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
