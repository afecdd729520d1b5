"""Validate parsed data as a :class:`~backchannel.model.case.Case`, with located errors.

Pydantic's own errors are translated into human messages: the path inside the file,
what is wrong and how to fix it. At a union (a rating given as a table or as points),
only the alternative the author evidently meant is reported. Each error is located on
its line by the locator of the parsed document (:mod:`backchannel.formats.documents`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from backchannel.errors import CaseFileError, CaseFileErrors, validation_problem
from backchannel.messages import Message, Text, t_, verbatim
from backchannel.model import case as case_module
from backchannel.model.case import Case
from backchannel.model.conditions import Locator

__all__ = ["parse_case"]


def _file_problem(
    source: str, message: Text, *, line: int | None = None, hint: Text | None = None
) -> CaseFileErrors:
    """A :class:`CaseFileErrors` holding one problem about the whole file."""
    return CaseFileErrors([CaseFileError(source, (), message, hint=hint, line=line)])


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


def _expected(tags: set[str]) -> list[Message]:
    """What a union accepts, in words: "a number", "a mapping (value, firmness)"."""
    words: list[Message] = []
    for tag in sorted(tags, key=lambda t: (t in _MODELS, t)):
        if tag in ("int", "float"):
            word = t_("a number")
        elif tag == "str":
            word = t_("text")
        elif tag == "bool":
            word = t_("true or false")
        elif tag.startswith(("list", "tuple")):
            word = t_("a list")
        elif tag in _MODELS:
            word = t_("a mapping ({keys})", keys=", ".join(_model_keys(tag)))
        else:
            word = t_("a mapping")
        if word not in words:
            words.append(word)
    return words


def _either(words: list[Message]) -> Message:
    """Words joined by "or" in the reader's language."""
    said = words[0] if words else verbatim("")
    for word in words[1:]:
        said = t_("{either} or {other}", either=said, other=word)
    return said


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


def _message(error: Mapping[str, Any]) -> tuple[Message, Message | None]:  # noqa: PLR0911 — one return per pydantic error type: a switch reads best
    kind = error["type"]
    value = error.get("input")
    number = t_("write a plain number, such as 50 or 0.4")
    if kind == "missing":
        return t_("{key} is missing", key=repr(str(error["loc"][-1]))), t_("add it")
    if kind == "extra_forbidden":
        return t_("unknown key {key}", key=repr(str(error["loc"][-1]))), None
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        return t_("expected a number, got {value}", value=repr(value)), number
    if kind == "finite_number":
        return t_("expected a finite number, got {value}", value=repr(value)), number
    if kind in ("string_type",):
        return t_("expected text, got {value}", value=repr(value)), t_("write a name or a sentence")
    if kind in ("list_type",):
        got = type(value).__name__
        return t_("expected a list, got {kind}", kind=got), t_("write it as [a, b, ...]")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        got = repr(value)
        return t_("expected a mapping, got {value}", value=got), t_("write it as key: value lines")
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        shown = t_("use one of {choices}", choices=expected.replace(" or ", ", "))
        return t_("{value} is not allowed", value=repr(value)), shown
    if kind in ("greater_than", "greater_than_equal"):
        limit = error.get("ctx", {}).get("gt", error.get("ctx", {}).get("ge"))
        said = (
            t_(
                "{value} is too small: input should be greater than {limit}",
                value=repr(value),
                limit=limit,
            )
            if kind == "greater_than"
            else t_(
                "{value} is too small: input should be greater than or equal to {limit}",
                value=repr(value),
                limit=limit,
            )
        )
        return said, t_("give a number above {limit}", limit=limit)
    if kind == "too_short":
        return t_("the list is empty"), t_("give at least one entry")
    if kind == "string_too_short":
        return t_("the text is empty"), t_("give a name")
    return _validator_words(error), None


def _validator_words(error: Mapping[str, Any]) -> Message:
    """A model validator's own words (a :class:`Message` it raised), else pydantic's
    problem in ours (:func:`~backchannel.errors.validation_problem`)."""
    return validation_problem(error)


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
        raise _file_problem(
            source,
            t_("the file is empty"),
            line=1,
            hint=t_("a case file holds title, issues and parties; see docs/reference/case-file.md"),
        )
    if not isinstance(data, Mapping):
        raise _file_problem(
            source,
            t_(
                "a case file holds a mapping (title, issues, parties), not {kind}",
                kind=type(data).__name__,
            ),
            line=locate(()) if locate else None,
            hint=t_("see docs/reference/case-file.md"),
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
                words = _expected(alternatives.get(path, set()))
                expected = _either(words)
                got = repr(first.get("input"))
                message = t_("expected {expected}, got {value}", expected=expected, value=got)
                hint = t_("write {expected}", expected=expected) if len(words) > 1 else hint
            elif first["type"] == "extra_forbidden":
                allowed = _allowed_keys(Case, data, path)
                hint = t_("allowed keys here: {keys}", keys=", ".join(allowed)) if allowed else hint
            line = locate(path) if locate else None
            found.append(CaseFileError(source, path, message, hint=hint, line=line))
        raise CaseFileErrors(found) from None
