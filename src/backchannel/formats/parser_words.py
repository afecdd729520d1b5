"""The parsers' own words, in ours: PyYAML's and :mod:`json`'s syntax errors, translatable.

A parser's message is English text made by the library. The common ones are matched here
and said as a :class:`~backchannel.messages.Message` whose English is the parser's (so an
English reader sees what the library wrote) and whose other languages come from the
catalogues; the part the parser quotes from the file (a character, a token) stays as it
is. A message not listed is shown quoted after our sentence, as detail
(:func:`yaml_problem`, :func:`json_problem`).
"""

from __future__ import annotations

import re

from backchannel.messages import Message, t_

_FOUND = r"(?P<found>.+)"

YAML_PROBLEMS: tuple[tuple[re.Pattern[str], Message], ...] = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        (
            rf"found character {_FOUND} that cannot start any token",
            t_("found character {found} that cannot start any token"),
        ),
        ("mapping values are not allowed here", t_("mapping values are not allowed here")),
        ("mapping keys are not allowed here", t_("mapping keys are not allowed here")),
        ("sequence entries are not allowed here", t_("sequence entries are not allowed here")),
        ("could not find expected ':'", t_("could not find expected ':'")),
        (rf"expected ',' or '\]', but got {_FOUND}", t_("expected ',' or ']', but got {found}")),
        (rf"expected ',' or '\}}', but got {_FOUND}", t_("expected ',' or '}}', but got {found}")),
        (
            rf"expected <block end>, but found {_FOUND}",
            t_("expected the end of a block, but found {found}"),
        ),
        (
            rf"expected the node content, but found {_FOUND}",
            t_("expected a value, but found {found}"),
        ),
        (
            rf"expected a comment or a line break, but found {_FOUND}",
            t_("expected a comment or a line break, but found {found}"),
        ),
        (
            rf"expected alphabetic or numeric character, but found {_FOUND}",
            t_("expected a letter or a digit, but found {found}"),
        ),
        (rf"found unknown escape character {_FOUND}", t_("found unknown escape character {found}")),
        ("found unexpected end of stream", t_("found the end of the file")),
        ("found unexpected document separator", t_("found a document separator (---)")),
    )
)
"""PyYAML's problems, matched whole; ``found`` is what the parser quotes from the file."""

YAML_CONTEXTS: dict[str, Message] = {
    "while parsing a flow sequence": t_("while parsing a flow sequence"),
    "while parsing a flow mapping": t_("while parsing a flow mapping"),
    "while parsing a block mapping": t_("while parsing a block mapping"),
    "while parsing a block collection": t_("while parsing a block collection"),
    "while parsing a node": t_("while parsing a node"),
    "while scanning a simple key": t_("while scanning a simple key"),
    "while scanning a quoted scalar": t_("while scanning a quoted scalar"),
    "while scanning a double-quoted scalar": t_("while scanning a double-quoted scalar"),
    "while scanning a block scalar": t_("while scanning a block scalar"),
    "while scanning an anchor": t_("while scanning an anchor"),
    "while scanning an alias": t_("while scanning an alias"),
}
"""What PyYAML was reading when it stopped."""

YAML_TOKENS: dict[str, Message] = {
    "'<stream end>'": t_("the end of the file"),
    "'<block end>'": t_("the end of a block"),
    "'<block mapping start>'": t_("the start of a mapping"),
    "'<block sequence start>'": t_("the start of a list"),
    "'<scalar>'": t_("a value"),
    "'<key>'": t_("a key"),
    "'<value>'": t_("a value"),
}
"""The tokens PyYAML names in its messages, in words (any other is shown as it is: a
character of the file)."""

JSON_PROBLEMS: dict[str, Message] = {
    "Expecting value": t_("Expecting value"),
    "Expecting ',' delimiter": t_("Expecting ',' delimiter"),
    "Expecting ':' delimiter": t_("Expecting ':' delimiter"),
    "Expecting property name enclosed in double quotes": t_(
        "Expecting property name enclosed in double quotes"
    ),
    "Extra data": t_("Extra data"),
    "Unterminated string starting at": t_("Unterminated string starting at"),
    "Invalid control character at": t_("Invalid control character at"),
    "Invalid \\escape": t_("Invalid \\escape"),
    "Invalid \\uXXXX escape": t_("Invalid \\uXXXX escape"),
    "Illegal trailing comma before end of object": t_(
        "Illegal trailing comma before end of object"
    ),
    "Illegal trailing comma before end of array": t_("Illegal trailing comma before end of array"),
}
""":mod:`json`'s problems (``JSONDecodeError.msg``)."""


def _quoted(text: str) -> Message:
    return t_("the parser says {detail}", detail=repr(text))


def yaml_problem(text: str) -> Message:
    """PyYAML's problem in our words, or quoted as detail."""
    for pattern, message in YAML_PROBLEMS:
        matched = pattern.fullmatch(text)
        if matched is None:
            continue
        found = matched.groupdict().get("found")
        if found is None:
            return message
        return Message(message.msgid, {"found": YAML_TOKENS.get(found, found)})
    return _quoted(text)


def yaml_context(text: str) -> Message:
    """What PyYAML was reading, in our words, or quoted as detail."""
    return YAML_CONTEXTS.get(text) or _quoted(text)


def json_problem(text: str) -> Message:
    """:mod:`json`'s problem in our words, or quoted as detail."""
    return JSON_PROBLEMS.get(text) or _quoted(text)
