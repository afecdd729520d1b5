"""Case files (YAML or JSON): parse them with line numbers, and write them.

Parsing keeps the YAML node tree (JSON is read by the same loader, after a JSON syntax
check) so that every error can name the line it is on; duplicate keys, which YAML
parsers usually drop silently, are errors here. The parsed data becomes a
:class:`~backchannel.model.case.Case` in :mod:`backchannel.formats.case_data`.

Every problem with the content of a case file (bad bytes, bad syntax, duplicate
keys, a wrong shape, broken cross-references) is raised as one
:class:`~backchannel.errors.CaseFileErrors` listing all the problems found; a file
that cannot be read at all (missing, a folder, too large) is one
:class:`~backchannel.errors.CaseFileError`.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from backchannel.errors import CaseFileError, CaseFileErrors
from backchannel.formats.case_data import file_problem
from backchannel.formats.files import decode_text, read_bytes
from backchannel.model.case import Case
from backchannel.model.conditions import Locator

__all__ = ["case_document", "dump_case", "parse_document", "read_document"]


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Hashable, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, Hashable) and key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {seen[key].start_mark.line + 1})",
                key_node.start_mark,
            )
        if isinstance(key, Hashable):
            seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _node_locator(root: yaml.Node | None) -> Locator:
    def locate(path: tuple[str | int, ...]) -> int | None:
        node = root
        line = None if node is None else node.start_mark.line + 1
        for part in path:
            if isinstance(node, yaml.MappingNode) and isinstance(part, int):
                if part == 0:
                    continue  # a single mapping written where a list of one is allowed
                return line
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                        node = value
                        line = key.start_mark.line + 1
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    return line
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    return locate


def _duplicate_keys(root: yaml.Node, source: str) -> list[CaseFileError]:
    """Every key repeated inside one mapping, located at its second occurrence."""
    found: list[CaseFileError] = []
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    visited: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in visited:  # an alias: already checked where it was anchored
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    continue
                line = key.start_mark.line + 1
                if key.value in first:
                    found.append(
                        CaseFileError(
                            source,
                            (*path, key.value),
                            f"duplicate key {key.value!r} (first on line {first[key.value]})",
                            hint="keep one of them; otherwise one value is silently lost",
                            line=line,
                        )
                    )
                else:
                    first[key.value] = line
                    stack.append((value, (*path, key.value)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, k)) for k, item in enumerate(node.value))
    found.sort(key=lambda error: error.line or 0)
    return found


def parse_document(text: str, source: str, *, json_syntax: bool) -> tuple[Any, Locator]:
    """Parse YAML (or JSON, when ``json_syntax``) text; return the data and a line locator.

    Raises
    ------
    CaseFileErrors
        Bad syntax (located), or every duplicate key.
    """
    if json_syntax:
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            raise file_problem(
                source,
                f"invalid JSON: {error.msg} at column {error.colno}",
                line=error.lineno,
                hint="fix the syntax",
            ) from None
    node: yaml.Node | None = None
    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text)
        node = loader.get_single_node()
        if node is not None:
            duplicates = _duplicate_keys(node, source)
            if duplicates:
                raise CaseFileErrors(duplicates)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = error.problem or str(error)
        if error.context and error.context_mark and error.context_mark is not mark:
            problem += f" ({error.context}, which starts on line {error.context_mark.line + 1})"
        hint = "indent with spaces: YAML forbids tabs" if "'\\t'" in problem else "fix the syntax"
        raise file_problem(source, f"invalid YAML: {problem}", line=line, hint=hint) from None
    except yaml.YAMLError as error:
        raise file_problem(source, f"invalid YAML: {error}", hint="fix the syntax") from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, _node_locator(node)


def read_document(path: Path, *, json_syntax: bool) -> tuple[Any, Locator]:
    """Read and parse a YAML or JSON case file (see :func:`parse_document`)."""
    source = str(path)
    data = read_bytes(path)
    try:
        text = decode_text(data, source)
    except CaseFileError as error:
        raise CaseFileErrors([error]) from None
    return parse_document(text, source, json_syntax=json_syntax)


def case_document(case: Case) -> dict[str, Any]:
    """A case as plain data, ready for YAML or JSON."""
    data: dict[str, Any] = case.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def dump_case(case: Case, *, json_syntax: bool) -> str:
    """A case file's text: YAML, or JSON when ``json_syntax``."""
    if json_syntax:
        return json.dumps(case_document(case), indent=2, ensure_ascii=False)
    return str(yaml.safe_dump(case_document(case), sort_keys=False, allow_unicode=True))
