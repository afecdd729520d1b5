"""JSON documents written piece by piece, so that a long list is never one string.

:func:`json_chunks` yields the text ``json.dumps(doc, indent=..., ensure_ascii=...)``
would return, in pieces. A value that knows how to write itself as a JSON array
(:class:`Streamed`, for instance the lazy list of states of a conflict analysis) is
asked for its own pieces, so a document of millions of entries is printed with the
memory of one block of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Protocol, TextIO, runtime_checkable


@runtime_checkable
class Streamed(Protocol):
    """A value that writes itself as a JSON array."""

    def json_chunks(self, level: int, step: str, ensure_ascii: bool) -> Iterator[str]:
        """The array's text, laid out as ``json.dumps`` with ``indent=step`` and
        ``ensure_ascii`` lays out a list ``level`` levels deep (its first line after the
        opening ``[`` is indented ``level + 1`` steps, its closing ``]`` ``level`` steps)."""
        ...


def json_chunks(
    value: Any, *, indent: int = 2, ensure_ascii: bool = True, level: int = 0
) -> Iterator[str]:
    """The JSON text of ``value`` in pieces (joined: what ``json.dumps`` returns).

    Parameters
    ----------
    value:
        A JSON-ready value: dicts with string keys, lists, tuples, scalars, and
        :class:`Streamed` values.
    indent:
        Spaces per level.
    ensure_ascii:
        As for :func:`json.dumps`.
    level:
        How deep ``value`` sits (0 for a whole document).
    """
    step = " " * indent
    if isinstance(value, Streamed):
        yield from value.json_chunks(level, step, ensure_ascii)
    elif isinstance(value, Mapping):
        if not value:
            yield "{}"
            return
        inner = "\n" + step * (level + 1)
        opening = "{" + inner
        for key, item in value.items():
            name = key if isinstance(key, str) else json.dumps(key)  # as json.dumps keys
            yield opening + json.dumps(name, ensure_ascii=ensure_ascii) + ": "
            yield from json_chunks(item, indent=indent, ensure_ascii=ensure_ascii, level=level + 1)
            opening = "," + inner
        yield "\n" + step * level + "}"
    elif isinstance(value, list | tuple):
        if not value:
            yield "[]"
            return
        inner = "\n" + step * (level + 1)
        opening = "[" + inner
        for item in value:
            yield opening
            yield from json_chunks(item, indent=indent, ensure_ascii=ensure_ascii, level=level + 1)
            opening = "," + inner
        yield "\n" + step * level + "]"
    else:
        yield json.dumps(value, ensure_ascii=ensure_ascii)


def write_json(value: Any, out: TextIO, *, indent: int = 2, ensure_ascii: bool = True) -> None:
    """Write ``value`` as indented JSON and a newline to ``out``, piece by piece."""
    for chunk in json_chunks(value, indent=indent, ensure_ascii=ensure_ascii):
        out.write(chunk)
    out.write("\n")
