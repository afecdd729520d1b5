"""Conflict files as YAML or JSON text: checked with located errors, and written.

The text is parsed by :func:`~backchannel.formats.documents.parse_document`; every
problem with the data becomes a :class:`~backchannel.errors.CaseFileError` naming the
file, the path inside the document (``preferences.US.statements[2]``) and, where the
text was YAML or JSON, the line.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from backchannel.errors import CaseFileError
from backchannel.formats.documents import parse_document
from backchannel.model.conditions import Locator
from backchannel.model.conflict.checks import raise_all
from backchannel.model.conflict.schema import ConflictFile

__all__ = [
    "conflict_from_data",
    "dump_conflict",
    "read_conflict_text",
]

Format = Literal["yaml", "json"]


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


def conflict_from_data(data: Any, source: str, locate: Locator | None = None) -> ConflictFile:
    """Validate parsed data as a :class:`ConflictFile`, with located errors.

    ``locate`` gives the line of a path in the text the data was parsed from, if any.
    """
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
            line = None if locate is None else locate(path)
            errors.append(CaseFileError(source, path, message, hint=hint, line=line))
        raise_all(errors)
        raise AssertionError("unreachable") from exc  # pragma: no cover
    if locate is not None:
        model.attach_locator(locate)
    return model


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def read_conflict_text(text: str, source: str, fmt: Format = "yaml") -> ConflictFile:
    """Parse and validate a conflict document given as YAML or JSON text.

    Raises
    ------
    CaseFileError, CaseFileErrors
        Problems in the text (see :func:`~backchannel.formats.documents.parse_document`)
        or in its content, located.
    """
    data, locate = parse_document(text, source, json_syntax=fmt == "json")
    return conflict_from_data(data, source, locate)


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
