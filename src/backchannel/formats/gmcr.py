"""The GMCR+ save format (``.gmcr``, JSON), read and written from its description.

The format (gmcr-py v0.3-0.4; see ``research/gmcr.md`` section 3) has

* ``options``: ``{name, permittedDirection}`` with direction ``both``/``fwd``/``back``;
* ``decisionMakers``: ``{name, options: [option index], preferences: [...],
  preferenceRanking?, misperceptions?}``; options are regrouped per decision maker
  on load, and the regrouped order is the bit order of every state number;
* ``infeasibles`` and each ``misperceptions`` entry: conditions, i.e. lists of
  ``[option index, "Y"|"N"]`` literals (a conjunction);
* ``preferences``: option prioritisation, each a condition or
  ``{"compound": true, "members": [condition, ...]}`` (a disjunction);
* ``preferenceRanking`` (older files ``preferenceVector``): ordered state numbers
  (rank of a state among the feasible states' decimals, 1-based), best first, inner
  lists for ties; used when ``useManualPreferenceRanking`` is true;
* ``coalitions``: decision-maker indices, a list for a coalition.

Our own data that the format lacks (ids, title, status quo, preference uncertainty,
state names) travels under a ``backchannel`` key, which GMCR+ ignores.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import Any

from backchannel.errors import CaseFileError
from backchannel.formats.conflict_file import conflict_from_data
from backchannel.formats.documents import parse_document
from backchannel.model.conflict.schema import ConflictFile
from backchannel.model.conflict.statements import (
    And,
    Expr,
    Not,
    Opt,
    Or,
    expression_options,
    format_statement,
    holds,
    parse_statement,
)

__all__ = ["Enumerator", "NotExpressible", "gmcr_option_order", "read_gmcr_text", "write_gmcr"]

Enumerator = Callable[[int, Sequence[tuple[int, int]]], Sequence[int]]
"""``(number of options, forbidden (mask, value) cubes) -> sorted feasible codes``."""

_TO_GMCR = {"both": "both", "forward_only": "fwd", "backward_only": "back"}
_FROM_GMCR = {value: key for key, value in _TO_GMCR.items()}
_MAX_DNF_OPTIONS = 10


class NotExpressible(ValueError):
    """A conflict that the ``.gmcr`` format cannot hold; ``path`` locates the cause."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


def gmcr_option_order(model: ConflictFile) -> list[int]:
    """Our option indices in GMCR+ order (grouped per decision maker)."""
    index = {name: j for j, name in enumerate(model.option_order())}
    return [index[name] for dm in model.decision_makers for name in dm.options]


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_]+", "_", text.strip()).strip("_").lower() or "option"
    if base[0].isdigit() or base in {"if", "iff"}:
        base = "o_" + base
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


class _Reader:
    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def fail(self, path: tuple[str | int, ...], message: str) -> CaseFileError:
        return CaseFileError(self.source, path, message, hint="is this a GMCR+ save file?")

    def get(self, obj: Any, key: str, kind: type, path: tuple[str | int, ...]) -> Any:
        if not isinstance(obj, dict) or not isinstance(obj.get(key), kind):
            raise self.fail((*path, key), f"expected {kind.__name__} under {key!r}")
        return obj[key]

    def condition(self, cond: Any, remap: list[int], path: tuple[str | int, ...]) -> str:
        """A conjunction as a Y/N/- pattern in our option order."""
        chars = ["-"] * len(remap)
        if not isinstance(cond, list):
            raise self.fail(path, "a condition must be a list of [option, 'Y'|'N']")
        for i, literal in enumerate(cond):
            ok = isinstance(literal, list) and len(literal) == 2
            if not ok or not isinstance(literal[0], int) or literal[1] not in ("Y", "N"):
                raise self.fail((*path, i), "expected [option index, 'Y' or 'N']")
            if not 0 <= literal[0] < len(remap):
                raise self.fail((*path, i), f"option index {literal[0]} out of range")
            chars[remap[literal[0]]] = literal[1]
        return "".join(chars)


def _pattern_expr(pattern: str) -> Expr:
    literals: list[Expr] = [
        Opt(j) if char == "Y" else Not(Opt(j)) for j, char in enumerate(pattern) if char != "-"
    ]
    return literals[0] if len(literals) == 1 else And(tuple(literals))


def _option_order(r: _Reader, options: list[Any], dms: list[Any]) -> list[int]:
    """GMCR+ option indices grouped per decision maker: our option order."""
    order: list[int] = []
    for k, dm in enumerate(dms):
        for i, g in enumerate(r.get(dm, "options", list, ("decisionMakers", k))):
            if not isinstance(g, int) or not 0 <= g < len(options) or g in order:
                raise r.fail(("decisionMakers", k, "options", i), f"bad option index {g!r}")
            order.append(g)
    if len(order) != len(options):
        raise r.fail(("options",), "every option must belong to one decision maker")
    return order


def _options(
    r: _Reader, options: list[Any], order: list[int], extra: dict[str, Any]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Our option ids, in our order, and the options section of the conflict file."""
    taken: set[str] = set()
    names = [str(r.get(options[g], "name", str, ("options", g))) for g in order]
    saved_ids = extra.get("option_ids")
    if isinstance(saved_ids, list) and len(saved_ids) == len(order):
        ids = [str(saved_ids[g]) for g in order]
    else:
        ids = [_slug(name, taken) for name in names]
    specs = []
    for ours, g in enumerate(order):
        direction = options[g].get("permittedDirection", "both")
        if direction not in _FROM_GMCR:
            raise r.fail(("options", g, "permittedDirection"), f"unknown direction {direction!r}")
        spec: dict[str, Any] = {"id": ids[ours], "reversibility": _FROM_GMCR[direction]}
        if names[ours] != ids[ours]:
            spec["name"] = names[ours]
        specs.append(spec)
    return ids, specs


def _statements(
    r: _Reader, dm: Any, path: tuple[str | int, ...], remap: list[int], ids: list[str]
) -> list[str]:
    """A decision maker's option prioritisation, as statements over our option ids."""
    statements = []
    for s, pref in enumerate(r.get(dm, "preferences", list, path)):
        spath = (*path, "preferences", s)
        if isinstance(pref, dict) and pref.get("compound"):
            members = r.get(pref, "members", list, spath)
            exprs = [
                _pattern_expr(r.condition(c, remap, (*spath, "members", i)))
                for i, c in enumerate(members)
            ]
            expr: Expr = exprs[0] if len(exprs) == 1 else Or(tuple(exprs))
        else:
            expr = _pattern_expr(r.condition(pref, remap, spath))
        statements.append(format_statement(expr, ids))
    return statements


def read_gmcr_text(text: str, source: str, enumerate_states: Enumerator) -> ConflictFile:
    """Read a GMCR+ ``.gmcr`` save file into a :class:`ConflictFile`.

    Parameters
    ----------
    text:
        The file's JSON text.
    source:
        The file name, for error messages.
    enumerate_states:
        Computes the sorted feasible codes; needed to turn GMCR+'s ordered state
        numbers into states.

    Raises
    ------
    CaseFileErrors
        When the file is not valid JSON (see
        :func:`~backchannel.formats.documents.parse_document`).
    CaseFileError
        When the file is not in the GMCR+ format.
    """
    data, _ = parse_document(text, source, json_syntax=True)
    if not isinstance(data, dict):
        raise CaseFileError(source, (), "a .gmcr file must hold a JSON object")
    r = _Reader(data, source)
    options = r.get(data, "options", list, ())
    dms = r.get(data, "decisionMakers", list, ())
    extra: dict[str, Any] = data["backchannel"] if isinstance(data.get("backchannel"), dict) else {}
    order = _option_order(r, options, dms)
    remap = [0] * len(options)
    for ours, g in enumerate(order):
        remap[g] = ours
    ids, option_specs = _options(r, options, order, extra)
    dm_ids = extra.get("dm_ids")
    if not (isinstance(dm_ids, list) and len(dm_ids) == len(dms)):
        dm_ids = [str(r.get(dm, "name", str, ("decisionMakers", k))) for k, dm in enumerate(dms)]
    infeasible_patterns = [
        r.condition(cond, remap, ("infeasibles", i))
        for i, cond in enumerate(r.get(data, "infeasibles", list, ()))
    ]
    manual = bool(data.get("useManualPreferenceRanking", data.get("useManualPreferenceVectors")))
    cubes = [_cube(p) for p in infeasible_patterns]
    feasible: Sequence[int] = enumerate_states(len(order), cubes) if manual else ()
    preferences: dict[str, Any] = {}
    misperceived: dict[str, list[str]] = {}
    for k, dm in enumerate(dms):
        path: tuple[str | int, ...] = ("decisionMakers", k)
        if manual:
            key = "preferenceRanking" if "preferenceRanking" in dm else "preferenceVector"
            ranking = _ranking(r, r.get(dm, key, list, path), feasible, len(order), (*path, key))
            preferences[dm_ids[k]] = {"ranking": ranking}
        else:
            preferences[dm_ids[k]] = {"statements": _statements(r, dm, path, remap, ids)}
        unranked = (extra.get("unranked") or {}).get(dm_ids[k])
        if unranked:
            preferences[dm_ids[k]]["unranked"] = unranked
        mis = dm.get("misperceptions") or []
        if mis:
            misperceived[dm_ids[k]] = [
                r.condition(c, remap, (*path, "misperceptions", i)) for i, c in enumerate(mis)
            ]
    coalitions = [
        [dm_ids[k] for k in group]
        for group in data.get("coalitions") or []
        if isinstance(group, list) and len(group) > 1
    ]
    document: dict[str, Any] = {
        "title": extra.get("title") or PurePath(source).stem,
        "decision_makers": [
            {"id": dm_ids[k], "options": [ids[remap[g]] for g in dm["options"]]}
            for k, dm in enumerate(dms)
        ],
        "options": option_specs,
        "infeasible": [
            {ids[j]: char == "Y" for j, char in enumerate(p) if char != "-"}
            for p in infeasible_patterns
        ],
        "preferences": preferences,
    }
    for key, value in (
        *((key, extra.get(key)) for key in ("description", "status_quo", "state_names")),
        ("coalitions", coalitions),
        ("misperceived", misperceived),
    ):
        if value:
            document[key] = value
    return conflict_from_data(document, source)


def _cube(pattern: str) -> tuple[int, int]:
    mask = sum(1 << j for j, char in enumerate(pattern) if char != "-")
    value = sum(1 << j for j, char in enumerate(pattern) if char == "Y")
    return mask, value


def _ranking(
    r: _Reader, ranking: list[Any], feasible: Sequence[int], m: int, path: tuple[str | int, ...]
) -> list[list[str]]:
    groups: list[list[str]] = []
    for g, entry in enumerate(ranking):
        numbers = entry if isinstance(entry, list) else [entry]
        group = []
        for number in numbers:
            if not isinstance(number, int) or not 1 <= number <= len(feasible):
                raise r.fail((*path, g), f"state number {number!r} is not 1..{len(feasible)}")
            code = feasible[number - 1]
            group.append("".join("Y" if code >> j & 1 else "N" for j in range(m)))
        groups.append(group)
    return groups


def _dnf(expr: Expr, m: int) -> list[str]:
    """Minimal-ish disjunction of conjunctions (as Y/N/- patterns) equal to ``expr``."""
    used = sorted(expression_options(expr))
    if len(used) > _MAX_DNF_OPTIONS:
        raise ValueError(f"a statement over {len(used)} options is too large for .gmcr")
    full = (1 << len(used)) - 1
    minterms = set()
    for v in range(1 << len(used)):
        code = sum(1 << used[b] for b in range(len(used)) if v >> b & 1)
        if holds(expr, code):
            minterms.add(v)
    terms = {(full, v) for v in minterms}
    primes: set[tuple[int, int]] = set()
    while terms:
        merged: set[tuple[int, int]] = set()
        combined: set[tuple[int, int]] = set()
        for first in terms:
            for second in terms:
                diff = first[1] ^ second[1]
                if first[0] == second[0] and diff and diff & (diff - 1) == 0:
                    merged.add((first[0] & ~diff, first[1] & ~diff))
                    combined.update((first, second))
        primes |= terms - combined
        terms = merged
    chosen: list[tuple[int, int]] = []
    left = set(minterms)
    while left:
        best = max(
            sorted(primes),
            key=lambda p: sum(1 for v in left if v & p[0] == p[1]),
        )
        chosen.append(best)
        left = {v for v in left if v & best[0] != best[1]}
    patterns = []
    for term_mask, term_value in chosen:
        chars = ["-"] * m
        for b, j in enumerate(used):
            if term_mask >> b & 1:
                chars[j] = "Y" if term_value >> b & 1 else "N"
        patterns.append("".join(chars))
    return patterns


class _Writer:
    """Our option order to GMCR+'s (options grouped per decision maker), for one model."""

    def __init__(self, model: ConflictFile) -> None:
        self.ids = model.option_order()
        self.m = len(self.ids)
        self.order = gmcr_option_order(model)
        self.position = {ours: g for g, ours in enumerate(self.order)}

    def condition(self, pattern: str) -> list[list[Any]]:
        """A Y/N/- pattern in our order as a GMCR+ condition."""
        literals = [[self.position[j], char] for j, char in enumerate(pattern) if char != "-"]
        return sorted(literals)

    def code(self, code: int) -> int:
        """A state code in GMCR+'s bit order."""
        return sum(1 << self.position[j] for j in range(self.m) if code >> j & 1)

    def regroup(self, text: str) -> str:
        """A Y/N state string in GMCR+'s option order."""
        return "".join(text[ours] for ours in self.order) if len(text) == self.m else text


def _decision_maker(
    w: _Writer, model: ConflictFile, k: int, ranking: Sequence[Sequence[int]] | None
) -> dict[str, Any]:
    dm = model.decision_makers[k]
    index = {name: j for j, name in enumerate(w.ids)}
    entry: dict[str, Any] = {
        "name": dm.name or dm.id,
        "options": [w.position[index[name]] for name in dm.options],
        "preferences": [],
    }
    for s, text in enumerate(model.preferences[dm.id].statements or []):
        try:
            patterns = _dnf(parse_statement(text, index), w.m)
        except ValueError as exc:
            raise NotExpressible(("preferences", dm.id, "statements", s), str(exc)) from None
        if len(patterns) == 1:
            entry["preferences"].append(w.condition(patterns[0]))
        else:
            members = [w.condition(p) for p in patterns]
            entry["preferences"].append({"compound": True, "members": members})
    if ranking is not None:
        feasible = sorted(w.code(code) for group in ranking for code in group)
        number = {code: i + 1 for i, code in enumerate(feasible)}
        entry["preferenceRanking"] = [
            number[w.code(g[0])] if len(g) == 1 else sorted(number[w.code(c)] for c in g)
            for g in ranking
        ]
    mis = model.misperceived.get(dm.id) or []
    if mis:
        entry["misperceptions"] = [w.condition(p) for p in mis]
    return entry


def _infeasibles(w: _Writer, model: ConflictFile) -> list[list[list[Any]]]:
    ids = w.ids
    infeasibles = [
        w.condition("".join(("Y" if rule[n] else "N") if n in rule else "-" for n in ids))
        for rule in model.infeasible
    ]
    for group in model.mutually_exclusive:
        for a in range(len(group)):
            for b in range(a + 1, len(group)):
                pair = {group[a], group[b]}
                infeasibles.append(w.condition("".join("Y" if n in pair else "-" for n in ids)))
    for group in model.at_least_one:
        group_set = set(group)
        infeasibles.append(w.condition("".join("N" if n in group_set else "-" for n in ids)))
    return infeasibles


def _extra(w: _Writer, model: ConflictFile) -> dict[str, Any]:
    """What GMCR+ cannot hold, kept under the ``backchannel`` key."""
    extra: dict[str, Any] = {
        "title": model.title,
        "option_ids": [w.ids[ours] for ours in w.order],
        "dm_ids": [dm.id for dm in model.decision_makers],
    }
    if model.description:
        extra["description"] = model.description
    if model.status_quo:
        extra["status_quo"] = w.regroup(model.status_quo)
    if model.state_names:
        extra["state_names"] = {w.regroup(k): v for k, v in model.state_names.items()}
    unranked = {
        name: [[w.regroup(a), w.regroup(b)] for a, b in spec.unranked]
        for name, spec in model.preferences.items()
        if spec.unranked
    }
    if unranked:
        extra["unranked"] = unranked
    return extra


def write_gmcr(model: ConflictFile, rankings: Sequence[Sequence[Sequence[int]]] | None) -> str:
    """Write a conflict as a GMCR+ ``.gmcr`` save file.

    Parameters
    ----------
    model:
        The conflict file model.
    rankings:
        When given, one ranking per decision maker (tie groups of state codes in our
        bit order, best first, covering every feasible state); they are written as
        ``preferenceRanking`` and used instead of the statements
        (``useManualPreferenceRanking``).

    Raises
    ------
    NotExpressible
        When a statement mentions more than 10 options (too large to expand).
    StatementSyntaxError
        When a statement cannot be read (a model that was not checked).
    """
    w = _Writer(model)
    by_id = {o.id: o for o in model.options or []}
    dms = [
        _decision_maker(w, model, k, None if rankings is None else rankings[k])
        for k in range(len(model.decision_makers))
    ]
    dm_position = {dm.id: k for k, dm in enumerate(model.decision_makers)}
    in_coalition = {name for group in model.coalitions for name in group}
    coalitions: list[Any] = [[dm_position[n] for n in group] for group in model.coalitions]
    coalitions += [k for k, dm in enumerate(model.decision_makers) if dm.id not in in_coalition]
    document = {
        "program": "backchannel",
        "version": "0.3.6",
        "options": [
            {
                "name": (by_id[w.ids[ours]].name if w.ids[ours] in by_id else None) or w.ids[ours],
                "permittedDirection": _TO_GMCR[_reversibility(model, w.ids[ours])],
            }
            for ours in w.order
        ],
        "decisionMakers": dms,
        "infeasibles": _infeasibles(w, model),
        "useManualPreferenceRanking": rankings is not None,
        "coalitions": coalitions,
        "backchannel": _extra(w, model),
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _reversibility(model: ConflictFile, option_id: str) -> str:
    for option in model.options or []:
        if option.id == option_id:
            if option.reversibility is not None:
                return option.reversibility
            return "forward_only" if option.irreversible else "both"
    return "both"
