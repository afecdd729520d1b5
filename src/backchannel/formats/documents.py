"""YAML and JSON documents: text to plain data, and the line of any place in it.

The one reader of YAML and JSON text in Backchannel: case files, conflict files,
GMCR+ ``.gmcr`` files and GeniusWeb JSON are all parsed by :func:`parse_document`.

A document is read in four steps:

1. JSON is first checked by :mod:`json`, whose messages name the line and column of a
   syntax error; YAML is checked by PyYAML's parser as it goes.
2. The text becomes a stream of YAML events: PyYAML's parser makes them from YAML,
   :func:`_json_events` from JSON (with the JSON types of its scalars).
3. One composer, :class:`_Composer`, builds the node tree from either stream. It is the
   one place where a document is bounded: how deep it nests (:data:`MAX_DEPTH`), how many
   values its aliases repeat (:data:`MAX_ALIAS_VALUES`), how long a number may be
   (:data:`MAX_NUMBER_CHARS`); and where duplicate keys and impossible dates are refused.
   It keeps its own stack, so no depth of nesting reaches Python's recursion limit.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
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
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from backchannel.errors import CaseFileError, CaseFileErrors
from backchannel.formats.files import decode_text, read_bytes
from backchannel.model.conditions import Locator, Where

__all__ = [
    "MAX_ALIAS_VALUES",
    "MAX_DEPTH",
    "MAX_NUMBER_CHARS",
    "parse_document",
    "read_document",
]

MAX_DEPTH = 100
"""The deepest nesting of lists and mappings a document may have (no file needs 20)."""

MAX_ALIAS_VALUES = 100_000
"""How many values YAML aliases may repeat in one document, counted as if written out.

A few aliases that each repeat the one before ("billion laughs") would otherwise make
a small file expand to gigabytes as it is checked."""

MAX_NUMBER_CHARS = 100
"""The longest number a document may write, in characters (Python refuses to read an
integer of more than 4,300 digits; no quantity in a negotiation needs 20)."""

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"

_SCALAR_NAMES = {
    _INT: "an integer",
    _FLOAT: "a number",
    _BOOL: "true or false",
    _TIMESTAMP: "a date",
}

_KEY_MARKERS = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")
"""Tags of keys that the constructor reads as markers (``<<``, ``=``), not as values."""

_DUPLICATE_HINT = "keep one of them; otherwise one value is silently lost"


def _mark(event: Event) -> yaml.Mark:
    """Where an event starts (every event here is marked)."""
    return cast(yaml.Mark, event.start_mark)


def _problem(source: str, path: Where, message: str, hint: str, line: int | None) -> CaseFileErrors:
    return CaseFileErrors([CaseFileError(source, path, message, hint=hint, line=line)])


@dataclass
class _Open:
    """A list or mapping being composed: its children so far, and its expanded size."""

    node: SequenceNode | MappingNode
    path: Where
    anchor: str | None
    items: list[Node] = field(default_factory=list)
    keys: dict[str, int] = field(default_factory=dict)  # key -> line, for a mapping
    size: int = 1  # values in the node written out (aliases expanded), itself included


class _Composer:
    """Builds the node tree from YAML events, within the bounds of every document."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.resolve: Callable[[type[Node], str | None, Any], str] = Resolver().resolve
        self.constructor = SafeConstructor()
        self.anchors: dict[str, tuple[Node, int]] = {}  # anchor -> node, expanded size
        self.repeated = 0  # values repeated by aliases so far
        self.stack: list[_Open] = []
        self.root: Node | None = None
        self.documents = 0
        self.duplicates: list[CaseFileError] = []

    def compose(self, events: Iterator[Event]) -> Node | None:
        """The root node of the one document in ``events`` (``None``: no document)."""
        for event in events:
            if isinstance(event, ScalarEvent):
                self._scalar(event)
            elif isinstance(event, SequenceStartEvent | MappingStartEvent):
                self._open(event)
            elif isinstance(event, SequenceEndEvent | MappingEndEvent):
                self._close(event)
            elif isinstance(event, AliasEvent):
                self._alias(event)
            elif isinstance(event, DocumentStartEvent):
                self.documents += 1
                if self.documents > 1:
                    raise self._refuse(
                        event,
                        "a second document in the file",
                        "keep one document per file: remove this '---' and what follows",
                    )
        if self.duplicates:
            raise CaseFileErrors(sorted(self.duplicates, key=lambda error: error.line or 0))
        return self.root

    def construct(self, root: Node | None) -> Any:
        """The data of a composed document (its scalars are already constructed)."""
        return None if root is None else self.constructor.construct_document(root)

    def _refuse(self, event: Event, message: str, hint: str) -> CaseFileErrors:
        return _problem(self.source, self._where(), message, hint, _mark(event).line + 1)

    def _where(self) -> Where:
        """The path of the value the next event starts."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.node, SequenceNode):
            return (*top.path, len(top.items))
        if len(top.items) % 2 and isinstance(top.items[-1], ScalarNode):
            return (*top.path, top.items[-1].value)
        return top.path

    def _check_anchor(self, event: ScalarEvent | SequenceStartEvent | MappingStartEvent) -> None:
        anchor = event.anchor
        if anchor is None:
            return
        if anchor in self.anchors or any(frame.anchor == anchor for frame in self.stack):
            raise self._refuse(
                event, f"anchor &{anchor} is defined twice", "give each anchor its own name"
            )

    def _add(self, node: Node, size: int, anchor: str | None) -> None:
        if anchor is not None:
            self.anchors[anchor] = (node, size)
        if not self.stack:
            self.root = node
            return
        top = self.stack[-1]
        if isinstance(top.node, MappingNode) and not len(top.items) % 2:
            self._check_key(top, node)
        top.items.append(node)
        top.size += size

    def _check_key(self, mapping: _Open, key: Node) -> None:
        if not isinstance(key, ScalarNode):
            return
        line = key.start_mark.line + 1
        if key.value not in mapping.keys:
            mapping.keys[key.value] = line
            return
        message = f"duplicate key {key.value!r} (first on line {mapping.keys[key.value]})"
        self.duplicates.append(
            CaseFileError(
                self.source, (*mapping.path, key.value), message, hint=_DUPLICATE_HINT, line=line
            )
        )

    def _scalar(self, event: ScalarEvent) -> None:
        self._check_anchor(event)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(ScalarNode, event.value, event.implicit)
        node = ScalarNode(tag, event.value, _mark(event), None, style=event.style)
        if tag in (_INT, _FLOAT) and len(event.value) > MAX_NUMBER_CHARS:
            raise self._refuse(
                event,
                f"a number of {len(event.value)} characters; at most {MAX_NUMBER_CHARS} "
                "are allowed",
                "write a shorter number, or put it in quotes if it is text",
            )
        try:  # constructed now, once, so that a bad value is refused at its path
            if tag not in _KEY_MARKERS:
                self.constructor.construct_object(node)
        except (ValueError, KeyError, AttributeError) as error:
            what = _SCALAR_NAMES.get(tag, f"a valid {tag}")
            detail = f" ({error})" if isinstance(error, ValueError) and tag == _TIMESTAMP else ""
            raise self._refuse(
                event,
                f"{event.value!r} is not {what}{detail}",
                "write a valid value, or put it in quotes if it is text",
            ) from None
        self._add(node, 1, event.anchor)

    def _open(self, event: SequenceStartEvent | MappingStartEvent) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise self._refuse(
                event,
                f"lists and mappings nested more than {MAX_DEPTH} levels deep",
                "flatten the document; no Backchannel file needs such depth",
            )
        self._check_anchor(event)
        kind = SequenceNode if isinstance(event, SequenceStartEvent) else MappingNode
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(kind, None, event.implicit)
        node = kind(tag, [], _mark(event), None, flow_style=event.flow_style)
        self.stack.append(_Open(node, self._where(), event.anchor))

    def _close(self, event: SequenceEndEvent | MappingEndEvent) -> None:
        frame = self.stack.pop()
        if isinstance(frame.node, MappingNode):
            frame.node.value = list(zip(frame.items[::2], frame.items[1::2], strict=True))
        else:
            frame.node.value = frame.items
        self._add(frame.node, frame.size, frame.anchor)

    def _alias(self, event: AliasEvent) -> None:
        anchor = str(event.anchor)
        if anchor not in self.anchors:
            if any(frame.anchor == anchor for frame in self.stack):
                raise self._refuse(
                    event,
                    f"alias *{anchor} is inside the value it repeats",
                    "an alias may only repeat a value that ends before it",
                )
            raise self._refuse(
                event, f"alias *{anchor} has no anchor before it", f"define &{anchor} first"
            )
        node, size = self.anchors[anchor]
        self.repeated += size
        if self.repeated > MAX_ALIAS_VALUES:
            raise self._refuse(
                event,
                f"aliases repeat more than {MAX_ALIAS_VALUES:,} values",
                "write the repeated parts out, or repeat them less",
            )
        self._add(node, size, None)


class _YamlParser(Reader, Scanner, Parser):
    """PyYAML's reader, scanner and parser: YAML text to events."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)


def _yaml_events(text: str) -> Iterator[Event]:
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
    "true": (_BOOL, "true"),
    "false": (_BOOL, "false"),
    "null": (_NULL, "null"),
    "NaN": (_FLOAT, ".nan"),
    "Infinity": (_FLOAT, ".inf"),
    "-Infinity": (_FLOAT, "-.inf"),
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
            yield ScalarEvent(None, _STR, (False, False), text_value, mark, mark, style='"')
        else:
            tag, word = _JSON_WORDS.get(value) or (
                _INT if _JSON_INT.fullmatch(value) else _FLOAT,
                value,
            )
            yield ScalarEvent(None, tag, (False, False), word, mark, mark)
    yield DocumentEndEvent(mark, mark)
    yield StreamEndEvent(mark, mark)


def _check_json(text: str, source: str) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise _problem(
            source,
            (),
            f"not valid JSON: {error.msg} at column {error.colno}",
            "check the quotes, commas and brackets near there",
            error.lineno,
        ) from None
    except (RecursionError, ValueError):
        pass  # nested too deeply or a number too long: the composer says where


def _yaml_problem(
    error: yaml.MarkedYAMLError | ReaderError, text: str, source: str
) -> CaseFileErrors:
    """A YAML syntax error (or a tag no safe loader constructs), located."""
    if isinstance(error, ReaderError):
        message = f"character U+{error.character:04X} is not allowed"
        at = text.count("\n", 0, error.position) + 1
        return _problem(source, (), f"not valid YAML: {message}", "delete it", at)
    mark = error.problem_mark or error.context_mark
    problem = error.problem or str(error)
    if error.context and error.context_mark and error.context_mark is not mark:
        problem += f" ({error.context}, which starts on line {error.context_mark.line + 1})"
    hint = (
        "indent with spaces: YAML forbids tabs"
        if "'\\t'" in problem
        else "check the indentation and quoting near this line"
    )
    line = None if mark is None else mark.line + 1
    return _problem(source, (), f"not valid YAML: {problem}", hint, line)


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
                for key, value in node.value:
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
    composer = _Composer(source)
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
