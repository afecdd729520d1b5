"""The escalation model's form: plain fields in, a conflict file's data out, and each
problem the model's checks find put back beside the field (and line) it concerns.

Field names: ``title``, ``description``; per decision maker row ``i``: ``dm:<i>:id``,
``dm:<i>:name`` and ``dm:<i>:prefs`` (option-prioritisation statements, one a line, most
important first); per option row ``k`` of that decision maker: ``opt:<i>:<k>:id``,
``opt:<i>:<k>:name``, ``opt:<i>:<k>:rev`` (``both``, ``forward_only`` or
``backward_only``) and ``opt:<i>:<k>:sq`` (a box: taken in the status quo); and
``infeasible``: one infeasible combination a line (``withdraw & escalate``, ``-a & b``);
``coalitions``: one coalition a line, its decision makers' ids joined by ``+`` (``US + UK``);
``misperceived``: a decision maker's id, a colon and the states it cannot see (move to or
from), ``-`` for either letter (``USSR: YN-N, NNYY``), one decision maker a line.
Empty rows are left out; lines starting with ``#`` are comments.

Options are numbered decision maker by decision maker, in the order of the rows. What the
form does not show of a saved model (state names, an explicit ranking of a decision maker
whose statements are left empty) is kept as it was; so are coalitions and misperceptions when
a form without those fields is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backchannel.errors import CaseFileError, CaseFileErrors, FieldError, InputError
from backchannel.messages import Message, as_message, t_
from backchannel.model.conflict import ConflictFile
from backchannel.web.forms import HIDDEN, Typed

MAX_DMS = 8
"""The most decision makers the form has rows for."""
MAX_OPTIONS = 12
"""The most options of one decision maker the form has rows for."""
SPARE_DMS = 1
SPARE_OPTIONS = 2
"""Empty rows shown after the filled ones, to add to the model."""
REVERSIBILITY = ("both", "forward_only", "backward_only")
_LITERAL = re.compile(r"\s*(-?)\s*([A-Za-z_][A-Za-z0-9_]*)\s*\Z")


@dataclass
class Places:
    """Where each part of the model came from in the form (to put an error back)."""

    dms: list[int] = field(default_factory=list)  # decision_makers[j] -> row i
    options: list[tuple[int, int]] = field(default_factory=list)  # options[m] -> (i, k)
    infeasible: list[int] = field(default_factory=list)  # infeasible[r] -> line
    statements: dict[str, tuple[int, list[int]]] = field(default_factory=dict)  # dm -> row, lines
    coalitions: list[int] = field(default_factory=list)  # coalitions[g] -> line
    misperceived: dict[str, list[int]] = field(default_factory=dict)  # dm -> line of each state


def _lines(text: str) -> list[tuple[int, str]]:
    """The non-empty, non-comment lines of a text area, with their 1-based numbers."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        clean = line.strip()
        if clean and not clean.startswith("#"):
            found.append((number, clean))
    return found


def _combination(number: int, line: str) -> dict[str, bool]:
    rule: dict[str, bool] = {}
    for part in line.split("&"):
        found = _LITERAL.match(part)
        if found is None:
            raise FieldError(
                "infeasible",
                t_(
                    "line {line}: {part} is not an option or -option",
                    line=number,
                    part=repr(part.strip()),
                ),
                hint=t_(
                    "write options joined by &, a - before an option not taken, "
                    "e.g. withdraw & -escalate"
                ),
            )
        rule[found.group(2)] = found.group(1) != "-"
    return rule


def _text(form: Any, name: str) -> str:
    return str(form.get(name) or "").strip()


def _option_rows(form: Any, i: int, places: Places) -> list[tuple[dict[str, Any], str]]:
    """The options of decision maker row ``i`` (each with Y/N in the status quo)."""
    found = []
    for k in range(MAX_OPTIONS):
        option_id = _text(form, f"opt:{i}:{k}:id")
        name = _text(form, f"opt:{i}:{k}:name")
        if not option_id:
            if name:
                raise FieldError(
                    f"opt:{i}:{k}:id",
                    t_("this option has a name but no id"),
                    hint=t_("give it a short id: letters, digits and _"),
                )
            continue
        entry: dict[str, Any] = {"id": option_id}
        if name:
            entry["name"] = name
        rev = _text(form, f"opt:{i}:{k}:rev") or "both"
        if rev != "both":
            entry["reversibility"] = rev
        places.options.append((i, k))
        found.append((entry, "Y" if form.get(f"opt:{i}:{k}:sq") else "N"))
    return found


def _preference(form: Any, i: int, dm_id: str, saved: ConflictFile | None, places: Places) -> Any:
    """Decision maker row ``i``'s preferences: its statements, or the saved ranking when
    no statement is written."""
    lines = _lines(str(form.get(f"dm:{i}:prefs") or ""))
    old = None if saved is None else saved.preferences.get(dm_id)
    if not lines and old is not None and old.ranking is not None:
        return old.model_dump(mode="json", exclude_none=True)
    places.statements[dm_id] = (i, [number for number, _ in lines])
    return {"statements": [line for _, line in lines]}


def _kept(form: Any, saved: ConflictFile | None, width: int) -> dict[str, Any]:
    """What the form does not show of the saved model (state names that still fit; the
    coalitions and misperceptions when the form has no field for them)."""
    if saved is None:
        return {}
    dumped = saved.model_dump(mode="json")
    kept = {
        key: dumped[key]
        for key in ("coalitions", "misperceived")
        if dumped[key] and key not in form
    }
    names = {k: v for k, v in saved.state_names.items() if len(k) == width}
    return {**kept, "state_names": names} if names else kept


def _coalitions(form: Any, places: Places) -> list[list[str]]:
    """The coalitions typed: one a line, ids joined by ``+`` (or commas)."""
    found = []
    for number, line in _lines(str(form.get("coalitions") or "")):
        found.append([part.strip() for part in re.split(r"[+,]", line) if part.strip()])
        places.coalitions.append(number)
    return found


def _misperceived(form: Any, places: Places) -> dict[str, list[str]]:
    """The misperceptions typed: ``DM: STATE, STATE`` a line.

    Raises
    ------
    FieldError
        A line without the decision maker's id and a colon, or without a state.
    """
    found: dict[str, list[str]] = {}
    for number, line in _lines(str(form.get("misperceived") or "")):
        who, colon, states = line.partition(":")
        cubes = [part for part in re.split(r"[\s,]+", states) if part]
        if not colon or not who.strip() or not cubes:
            raise FieldError(
                "misperceived",
                t_("line {line}: {text} is not a misperception", line=number, text=repr(line[:40])),
                hint=t_(
                    "write the decision maker's id, a colon and the states it cannot see, "
                    "e.g. USSR: YN-N"
                ),
            )
        dm = who.strip()
        found.setdefault(dm, []).extend(cubes)
        places.misperceived.setdefault(dm, []).extend([number] * len(cubes))
    return found


def data_from_form(form: Any, saved: ConflictFile | None) -> tuple[dict[str, Any], Places]:
    """The conflict file data the form describes, and where each part of it came from.

    Raises
    ------
    FieldError
        A row half filled in, or an infeasible combination that is not one.
    """
    places = Places()
    dms: list[dict[str, Any]] = []
    options: list[tuple[dict[str, Any], str]] = []
    preferences: dict[str, Any] = {}
    for i in range(MAX_DMS):
        dm_id, name = _text(form, f"dm:{i}:id"), _text(form, f"dm:{i}:name")
        owned = _option_rows(form, i, places)
        if not dm_id:
            if owned or name or _lines(str(form.get(f"dm:{i}:prefs") or "")):
                raise FieldError(
                    f"dm:{i}:id",
                    t_("this decision maker has options or preferences but no id"),
                    hint=t_("give it a short id, e.g. US"),
                )
            continue
        options += owned
        dm: dict[str, Any] = {"id": dm_id, "options": [entry["id"] for entry, _ in owned]}
        dms.append({**dm, "name": name} if name else dm)
        places.dms.append(i)
        preferences[dm_id] = _preference(form, i, dm_id, saved, places)
    infeasible = []
    for number, line in _lines(str(form.get("infeasible") or "")):
        infeasible.append(_combination(number, line))
        places.infeasible.append(number)
    data: dict[str, Any] = {
        "title": _text(form, "title"),
        "decision_makers": dms,
        "options": [entry for entry, _ in options],
        "infeasible": infeasible,
        "preferences": preferences,
        **_kept(form, saved, len(options)),
    }
    if "coalitions" in form:
        data["coalitions"] = _coalitions(form, places)
    if "misperceived" in form:
        data["misperceived"] = _misperceived(form, places)
    if _text(form, "description"):
        data["description"] = _text(form, "description")
    if options:
        data["status_quo"] = "".join(taken for _, taken in options)
    return data, places


def typed_from_model(model: ConflictFile) -> Typed:
    """A saved model as the form's fields (groups of options as infeasible lines)."""
    fields: dict[str, list[str]] = {
        "title": [model.title],
        "description": [model.description or ""],
    }
    specs = {o.id: o for o in model.options or ()}
    order = model.option_order()
    for i, dm in enumerate(model.decision_makers):
        fields[f"dm:{i}:id"] = [dm.id]
        fields[f"dm:{i}:name"] = [dm.name or ""]
        prefs = model.preferences.get(dm.id)
        if prefs is not None and prefs.statements is not None:
            fields[f"dm:{i}:prefs"] = ["\n".join(prefs.statements)]
        for k, option in enumerate(dm.options):
            spec = specs.get(option)
            fields[f"opt:{i}:{k}:id"] = [option]
            fields[f"opt:{i}:{k}:name"] = [(spec.name if spec else None) or ""]
            rev = "forward_only" if spec and spec.irreversible else None
            fields[f"opt:{i}:{k}:rev"] = [(spec.reversibility if spec else None) or rev or "both"]
            sq = model.status_quo
            if sq and option in order and sq[order.index(option)] == "Y":
                fields[f"opt:{i}:{k}:sq"] = ["yes"]
    lines = [
        " & ".join(("" if v else "-") + k for k, v in rule.items()) for rule in model.infeasible
    ]
    for group in model.mutually_exclusive:
        lines += [f"{a} & {b}" for n, a in enumerate(group) for b in group[n + 1 :]]
    lines += [" & ".join(f"-{o}" for o in group) for group in model.at_least_one]
    fields["infeasible"] = ["\n".join(lines)]
    fields["coalitions"] = ["\n".join(" + ".join(group) for group in model.coalitions)]
    fields["misperceived"] = [
        "\n".join(f"{dm}: {', '.join(states)}" for dm, states in model.misperceived.items())
    ]
    return Typed(fields)


def typed_from_form(form: Any) -> Typed:
    """The form as it was sent (hidden fields left out)."""
    return Typed({k: [str(v) for v in form.getlist(k)] for k in form if k not in HIDDEN})


@dataclass(frozen=True)
class Row:
    """A decision maker's row of the form and its option rows."""

    index: int
    options: list[int]


def rows(typed: Typed) -> list[Row]:
    """The rows to show: those filled in, then empty ones to add to the model."""
    used_dms = [i for i in range(MAX_DMS) if any(k.startswith(f"dm:{i}:") for k in typed.fields)]
    used_dms += [i for i in range(MAX_DMS) if _option_count(typed, i)]
    count = min(MAX_DMS, (max(used_dms) + 1 if used_dms else 2) + SPARE_DMS)
    out = []
    for i in range(count):
        options = min(MAX_OPTIONS, _option_count(typed, i) + SPARE_OPTIONS)
        out.append(Row(i, list(range(options))))
    return out


def _option_count(typed: Typed, i: int) -> int:
    used = [
        k
        for k in range(MAX_OPTIONS)
        if typed.value(f"opt:{i}:{k}:id") or typed.value(f"opt:{i}:{k}:name")
    ]
    return max(used) + 1 if used else 0


def _inner(error: CaseFileError) -> Message:
    """What a located error says, without the file name and place (the page shows those)."""
    found = error.text.params.get("message")
    return as_message(found) if isinstance(found, (str, Message)) else error.text


def _place(path: tuple[str | int, ...], places: Places) -> tuple[str, int | None] | None:
    """The form field (and line of a text area) a place in the model came from."""
    head = path[0] if path else None
    at = path[1] if len(path) > 1 else None
    found: tuple[str, int | None] | None = None
    if head in ("title", "description", "status_quo"):
        found = (str(head), None)
    elif head == "decision_makers":
        row = places.dms[at] if isinstance(at, int) and at < len(places.dms) else 0
        found = (f"dm:{row}:id", None)
    elif head == "options" and isinstance(at, int) and at < len(places.options):
        i, k = places.options[at]
        part = "rev" if len(path) > 2 and path[2] in ("reversibility", "irreversible") else "id"
        found = (f"opt:{i}:{k}:{part}", None)
    elif head == "infeasible":
        ok = isinstance(at, int) and at < len(places.infeasible)
        found = ("infeasible", places.infeasible[at] if ok and isinstance(at, int) else None)
    elif head == "coalitions":
        ok = isinstance(at, int) and at < len(places.coalitions)
        found = ("coalitions", places.coalitions[at] if ok and isinstance(at, int) else None)
    elif head == "misperceived":
        seen = places.misperceived.get(str(at), [])
        which = path[2] if len(path) > 2 else 0
        ok = isinstance(which, int) and which < len(seen)
        found = ("misperceived", seen[which] if ok and isinstance(which, int) else None)
    elif head == "preferences" and isinstance(at, str) and at in places.statements:
        row, lines = places.statements[at]
        n = path[3] if len(path) > 3 and path[2] == "statements" else None
        found = (f"dm:{row}:prefs", lines[n] if isinstance(n, int) and n < len(lines) else None)
    return found


def located(error: InputError, places: Places) -> InputError:
    """The error of a model the form described, beside the field it concerns (the line of a
    text area named), or as it was when it concerns no field of the form."""
    first = error.errors[0] if isinstance(error, CaseFileErrors) else error
    if not isinstance(first, CaseFileError):
        return error
    place = _place(first.path, places)
    if place is None:
        return error
    message = _inner(first)
    if place[1] is not None:
        message = t_("line {line}: {message}", line=place[1], message=message)
    return FieldError(place[0], message, hint=first.hint_text)


def whatif_fields(query: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The what-if asked in a query string: options switched off, options made irreversible."""
    getlist = getattr(query, "getlist", None)

    def every(name: str) -> tuple[str, ...]:
        values = getlist(name) if getlist is not None else [query.get(name, "")]
        return tuple(dict.fromkeys(str(v) for v in values if v))

    return every("off"), every("irreversible")
