"""Conflict files as YAML or JSON text: parse them with located errors, and write them.

Every problem becomes a :class:`~backchannel.errors.CaseFileError` naming the file,
the path inside the document (``preferences.US.statements[2]``) and, where the text
was YAML or JSON, the line. Line numbers come from the ``start_mark`` of the nodes
that :func:`yaml.compose` builds.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from backchannel.errors import CaseFileError
from backchannel.model.conflict.checks import raise_all
from backchannel.model.conflict.schema import ConflictFile

__all__ = [
    "Lines",
    "conflict_from_data",
    "dump_conflict",
    "parse_document",
    "read_conflict_text",
]

Lines = dict[tuple[str | int, ...], int]
Format = Literal["yaml", "json"]


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: Lines, source: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise CaseFileError(
                    source,
                    (*path, key),
                    f"key {key!r} appears twice (first on line {seen[key]})",
                    hint="keep one of them",
                    line=line,
                )
            seen[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, source)


def _yaml_lines(text: str, source: str) -> Lines:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: Lines = {}
    if root is not None:
        _walk(root, (), lines, source)
    return lines


def parse_document(text: str, source: str, fmt: Format = "yaml") -> tuple[Any, Lines]:
    """Parse YAML or JSON text into plain data and a map from paths to lines.

    Raises
    ------
    CaseFileError
        When the text is not valid YAML/JSON or repeats a key.
    """
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CaseFileError(source, (), f"not valid JSON: {exc.msg}", line=exc.lineno) from None
        try:
            lines = _yaml_lines(text, source)
        except yaml.YAMLError:
            lines = {}
        return data, lines
    try:
        lines = _yaml_lines(text, source)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise CaseFileError(
            source,
            (),
            f"not valid YAML: {exc.problem or exc.context}",
            hint="check the indentation and quoting near this line",
            line=None if mark is None else mark.line + 1,
        ) from None
    except yaml.YAMLError as exc:
        raise CaseFileError(source, (), f"not valid YAML: {exc}") from None
    return data, lines


_MESSAGES = {
    "missing": "missing required key",
    "string_type": "expected text",
    "list_type": "expected a list",
    "dict_type": "expected a mapping of keys to values",
    "model_type": "expected a mapping of keys to values",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
    "tuple_type": "expected a pair of states",
}


def _data_path(data: Any, loc: tuple[Any, ...], kind: str) -> tuple[str | int, ...]:
    """Keep the parts of a pydantic location that exist in the document."""
    path: list[str | int] = []
    current = data
    for position, part in enumerate(loc):
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            path.append(part)
            current = current[part]
        elif kind == "missing" and position == len(loc) - 1 and isinstance(part, str):
            path.append(part)
    return tuple(path)


def conflict_from_data(data: Any, source: str, lines: Lines | None = None) -> ConflictFile:
    """Validate parsed data as a :class:`ConflictFile`, with located errors."""
    lines = lines or {}
    if not isinstance(data, dict):
        raise CaseFileError(
            source,
            (),
            "the document must be a mapping with keys such as title, decision_makers",
            hint="see docs/reference/conflict-file.md",
            line=1,
        )
    try:
        model = ConflictFile.model_validate(data)
    except ValidationError as exc:
        errors: list[CaseFileError] = []
        for error in exc.errors():
            kind = str(error["type"])
            path = _data_path(data, tuple(error["loc"]), kind)
            ctx = error.get("ctx") or {}
            hint = None
            if kind == "unknown_key":
                path = (*path, str(ctx["name"]))
                message = str(error["msg"])
            elif kind == "missing":
                message = f"{_MESSAGES[kind]} {path[-1]!r}" if path else _MESSAGES[kind]
                path = path[:-1] if path else path
            elif kind == "literal_error":
                message = f"{error['input']!r} is not allowed; {error['msg'].lower()}"
            else:
                message = _MESSAGES.get(kind, str(error["msg"]))
                if kind in _MESSAGES and "input" in error:
                    message += f", got {_show(error['input'])}"
            line = _line(lines, path)
            errors.append(CaseFileError(source, path, message, hint=hint, line=line))
        raise_all(errors)
        raise AssertionError("unreachable") from exc  # pragma: no cover
    model.attach_lines(lines)
    return model


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _line(lines: Lines, path: tuple[str | int, ...]) -> int | None:
    key = path
    while key:
        if key in lines:
            return lines[key]
        key = key[:-1]
    return None


def read_conflict_text(text: str, source: str, fmt: Format = "yaml") -> ConflictFile:
    """Parse and validate a conflict document given as text."""
    data, lines = parse_document(text, source, fmt)
    return conflict_from_data(data, source, lines)


class _Dumper(yaml.SafeDumper):
    """Short lists of scalars (tie groups, option lists) in flow style."""


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    flow = all(isinstance(item, str | bool | int) for item in value) and len(value) <= 12
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def dump_conflict(model: ConflictFile, fmt: Format = "yaml") -> str:
    """Write a conflict file as YAML or JSON text (defaults and empty keys left out)."""
    data = model.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data = {"title": model.title, **data}
    for pref in data.get("preferences", {}).values():
        if "unranked" in pref:
            pref["unranked"] = [list(pair) for pair in pref["unranked"]]
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return str(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100))
