"""The one exception hierarchy of Backchannel.

Every error a user can cause derives from :class:`BackchannelError`. The CLI maps
each class to an exit code and prints its one-line message; the web layer maps it to
a response in one place. Domain code never raises anything else on bad input.

A solve that reaches its time limit is not an error: the engine returns its best
answer with a status that says so, the CLI prints it and exits with code 3.
"""

from __future__ import annotations

from collections.abc import Sequence


class BackchannelError(Exception):
    """Root of every error Backchannel raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message

    def lines(self) -> list[str]:
        """The error as the CLI shows it: one line per problem."""
        return [str(self)]


def format_location(path: Sequence[str | int]) -> str:
    """Render a path inside a document, e.g. ``parties[1].red_lines[3].options[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


class InputError(BackchannelError):
    """Bad input from a user: a file, a flag or an argument. Exit code 2."""

    exit_code = 2


class CaseFileError(InputError):
    """A problem inside a case, conflict or domain file, located precisely.

    Parameters
    ----------
    source:
        The file (or folder) the problem is in.
    path:
        Where inside the document, as keys and list indices.
    message:
        What is wrong.
    hint:
        How to fix it.
    line:
        The 1-based line in the file, when known.
    """

    def __init__(
        self,
        source: str,
        path: Sequence[str | int],
        message: str,
        *,
        hint: str | None = None,
        line: int | None = None,
    ) -> None:
        self.source = source
        self.path = tuple(path)
        self.line = line
        where = source if line is None else f"{source}:{line}"
        location = format_location(self.path)
        super().__init__(f"{where}: {location}: {message}", hint=hint)


class CaseFileErrors(InputError):
    """Several located problems found in one file, reported together."""

    def __init__(self, errors: Sequence[CaseFileError]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0]
        more = len(self.errors) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(str(first) + suffix)

    def lines(self) -> list[str]:
        """One line per problem, for display."""
        return [str(error) for error in self.errors]


class AnalysisError(BackchannelError):
    """An analysis cannot be run on this input (e.g. too many parties). Exit code 2."""

    exit_code = 2


class InvalidAnswer(BackchannelError):
    """An engine returned an answer the validator rejects: a bug, reported, never passed on.

    Exit code 1 (not the user's fault); the message says which check failed.
    """

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(
            message, hint="this is a bug in Backchannel; please report it with the case"
        )


class NotFound(BackchannelError):
    """The object does not exist, or the caller may not know that it does (same answer)."""

    exit_code = 2

    def __init__(self) -> None:
        super().__init__("not found")


class NotAllowedNow(BackchannelError):
    """The action breaks a rule of the dialogue in its current state (e.g. a locked round)."""

    exit_code = 2


class SignInRequired(BackchannelError):
    """The caller is not signed in, or the session has expired or been revoked."""

    exit_code = 2

    def __init__(self) -> None:
        super().__init__("sign-in required")


class TooManyAttempts(BackchannelError):
    """Too many failed sign-ins for this account from this place; wait and retry."""

    exit_code = 2


class DiskFull(BackchannelError):
    """The database could not be written because its disk is full; nothing was saved.

    The server stays up and answers 503; the next write succeeds once space returns.
    """

    def __init__(self) -> None:
        super().__init__(
            "the server's disk is full; your input was not saved", hint="try again later"
        )
