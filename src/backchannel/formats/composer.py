"""The one composer of YAML and JSON documents, where every bound on them is kept.

:class:`Composer` builds PyYAML's node tree from a stream of YAML events, whether they
come from YAML or from JSON text (:mod:`backchannel.formats.documents` makes both). As
it goes, it refuses

* lists and mappings nested deeper than :data:`MAX_DEPTH` (it keeps its own stack, so
  no depth reaches Python's recursion limit);
* aliases that repeat more than :data:`MAX_ALIAS_VALUES` values in all, counted as if
  written out ("billion laughs");
* numbers longer than :data:`MAX_NUMBER_CHARS` characters;
* tags it does not know, values that are not what their tag says (``2024-13-45``,
  ``!!int twelve``), an alias
  without its anchor or inside it, an anchor defined twice, a second document;
* duplicate keys (every one is listed),

each located at its path and line, with a hint. A bound on a new kind of content
belongs here, where every format gets it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from backchannel.errors import CaseFileError, CaseFileErrors
from backchannel.messages import Message, Text, t_
from backchannel.model.conditions import Where

__all__ = ["MAX_ALIAS_VALUES", "MAX_DEPTH", "MAX_NUMBER_CHARS", "Composer", "Tag", "problem"]

MAX_DEPTH = 100
"""The deepest nesting of lists and mappings a document may have (no file needs 20)."""

MAX_ALIAS_VALUES = 100_000
"""How many values YAML aliases may repeat in one document, counted as if written out.

A few aliases that each repeat the one before ("billion laughs") would otherwise make
a small file expand to gigabytes as it is checked."""

MAX_NUMBER_CHARS = 100
"""The longest number a document may write, in characters (Python refuses to read an
integer of more than 4,300 digits; no quantity in a negotiation needs 20)."""


class Tag(StrEnum):
    """The YAML tags of the scalars that the composer checks or that JSON holds."""

    STR = "tag:yaml.org,2002:str"
    INT = "tag:yaml.org,2002:int"
    FLOAT = "tag:yaml.org,2002:float"
    BOOL = "tag:yaml.org,2002:bool"
    NULL = "tag:yaml.org,2002:null"
    TIMESTAMP = "tag:yaml.org,2002:timestamp"


_SCALAR_NAMES: dict[str, Message] = {
    Tag.INT: t_("an integer"),
    Tag.FLOAT: t_("a number"),
    Tag.BOOL: t_("true or false"),
    Tag.TIMESTAMP: t_("a date"),
}

_MARKERS = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})
"""Tags of the keys that the constructor reads as markers (``<<``, ``=``), not as values."""

_DUPLICATE_HINT = t_("keep one of them; otherwise one value is silently lost")


def _mark(event: Event) -> yaml.Mark:
    """Where an event starts (every event here is marked)."""
    return cast(yaml.Mark, event.start_mark)


def problem(
    source: str, path: Where, message: Text, hint: Text, line: int | None
) -> CaseFileErrors:
    """One located problem in a document, raised as :class:`CaseFileErrors`."""
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


class Composer:
    """Builds the node tree of one document from YAML events, within the bounds.

    Parameters
    ----------
    source:
        The file the events come from, named in every problem.
    """

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
        """The root node of the one document in ``events`` (``None``: no document).

        Raises
        ------
        CaseFileErrors
            The first problem found (see the module's list), located; or, once the
            document is composed, every duplicate key.
        """
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
                        t_("a second document in the file"),
                        t_("keep one document per file: remove this '---' and what follows"),
                    )
        if self.duplicates:
            raise CaseFileErrors(sorted(self.duplicates, key=lambda error: error.line or 0))
        return self.root

    def construct(self, root: Node | None) -> Any:
        """The data of a composed document (its scalars are already constructed)."""
        return None if root is None else self.constructor.construct_document(root)

    def _refuse(self, event: Event, message: Text, hint: Text) -> CaseFileErrors:
        return problem(self.source, self._where(), message, hint, _mark(event).line + 1)

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
                event,
                t_("anchor &{anchor} is defined twice", anchor=anchor),
                t_("give each anchor its own name"),
            )

    def _check_tag(self, event: Event, tag: str) -> None:
        if tag not in self.constructor.yaml_constructors and tag not in _MARKERS:
            raise self._refuse(
                event,
                t_("unknown tag {tag}", tag=repr(tag)),
                t_("remove the tag: only YAML's own tags are read"),
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
        message = t_(
            "duplicate key {key} (first on line {line})",
            key=repr(key.value),
            line=mapping.keys[key.value],
        )
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
        if tag in (Tag.INT, Tag.FLOAT) and len(event.value) > MAX_NUMBER_CHARS:
            raise self._refuse(
                event,
                t_(
                    "a number of {n} characters; at most {limit} are allowed",
                    n=len(event.value),
                    limit=MAX_NUMBER_CHARS,
                ),
                t_("write a shorter number, or put it in quotes if it is text"),
            )
        self._check_tag(event, tag)
        try:  # constructed now, once, so that a bad value is refused at its path
            if tag != Tag.STR and tag not in _MARKERS:
                self.constructor.construct_object(node)
        except (ValueError, KeyError, AttributeError) as error:
            what = _SCALAR_NAMES.get(tag, t_("a valid {tag}", tag=tag))
            detail = f" ({error})" if isinstance(error, ValueError) and tag == Tag.TIMESTAMP else ""
            raise self._refuse(
                event,
                t_(
                    "{value} is not {what}{detail}",
                    value=repr(event.value),
                    what=what,
                    detail=detail,
                ),
                t_("write a valid value, or put it in quotes if it is text"),
            ) from None
        self._add(node, 1, event.anchor)

    def _open(self, event: SequenceStartEvent | MappingStartEvent) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise self._refuse(
                event,
                t_("lists and mappings nested more than {limit} levels deep", limit=MAX_DEPTH),
                t_("flatten the document; no Backchannel file needs such depth"),
            )
        self._check_anchor(event)
        kind = SequenceNode if isinstance(event, SequenceStartEvent) else MappingNode
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(kind, None, event.implicit)
        self._check_tag(event, tag)
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
                    t_("alias *{anchor} is inside the value it repeats", anchor=anchor),
                    t_("an alias may only repeat a value that ends before it"),
                )
            raise self._refuse(
                event,
                t_("alias *{anchor} has no anchor before it", anchor=anchor),
                t_("define &{anchor} first", anchor=anchor),
            )
        node, size = self.anchors[anchor]
        self.repeated += size
        if self.repeated > MAX_ALIAS_VALUES:
            raise self._refuse(
                event,
                t_("aliases repeat more than {limit} values", limit=f"{MAX_ALIAS_VALUES:,}"),
                t_("write the repeated parts out, or repeat them less"),
            )
        self._add(node, size, None)
