"""Read case files (YAML or JSON) into :class:`~backchannel.model.case.Case` objects.

Parsing keeps the YAML node tree so that every error can name the line it is on;
pydantic's own errors are translated into located, human messages (the path inside
the file, what is wrong, how to fix it). Duplicate keys, which YAML parsers usually
drop silently, are errors here.

Every problem with the content of a case file (bad bytes, bad syntax, duplicate
keys, a wrong shape, broken cross-references) is raised as one
:class:`~backchannel.errors.CaseFileErrors` listing all the problems found; a file
that cannot be read at all (missing, a folder, too large) is an
:class:`~backchannel.errors.InputError`.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from backchannel.errors import CaseFileError, CaseFileErrors, InputError
from backchannel.model import case as case_module
from backchannel.model.case import Case
from backchannel.model.compile import Locator, compile_case
from backchannel.model.problem import Problem

CASE_SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 20 * 1024 * 1024


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


def _one(
    source: str, message: str, *, line: int | None = None, hint: str | None = None
) -> CaseFileErrors:
    """A :class:`CaseFileErrors` holding one problem about the whole file."""
    return CaseFileErrors([CaseFileError(source, (), message, hint=hint, line=line)])


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


def read_document(path: Path) -> tuple[Any, Locator]:
    """Parse a YAML or JSON file; return the data and a path-to-line locator."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{source}: the file is {size} bytes, more than {MAX_FILE_BYTES}")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{source}: no such file", hint="check the path") from None
    except IsADirectoryError:
        raise InputError(f"{source}: is a folder, not a case file") from None
    except UnicodeDecodeError as error:
        raise _one(
            source,
            f"not UTF-8 text (byte {error.start})",
            line=error.object[: error.start].count(b"\n") + 1,
            hint="save the file as UTF-8",
        ) from None
    except OSError as error:
        raise InputError(f"{source}: cannot read the file ({error.strerror})") from None
    if path.suffix.lower() == ".json":
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            raise _one(
                source,
                f"invalid JSON: {error.msg} at column {error.colno}",
                line=error.lineno,
                hint="fix the syntax",
            ) from None
    loader = _StrictLoader(text)
    try:
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
        raise _one(source, f"invalid YAML: {problem}", line=line, hint=hint) from None
    except yaml.YAMLError as error:
        raise _one(source, f"invalid YAML: {error}", hint="fix the syntax") from None
    finally:
        loader.dispose()
    return data, _node_locator(node)


Loc = tuple[str | int, ...]
_TYPE_ERRORS = frozenset(
    {
        "bool_parsing",
        "bool_type",
        "dict_type",
        "float_parsing",
        "float_type",
        "int_from_float",
        "int_parsing",
        "int_type",
        "list_type",
        "model_attributes_type",
        "model_type",
        "string_type",
        "tuple_type",
    }
)
_MODELS: dict[str, type[BaseModel]] = {
    name: value
    for name, value in vars(case_module).items()
    if isinstance(value, type) and issubclass(value, BaseModel)
}


@dataclass(frozen=True)
class _Item:
    """One pydantic error, with its real place in the file and its union branches."""

    error: Mapping[str, Any]
    path: Loc
    branches: tuple[tuple[Loc, str], ...]
    """``(place, tag)`` for every union alternative the error went through."""


def _item(data: Any, error: Mapping[str, Any]) -> _Item:
    """Split a pydantic location into the path in the file and the union tags on it."""
    loc: Loc = tuple(error["loc"])
    named_last = error["type"] == "missing"  # the missing key is not in the data
    walk = loc[:-1] if named_last else loc
    path: list[str | int] = []
    branches: list[tuple[Loc, str]] = []
    node = data
    for part in walk:
        inside = (isinstance(node, Mapping) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if inside:
            path.append(part)
            node = node[part]
        else:
            branches.append((tuple(path), str(part)))
    if named_last:
        path.append(loc[-1])
    return _Item(error, tuple(path), tuple(branches))


def _value_at(data: Any, path: Loc) -> Any:
    node = data
    for part in path:
        node = node[part]
    return node


def _model_keys(tag: str) -> list[str]:
    model = _MODELS.get(tag)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _fits(value: Any, tag: str) -> bool:
    """Whether a model alternative plausibly is what the author meant to write."""
    return isinstance(value, Mapping) and bool(set(value) & set(_model_keys(tag)))


def _alternatives(items: list[_Item]) -> dict[Loc, set[str]]:
    """Every union place in the errors, with the tags of its alternatives."""
    found: dict[Loc, set[str]] = {}
    for item in items:
        for place, tag in item.branches:
            found.setdefault(place, set()).add(tag)
    return found


def _resolve_unions(data: Any, items: list[_Item]) -> list[_Item]:
    """Keep, at every union, the errors of the alternative the author meant.

    Pydantic reports every alternative of a union; a mapping that shares keys with a
    model alternative was meant as that model, anything else as one of the other
    alternatives. Without this, ``{x: 0, y: high}`` as a rating would also report
    "'points' is missing".
    """
    alternatives = _alternatives(items)

    def meant(place: Loc, tag: str) -> bool:
        value = _value_at(data, place)
        fitting = {t for t in alternatives[place] if _fits(value, t)}
        if fitting:
            return tag in fitting
        others = {t for t in alternatives[place] if t not in _MODELS}
        return tag not in _MODELS or not others

    kept = [item for item in items if all(meant(p, t) for p, t in item.branches)]
    return kept or items


def _expected(tags: set[str]) -> str:
    """What a union accepts, in words: "a number or a mapping (value, firmness)"."""
    words: list[str] = []
    for tag in sorted(tags, key=lambda t: (t in _MODELS, t)):
        if tag in ("int", "float"):
            word = "a number"
        elif tag == "str":
            word = "text"
        elif tag == "bool":
            word = "true or false"
        elif tag.startswith(("list", "tuple")):
            word = "a list"
        elif tag in _MODELS:
            word = f"a mapping ({', '.join(_model_keys(tag))})"
        else:
            word = "a mapping"
        if word not in words:
            words.append(word)
    return " or ".join(words)


def _allowed_keys(model: type[BaseModel], data: Any, path: tuple[str | int, ...]) -> list[str]:
    """Field names a model accepts at a path (best effort, for the hint)."""
    current: Any = model
    for part in path[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        info = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if info is None:
            return []
        current = _first_model(info.annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", {})
    return [info.alias or name for name, info in fields.items()]


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def _message(error: Mapping[str, Any]) -> tuple[str, str | None]:
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        return f"'{error['loc'][-1]}' is missing", "add it"
    if kind == "extra_forbidden":
        return f"unknown key '{error['loc'][-1]}'", None
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        return f"expected a number, got {value!r}", "write a plain number, such as 50 or 0.4"
    if kind in ("string_type",):
        return f"expected text, got {value!r}", "write a name or a sentence"
    if kind in ("list_type",):
        return f"expected a list, got {type(value).__name__}", "write it as [a, b, ...]"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping, got {value!r}", "write it as key: value lines"
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{value!r} is not allowed", f"use one of {expected}"
    if kind in ("greater_than", "greater_than_equal"):
        limit = error.get("ctx", {}).get("gt", error.get("ctx", {}).get("ge"))
        return f"{value!r} is too small: {error['msg'].lower()}", f"give a number above {limit}"
    if kind == "too_short":
        return "the list is empty", "give at least one entry"
    if kind == "string_too_short":
        return "the text is empty", "give a name"
    return error["msg"], None


def _number_keys_as_text(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Let YAML rate numeric options as ``{0: 10, 5: 60}``: rating keys become text.

    The case model names options by text (a numeric option by its number written
    out, as JSON has to), so ``5`` and ``'5'`` are the same key here.
    """
    parties = data.get("parties")
    if not isinstance(parties, list):
        return data
    fixed_parties: list[Any] = []
    for party in parties:
        ratings = party.get("ratings") if isinstance(party, Mapping) else None
        if not isinstance(ratings, Mapping):
            fixed_parties.append(party)
            continue
        fixed = {
            issue: (
                {
                    str(key)
                    if isinstance(key, int | float) and not isinstance(key, bool)
                    else key: v
                    for key, v in table.items()
                }
                if isinstance(table, Mapping)
                else table
            )
            for issue, table in ratings.items()
        }
        fixed_parties.append({**party, "ratings": fixed})
    return {**data, "parties": fixed_parties}


def parse_case(data: Any, source: str, locate: Locator | None = None) -> Case:
    """Validate parsed data as a :class:`Case`, with located errors.

    Raises
    ------
    CaseFileErrors
        Every problem found, each with its path in the file and its line.
    """
    if data is None:
        raise _one(
            source,
            "the file is empty",
            line=1,
            hint="a case file holds title, issues and parties; see docs/case-file.md",
        )
    if not isinstance(data, Mapping):
        raise _one(
            source,
            f"a case file holds a mapping (title, issues, parties), not {type(data).__name__}",
            line=locate(()) if locate else None,
            hint="see docs/case-file.md",
        )
    data = _number_keys_as_text(data)
    try:
        return Case.model_validate(data)
    except ValidationError as error:
        every = [_item(data, e) for e in error.errors()]
        alternatives = _alternatives(every)
        items = _resolve_unions(data, every)
        by_path: dict[Loc, list[_Item]] = {}
        for item in items:
            by_path.setdefault(item.path, []).append(item)
        found: list[CaseFileError] = []
        for path, group in by_path.items():
            first = group[0].error
            message, hint = _message(first)
            if len(group) > 1 and all(item.error["type"] in _TYPE_ERRORS for item in group):
                expected = _expected(alternatives.get(path, set()))
                message = f"expected {expected}, got {first.get('input')!r}"
                hint = f"write {expected}" if " or " in expected else hint
            elif first["type"] == "extra_forbidden":
                allowed = _allowed_keys(Case, data, path)
                hint = f"allowed keys here: {', '.join(allowed)}" if allowed else hint
            line = locate(path) if locate else None
            found.append(CaseFileError(source, path, message, hint=hint, line=line))
        raise CaseFileErrors(found) from None


def read_case(path: Path) -> tuple[Case, Locator]:
    """Read a YAML/JSON case file."""
    data, locate = read_document(path)
    return parse_case(data, str(path), locate), locate


def load_case(path: Path) -> Case:
    """Load any supported input as a case: a case file, or a Genius/GeniusWeb domain."""
    from backchannel.model import genius

    if path.is_dir():
        return genius.load_genius_folder(path)
    if path.suffix.lower() == ".xml":
        return genius.load_genius_file(path)
    if path.suffix.lower() not in CASE_SUFFIXES:
        raise InputError(
            f"{path}: unknown kind of file",
            hint="give a .yaml/.json case file or a Genius domain folder",
        )
    return read_case(path)[0]


def load_problem(path: Path) -> tuple[Case, Problem]:
    """Load an input and compile it; every error is located in the file."""
    if path.is_file() and path.suffix.lower() in CASE_SUFFIXES:
        data, locate = read_document(path)
        if isinstance(data, Mapping) and not {"title", "issues", "parties"} & set(data):
            from backchannel.model import genius

            case = genius.load_genius_file(path)
            return case, compile_case(case, str(path))
        case = parse_case(data, str(path), locate)
        return case, compile_case(case, str(path), locate)
    case = load_case(path)
    return case, compile_case(case, str(path))
