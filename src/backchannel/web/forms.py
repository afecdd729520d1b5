"""Reading the position form: plain fields in, a :class:`Position` out.

Field names: ``importance:<issue>``, ``rating:<issue>:<k>``, ``no:<issue>:<k>`` (a
checkbox: option ``k`` is unacceptable), ``firm:<issue>:<k>``, ``rule:<n>:if_issue``,
``rule:<n>:if_options``, ``rule:<n>:then_issue``, ``rule:<n>:then_options``,
``rule:<n>:firmness``, ``rule:<n>:drop``, ``walk_away`` and ``note``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from backchannel.errors import InputError
from backchannel.model.dialogue import Agenda, Firmness, IfThen, Position, Unacceptable

MAX_RULES = 20


def _int(value: Any, what: str, low: int, high: int) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        raise InputError(
            f"{what}: {text!r} is not a whole number", hint=f"{low} to {high}"
        ) from None
    if not low <= number <= high:
        raise InputError(f"{what}: {number} is outside {low} to {high}")
    return number


def _firmness(value: Any) -> Firmness:
    try:
        return Firmness(str(value or "firm"))
    except ValueError:
        raise InputError(f"unknown firmness {value!r}", hint="flexible, firm or absolute") from None


def position_from_form(agenda: Agenda, form: Any, *, absent: bool = False) -> Position:
    """The position the form describes (every value checked, with a clear message)."""
    try:
        return _position(agenda, form, absent)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InputError(f"{where}: {first['msg']}" if where else str(first["msg"])) from None


def _position(agenda: Agenda, form: Any, absent: bool) -> Position:
    importance: dict[str, int] = {}
    ratings: dict[str, dict[str, int]] = {}
    unacceptable: list[Unacceptable] = []
    for issue in agenda.issues:
        if not absent:
            rank = _int(form.get(f"importance:{issue.id}"), f"importance of {issue.name}", 1, 99)
            if rank is not None:
                importance[issue.id] = rank
        for k, option in enumerate(issue.options):
            if not absent:
                value = _int(form.get(f"rating:{issue.id}:{k}"), f"{issue.name} / {option}", 0, 100)
                if value is not None:
                    ratings.setdefault(issue.id, {})[option] = value
            if form.get(f"no:{issue.id}:{k}"):
                unacceptable.append(
                    Unacceptable(
                        issue=issue.id,
                        option=option,
                        firmness=_firmness(form.get(f"firm:{issue.id}:{k}")),
                    )
                )
    rules = []
    for n in range(MAX_RULES):
        first, then = form.get(f"rule:{n}:if_issue"), form.get(f"rule:{n}:then_issue")
        if not first or not then or form.get(f"rule:{n}:drop"):
            continue
        if_options = [str(v) for v in form.getlist(f"rule:{n}:if_options")]
        then_options = [str(v) for v in form.getlist(f"rule:{n}:then_options")]
        if not if_options or not then_options:
            raise InputError(
                "a condition needs at least one option on each side",
                hint="pick the options in both lists, or leave the condition empty",
            )
        rules.append(
            IfThen(
                if_issue=str(first),
                if_options=if_options,
                then_issue=str(then),
                then_options=then_options,
                firmness=_firmness(form.get(f"rule:{n}:firmness")),
            )
        )
    walk_away = None if absent else _int(form.get("walk_away"), "walk-away level", 0, 100)
    note = str(form.get("note") or "")
    if len(note) > 4000:
        raise InputError("the note is longer than 4000 characters")
    return Position(
        importance=importance,
        ratings=ratings,
        unacceptable=unacceptable,
        rules=rules,
        walk_away=walk_away,
        note=note,
    )
