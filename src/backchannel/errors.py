"""The one exception hierarchy of Backchannel.

Every error a user can cause derives from :class:`BackchannelError`. The CLI maps
each class to an exit code and prints its one-line message; the web layer maps it to
a response in one place. Domain code never raises anything else on bad input.

A solve that reaches its time limit is not an error: the engine returns its best
answer with a status that says so, the CLI prints it and exits with code 3.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from string import Formatter
from typing import Any

from backchannel.messages import ENGLISH, Message, Text, Translations, as_message, t_, t_n

MAX_LINE = 400
"""The most characters of a message, or of a hint, that an error shows (about 5 lines of a
terminal); the rest is cut (:func:`shorten`)."""

MAX_PLACE = 100
"""The most characters of a file name or of a place in a file named by an error."""

MAX_LISTED = 10
"""The most items of a list that a message names (:func:`listing`)."""

MAX_PROBLEMS = 20
"""The most problems of one file that are shown, one per line (:class:`CaseFileErrors`)."""

MAX_KEPT = 100
"""The most problems of one file that a checker keeps; it only counts the others."""


def shorten(text: str, limit: int = MAX_LINE) -> str:
    """``text`` on one line of at most about ``limit`` characters.

    Line breaks become spaces; a longer text is cut and says how much was left out.
    """
    flat = " ".join(text.splitlines())
    if len(flat) <= limit:
        return flat
    return f"{flat[:limit].rstrip()}... ({len(flat) - limit:,} more characters)"


def listing(items: Iterable[object], limit: int = MAX_LISTED) -> str:
    """``a, b, c``: the first ``limit`` items as text, then ``and N more`` for the rest."""
    shown: list[str] = []
    more = 0
    for item in items:
        if len(shown) < limit:
            shown.append(str(item))
        else:
            more += 1
    return ", ".join(shown) + (f" and {more:,} more" if more else "")


class BackchannelError(Exception):
    """Root of every error Backchannel raises on purpose.

    Its message and hint are kept as :class:`~backchannel.messages.Message` s
    (``text``, ``hint_text``), shown in the reader's language by :meth:`shown_in`;
    ``message`` and ``hint`` are their English. Either is cut to a screen
    (:func:`shorten`), whatever built it.
    """

    exit_code: int = 1

    def __init__(self, message: Text, *, hint: Text | None = None) -> None:
        self.text = as_message(message)
        self.hint_text = None if hint is None else as_message(hint)
        self.message, self.hint = self.shown_in(ENGLISH)
        super().__init__(self.message)

    def shown_in(self, translations: Translations) -> tuple[str, str | None]:
        """The message and the hint in the language of ``translations``, cut to a screen."""
        hint = self.hint_text
        return (
            shorten(self.text.render(translations)),
            None if hint is None else shorten(hint.render(translations)),
        )

    @property
    def whole(self) -> Message:
        """The message with its hint in brackets, as one message (what ``str()`` shows)."""
        if self.hint_text is None:
            return self.text
        return t_("{message} ({hint})", message=self.text, hint=self.hint_text)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message

    def lines(self, translations: Translations = ENGLISH) -> list[str]:
        """The error as the CLI shows it, in the language of ``translations``: one line per
        problem."""
        message, hint = self.shown_in(translations)
        if hint is None:
            return [message]
        return [t_("{message} ({hint})", message=message, hint=hint).render(translations)]


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


class FieldError(InputError):
    """Bad input in one field of a form: the page shows the message beside that field.

    Parameters
    ----------
    field:
        The name of the form field.
    message, hint:
        What is wrong, and how to put it right.
    """

    def __init__(self, field: str, message: Text, *, hint: Text | None = None) -> None:
        super().__init__(message, hint=hint)
        self.field = field


def field_of(error: BackchannelError) -> str | None:
    """The form field an error concerns (None: the form as a whole)."""
    return error.field if isinstance(error, FieldError) else None


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
        message: Text,
        *,
        hint: Text | None = None,
        line: int | None = None,
    ) -> None:
        self.source = source
        self.path = tuple(path)
        self.line = line
        named = shorten(source, MAX_PLACE)
        where = named if line is None else f"{named}:{line}"
        location: Text = shorten(format_location(self.path), MAX_PLACE)
        if not self.path:
            location = t_("(top level)")
        super().__init__(
            t_("{where}: {location}: {message}", where=where, location=location, message=message),
            hint=hint,
        )


class CaseFileErrors(InputError):
    """Several located problems found in one file, reported together.

    Parameters
    ----------
    errors:
        The problems kept, in the order found.
    unlisted:
        How many more problems were found but not kept (beyond :data:`MAX_KEPT`).
    """

    def __init__(self, errors: Sequence[CaseFileError], *, unlisted: int = 0) -> None:
        self.errors = tuple(errors)
        self.count = len(self.errors) + unlisted
        first = self.errors[0].whole
        more = self.count - 1
        super().__init__(
            t_n(
                "{first} (and {n:,} more problem)",
                "{first} (and {n:,} more problems)",
                more,
                first=first,
            )
            if more
            else first
        )

    def lines(self, translations: Translations = ENGLISH) -> list[str]:
        """One line per problem, for display: at most :data:`MAX_PROBLEMS` and a count."""
        shown = [error.lines(translations)[0] for error in self.errors[:MAX_PROBLEMS]]
        more = self.count - len(shown)
        if more:
            counted = t_n("... and {n:,} more problem", "... and {n:,} more problems", more)
            shown.append(counted.render(translations))
        return shown


class AnalysisError(BackchannelError):
    """An analysis cannot be run on this input (e.g. too many parties). Exit code 2."""

    exit_code = 2


class InvalidAnswer(BackchannelError):
    """An engine returned an answer the validator rejects: a bug, reported, never passed on.

    Exit code 1 (not the user's fault); the message says which check failed.
    """

    exit_code = 1

    def __init__(self, message: Text) -> None:
        super().__init__(
            message, hint=t_("this is a bug in Backchannel; please report it with the case")
        )


class NotFound(BackchannelError):
    """The object does not exist, or the caller may not know that it does (same answer)."""

    exit_code = 2

    def __init__(self) -> None:
        super().__init__(t_("not found"))


class NotAllowedNow(BackchannelError):
    """The action breaks a rule of the dialogue in its current state (e.g. a locked round)."""

    exit_code = 2


class EnrolmentNeeded(NotAllowedNow):
    """Two-factor sign-in is required (of the account, or by a dialogue) and not set up yet."""

    def __init__(self, message: Text) -> None:
        super().__init__(message, hint=t_("set up two-factor sign-in on your account page first"))


class SignInRequired(BackchannelError):
    """The caller is not signed in, or the session has expired or been revoked."""

    exit_code = 2

    def __init__(self) -> None:
        super().__init__(t_("sign-in required"))


class WrongCredentials(InputError):
    """A sign-in refused: the same message for an unknown user and a wrong password.

    Bad input like any other for the CLI and the services; the web answers it with 401.
    """


class TooManyAttempts(BackchannelError):
    """Too many failed sign-ins for this account from this place; wait and retry."""

    exit_code = 2


class DiskFull(BackchannelError):
    """The database could not be written because its disk is full; nothing was saved.

    The server stays up and answers 503; the next write succeeds once space returns.
    """

    def __init__(self) -> None:
        super().__init__(
            t_("the server's disk is full; your input was not saved"), hint=t_("try again later")
        )


VALIDATION_PROBLEMS: Mapping[str, Message] = {
    "missing": t_("is required"),
    "extra_forbidden": t_("is not a field of this request"),
    "string_type": t_("must be text"),
    "string_too_short": t_("needs at least {min_length} characters"),
    "string_too_long": t_("takes at most {max_length} characters"),
    "string_pattern_mismatch": t_("must not be empty"),
    "int_type": t_("must be a whole number"),
    "int_parsing": t_("must be a whole number"),
    "int_from_float": t_("must be a whole number"),
    "float_type": t_("must be a number"),
    "float_parsing": t_("must be a number"),
    "finite_number": t_("must be a finite number"),
    "bool_type": t_("must be true or false"),
    "bool_parsing": t_("must be true or false"),
    "greater_than_equal": t_("must be at least {ge}"),
    "less_than_equal": t_("must be at most {le}"),
    "greater_than": t_("must be more than {gt}"),
    "less_than": t_("must be less than {lt}"),
    "enum": t_("must be one of: {expected}"),
    "literal_error": t_("must be one of: {expected}"),
    "list_type": t_("must be a list"),
    "tuple_type": t_("must be a list"),
    "set_type": t_("must be a list"),
    "dict_type": t_("must be an object"),
    "model_type": t_("must be an object"),
    "model_attributes_type": t_("must be an object"),
    "too_short": t_("needs at least {min_length} items"),
    "too_long": t_("takes at most {max_length} items"),
    "path_type": t_("must be a file path"),
    "url_parsing": t_("must be an address such as https://host"),
    "url_scheme": t_("must be an address such as https://host"),
    "json_invalid": t_("must be valid JSON"),
}
"""Pydantic's problems (by their ``type``), in our words, as what a value must be: the web's
forms and API, the settings and the files say them after the place."""


def validation_problem(problem: Mapping[str, Any]) -> Message:
    """One problem of a pydantic validation (an item of ``ValidationError.errors()``) in our
    words, in every language.

    A validator that raised a :class:`Message` gives it; a problem of
    :data:`VALIDATION_PROBLEMS` is said in our words; anything else is our sentence, with
    pydantic's English quoted after it as detail.
    """
    ctx = problem.get("ctx") or {}
    raised = ctx.get("error")
    said = getattr(raised, "args", (None,))[0] if raised is not None else None
    if isinstance(said, Message):
        return said
    known = VALIDATION_PROBLEMS.get(str(problem.get("type")))
    params = {key: _choices(str(value)) for key, value in ctx.items()}
    if known is not None and _fields(known.msgid) <= params.keys():
        return Message(known.msgid, params)
    text = problem.get("msg")
    if not isinstance(text, str) or not text:
        return t_("is not valid")
    return t_("is not valid: {detail}", detail=repr(shorten(text.removeprefix("Value error, "))))


def _choices(text: str) -> str:
    """Pydantic's list of choices (``'a', 'b' or 'c'``) without its English "or"."""
    return text.replace("' or '", "', '")


def _fields(text: str) -> set[str]:
    """The names of the ``{fields}`` of a ``str.format`` text."""
    return {name for _, name, _, _ in Formatter().parse(text) if name}
