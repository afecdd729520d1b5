"""YAML and JSON documents: text to plain data, and the line of any place in it.

The one reader of YAML and JSON text in Backchannel: case files, conflict files,
GMCR+ ``.gmcr`` files and GeniusWeb JSON are all parsed by :func:`parse_document`.

A document is read in four steps:

1. JSON is first checked by :mod:`json`, whose messages name the line and column of a
   syntax error; YAML is checked by PyYAML's parser as it goes.
2. The text becomes a stream of YAML events: libyaml or PyYAML's parser makes them
   from YAML (see :func:`_yaml_events`),
   :func:`_json_events` from JSON (with the JSON types of its scalars, so that ``1e5``
   is a number and tabs may indent, as in any JSON reader).
3. One composer (:class:`~backchannel.formats.composer.Composer`) builds the node tree
   from either stream. It is the one place where a document is bounded (nesting depth,
   alias expansion, long numbers) and duplicate keys are refused.
4. PyYAML's safe constructor turns the nodes into data (a value repeated by an alias is
   one shared object), and :func:`_node_locator` finds the line of a path in the nodes.

Every problem is one :class:`~backchannel.errors.CaseFileErrors` of located
:class:`~backchannel.errors.CaseFileError`\\ s, worded the same for every file:
``not valid YAML: ...``, ``not valid JSON: ... at column N``, ``duplicate key 'k' (first
on line N)`` (every duplicate key is listed), each with a hint on how to fix it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.scanner import Scanner

from backchannel.errors import CaseFileError, CaseFileErrors
from backchannel.formats.composer import Composer, Tag, problem
from backchannel.formats.files import decode_text, read_bytes
from backchannel.formats.parser_words import json_problem, yaml_context, yaml_problem
from backchannel.messages import Message, t_
from backchannel.model.conditions import Locator, Where

__all__ = ["parse_document", "read_document"]


class _YamlParser(Reader, Scanner, Parser):
    """PyYAML's reader, scanner and parser: YAML text to events."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)


def _yaml_events(text: str) -> Iterator[Event]:
    """The events of YAML text: by libyaml when it is there and the text is valid YAML.

    libyaml (PyYAML's C parser) is about ten times faster; on a syntax error the text
    is parsed again by PyYAML's own parser, whose messages the errors are worded from.
    """
    if yaml.__with_libyaml__:
        fast = yaml.CBaseLoader(text)
        try:
            events: list[Event] = []
            while (event := fast.get_event()) is not None:
                events.append(event)
        except yaml.YAMLError:
            pass
        else:
            yield from events
            return
        finally:
            fast.dispose()
    parser = _YamlParser(text)
    next_event: Callable[[], Event] = parser.get_event
    try:
        while parser.check_event():
            yield next_event()
    finally:
        parser.dispose()


_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[][{}]|[^][{}\s,:"]+')
_JSON_INT = re.compile(r"-?[0-9]+")
_JSON_WORDS = {
    "true": (Tag.BOOL, "true"),
    "false": (Tag.BOOL, "false"),
    "null": (Tag.NULL, "null"),
    "NaN": (Tag.FLOAT, ".nan"),
    "Infinity": (Tag.FLOAT, ".inf"),
    "-Infinity": (Tag.FLOAT, "-.inf"),
}


def _json_events(text: str, source: str) -> Iterator[Event]:
    """The events of JSON text that :mod:`json` has checked, typed as JSON types them.

    Commas and colons are skipped: the checked syntax makes them redundant.
    """
    mark = yaml.Mark(source, 0, 0, 0, None, 0)
    yield StreamStartEvent(mark, mark)
    yield DocumentStartEvent(mark, mark, explicit=False)
    line, line_start, done = 0, 0, 0
    for token in _JSON_TOKEN.finditer(text):
        start = token.start()
        newlines = text.count("\n", done, start)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", done, start) + 1
        done = start
        mark = yaml.Mark(source, start, line, start - line_start, None, 0)
        value = token.group()
        if value in ("{", "["):
            start_kind = MappingStartEvent if value == "{" else SequenceStartEvent
            yield start_kind(None, None, True, mark, mark, flow_style=True)
        elif value in ("}", "]"):
            yield MappingEndEvent(mark, mark) if value == "}" else SequenceEndEvent(mark, mark)
        elif value.startswith('"'):
            text_value = json.loads(value) if "\\" in value else value[1:-1]
            yield ScalarEvent(None, Tag.STR, (False, False), text_value, mark, mark, style='"')
        else:
            tag, word = _JSON_WORDS.get(value) or (
                Tag.INT if _JSON_INT.fullmatch(value) else Tag.FLOAT,
                value,
            )
            yield ScalarEvent(None, tag, (False, False), word, mark, mark)
    yield DocumentEndEvent(mark, mark)
    yield StreamEndEvent(mark, mark)


def _check_json(text: str, source: str) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise problem(
            source,
            (),
            t_(
                "not valid JSON: {problem} at column {column}",
                problem=json_problem(error.msg),
                column=error.colno,
            ),
            t_("check the quotes, commas and brackets near there"),
            error.lineno,
        ) from None
    except (RecursionError, ValueError):
        pass  # nested too deeply or a number too long: the composer says where


def _yaml_problem(
    error: yaml.MarkedYAMLError | ReaderError, text: str, source: str
) -> CaseFileErrors:
    """A YAML syntax error (or a tag no safe loader constructs), located."""
    if isinstance(error, ReaderError):
        message = t_("character {code} is not allowed", code=f"U+{error.character:04X}")
        at = text.count("\n", 0, error.position) + 1
        return problem(
            source, (), t_("not valid YAML: {problem}", problem=message), t_("delete it"), at
        )
    mark = error.problem_mark or error.context_mark
    said = error.problem or str(error)
    what: Message = yaml_problem(said)
    if mark is not None:
        what = t_("{problem} at column {column}", problem=what, column=mark.column + 1)
    if error.context and error.context_mark and error.context_mark is not mark:
        what = t_(
            "{problem} ({context}, which starts on line {line})",
            problem=what,
            context=yaml_context(error.context),
            line=error.context_mark.line + 1,
        )
    hint = (
        t_("indent with spaces: YAML forbids tabs")
        if "'\\t'" in said
        else t_("check the indentation and quoting near this line")
    )
    line = None if mark is None else mark.line + 1
    return problem(source, (), t_("not valid YAML: {problem}", problem=what), hint, line)


def _node_locator(root: Node | None) -> Locator:
    def locate(path: Where) -> int | None:
        node = root
        line = None if node is None else node.start_mark.line + 1
        for part in path:
            if isinstance(node, MappingNode) and isinstance(part, int):
                if part == 0:
                    continue  # a single mapping written where a list of one is allowed
                return line
            if isinstance(node, MappingNode):
                for key, value in reversed(node.value):  # the last wins over merged keys
                    if isinstance(key, ScalarNode) and key.value == str(part):
                        node = value
                        line = key.start_mark.line + 1
                        break
                else:
                    return line
            elif isinstance(node, SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    return line
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    return locate


def parse_document(text: str, source: str, *, json_syntax: bool) -> tuple[Any, Locator]:
    """Parse YAML (or JSON, when ``json_syntax``) text into plain data.

    Parameters
    ----------
    text:
        The document, as :func:`~backchannel.formats.files.decode_text` returns it.
    source:
        The file name, for error messages.
    json_syntax:
        Read the text as JSON (strings, numbers, ``true``, ``false`` and ``null`` as JSON
        means them) rather than YAML.

    Returns
    -------
    tuple
        The data (``None`` for a YAML file with no document), and a locator giving the
        1-based line of a path in it (of its longest prefix that exists).

    Raises
    ------
    CaseFileErrors
        Bad syntax, a document beyond the bounds (nesting, aliases, numbers) or an
        impossible date, each located; or every duplicate key.
    """
    composer = Composer(source)
    try:
        if json_syntax:
            _check_json(text, source)
            root = composer.compose(_json_events(text, source))
        else:
            root = composer.compose(_yaml_events(text))
        data = composer.construct(root)
    except (yaml.MarkedYAMLError, ReaderError) as error:
        raise _yaml_problem(error, text, source) from None
    return data, _node_locator(root)


def read_document(path: Path, *, json_syntax: bool) -> tuple[Any, Locator]:
    """Read a YAML or JSON file and parse it (see :func:`parse_document`).

    Raises
    ------
    CaseFileError
        The file cannot be read (see :func:`~backchannel.formats.files.read_bytes`).
    CaseFileErrors
        The file is not text, or any problem :func:`parse_document` finds.
    """
    source = str(path)
    data = read_bytes(path)
    try:
        text = decode_text(data, source)
    except CaseFileError as error:
        raise CaseFileErrors([error]) from None
    return parse_document(text, source, json_syntax=json_syntax)
