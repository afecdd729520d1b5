"""Cross-reference checks of a conflict file, and its resolved (index) form.

:func:`check_conflict` turns the names in a :class:`ConflictFile` into indices and
bit patterns, collecting every problem as a located
:class:`~backchannel.errors.CaseFileError`. What needs the feasible states (a status
quo that is infeasible, a ranking that misses states) is checked by the compiler.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from backchannel.errors import MAX_KEPT, CaseFileError, CaseFileErrors, listing
from backchannel.messages import Text, t_
from backchannel.model.conflict.schema import ConflictFile, ReversibilityName
from backchannel.model.conflict.statements import (
    RESERVED_WORDS,
    Expr,
    StatementSyntaxError,
    parse_statement,
)

__all__ = [
    "MAX_OPTIONS",
    "MAX_STATEMENTS",
    "CheckedConflict",
    "Cube",
    "check_conflict",
    "raise_all",
]

MAX_OPTIONS = 64  # one uint64 bit per option
MAX_STATEMENTS = 62  # weights 2**(K-k) must fit in int64
_OPTION_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

Path = tuple[str | int, ...]


def raise_all(errors: list[CaseFileError], unlisted: int = 0) -> None:
    """Raise the one error, or all of them together; do nothing if there are none.

    ``unlisted`` counts the problems found beyond those kept in ``errors``.
    """
    if len(errors) == 1 and not unlisted:
        raise errors[0]
    if errors:
        raise CaseFileErrors(errors, unlisted=unlisted)


@dataclass(frozen=True)
class Cube:
    """A set of states: those whose bits under ``mask`` equal ``value``."""

    mask: int
    value: int
    path: Path  # where in the file it was written

    def matches(self, code: int) -> bool:
        """Whether the state with this code is in the set."""
        return code & self.mask == self.value


@dataclass(frozen=True)
class CheckedConflict:
    """A conflict file with every name resolved to an index or a bit pattern."""

    model: ConflictFile
    source: str
    option_ids: tuple[str, ...]
    reversibility: tuple[ReversibilityName, ...]
    dm_ids: tuple[str, ...]
    dm_options: tuple[tuple[int, ...], ...]
    infeasible: tuple[Cube, ...]
    statements: tuple[tuple[Expr, ...] | None, ...]
    rankings: tuple[tuple[tuple[int, ...], ...] | None, ...]
    unranked: tuple[tuple[tuple[int, int], ...], ...]
    status_quo: int | None
    coalitions: tuple[tuple[int, ...], ...]
    misperceived: tuple[tuple[Cube, ...], ...]
    state_names: tuple[tuple[int, str], ...]

    def error(self, path: Path, message: Text, hint: Text | None = None) -> CaseFileError:
        """A located error in this file."""
        return CaseFileError(self.source, path, message, hint=hint, line=self.model.line_of(path))

    def state_text(self, code: int) -> str:
        """The Y/N string of a state code."""
        return "".join("Y" if code >> j & 1 else "N" for j in range(len(self.option_ids)))


class _Checker:
    def __init__(self, model: ConflictFile, source: str) -> None:
        self.model = model
        self.source = source
        self.errors: list[CaseFileError] = []
        self.unlisted = 0
        self.option_ids = model.option_order()
        self.index = {name: j for j, name in enumerate(self.option_ids)}
        self.dm_index = {dm.id: k for k, dm in enumerate(model.decision_makers)}

    def fail(self, path: Path, message: Text, hint: Text | None = None) -> None:
        if len(self.errors) >= MAX_KEPT:
            self.unlisted += 1
            return
        self.errors.append(
            CaseFileError(self.source, path, message, hint=hint, line=self.model.line_of(path))
        )

    def option(self, name: str, path: Path) -> int | None:
        if name in self.index:
            return self.index[name]
        close = difflib.get_close_matches(name, self.option_ids, n=3)
        hint = t_("did you mean {names}?", names=", ".join(close)) if close else None
        self.fail(
            path, t_("unknown option {name}", name=repr(name)), hint or _known(self.option_ids)
        )
        return None

    def dm(self, name: str, path: Path) -> int | None:
        if name in self.dm_index:
            return self.dm_index[name]
        self.fail(
            path, t_("unknown decision maker {name}", name=repr(name)), _known(list(self.dm_index))
        )
        return None

    def state(self, text: str, path: Path, *, wildcard: bool = False) -> Cube | None:
        m = len(self.option_ids)
        allowed = "YN-" if wildcard else "YN"
        if len(text) != m or any(char not in allowed for char in text):
            what = t_("{n} characters", n=len(text)) if len(text) != m else t_("other characters")
            self.fail(
                path,
                t_(
                    "state {state} is not a {m}-character string of {letters} (it has {what})",
                    state=repr(text),
                    m=m,
                    letters=t_("Y, N and -") if wildcard else t_("Y and N"),
                    what=what,
                ),
                t_(
                    "one character per option, in this order: {options}",
                    options=", ".join(self.option_ids),
                ),
            )
            return None
        mask = sum(1 << j for j, char in enumerate(text) if char != "-")
        value = sum(1 << j for j, char in enumerate(text) if char == "Y")
        return Cube(mask, value, path)


def _known(names: Sequence[str]) -> Text:
    return t_("known: {names}", names=listing(names))


def _check_options(c: _Checker) -> list[ReversibilityName]:
    model = c.model
    reversibility: list[ReversibilityName] = ["both"] * len(c.option_ids)
    seen: dict[str, int] = {}
    for j, name in enumerate(c.option_ids):
        path: Path = ("options", j, "id") if model.options is not None else ("decision_makers",)
        if name in seen:
            c.fail(
                path,
                t_(
                    "option {name} is listed twice (also at options[{at}])",
                    name=repr(name),
                    at=seen[name],
                ),
            )
        seen.setdefault(name, j)
        if not _OPTION_ID.match(name) or name in RESERVED_WORDS:
            c.fail(
                path,
                t_("option id {name} cannot be used in statements", name=repr(name)),
                t_(
                    "use letters, digits and '_' (not starting with a digit; not 'if'/'iff'); "
                    "put free text in 'name'"
                ),
            )
    if len(c.option_ids) > MAX_OPTIONS:
        c.fail(
            ("options",),
            t_("{n} options; at most {most} are supported", n=len(c.option_ids), most=MAX_OPTIONS),
        )
    for j, option in enumerate(model.options or []):
        if option.irreversible is not None and option.reversibility is not None:
            implied = "forward_only" if option.irreversible else "both"
            if option.reversibility != implied:
                c.fail(
                    ("options", j, "irreversible"),
                    t_(
                        "contradictory reversibility: irreversible: {irreversible} but "
                        "reversibility: {reversibility}",
                        irreversible=option.irreversible,
                        reversibility=option.reversibility,
                    ),
                    t_("keep only 'reversibility'"),
                )
        if option.reversibility is not None:
            reversibility[j] = option.reversibility
        elif option.irreversible:
            reversibility[j] = "forward_only"
    return reversibility


def _check_dms(c: _Checker) -> list[tuple[int, ...]]:
    owner: dict[int, str] = {}
    dm_options: list[tuple[int, ...]] = []
    seen_dm: dict[str, int] = {}
    if len(c.model.decision_makers) < 2:
        c.fail(("decision_makers",), t_("a conflict needs at least two decision makers"))
    for k, dm in enumerate(c.model.decision_makers):
        if dm.id in seen_dm:
            c.fail(
                ("decision_makers", k, "id"),
                t_("decision maker {name} is listed twice", name=repr(dm.id)),
            )
        seen_dm.setdefault(dm.id, k)
        indices: list[int] = []
        for i, name in enumerate(dm.options):
            path: Path = ("decision_makers", k, "options", i)
            j = c.option(name, path)
            if j is None:
                continue
            if j in owner:
                c.fail(
                    path,
                    t_(
                        "option {name} is already controlled by {owner}",
                        name=repr(name),
                        owner=repr(owner[j]),
                    ),
                    t_("each option belongs to exactly one decision maker"),
                )
                continue
            owner[j] = dm.id
            indices.append(j)
        dm_options.append(tuple(indices))
    for j, name in enumerate(c.option_ids):
        if j not in owner and c.model.options is not None:
            c.fail(
                ("options", j),
                t_("no decision maker controls option {name}", name=repr(name)),
                t_("add it to one decision maker's options"),
            )
    return dm_options


def _check_infeasible(c: _Checker) -> list[Cube]:
    cubes: list[Cube] = []
    model = c.model
    for r, rule in enumerate(model.infeasible):
        mask = value = 0
        if not rule:
            c.fail(("infeasible", r), t_("an empty rule would remove every state"))
        for name, taken in rule.items():
            j = c.option(name, ("infeasible", r, name))
            if j is not None:
                mask |= 1 << j
                value |= int(taken) << j
        cubes.append(Cube(mask, value, ("infeasible", r)))
    for g, group in enumerate(model.mutually_exclusive):
        idx = _group(c, group, ("mutually_exclusive", g), minimum=2)
        for a in range(len(idx)):
            for b in range(a + 1, len(idx)):
                bits = 1 << idx[a] | 1 << idx[b]
                cubes.append(Cube(bits, bits, ("mutually_exclusive", g)))
    for g, group in enumerate(model.at_least_one):
        idx = _group(c, group, ("at_least_one", g), minimum=1)
        if idx:
            cubes.append(Cube(sum(1 << j for j in idx), 0, ("at_least_one", g)))
    return cubes


def _group(c: _Checker, group: list[str], path: Path, minimum: int) -> list[int]:
    if len(group) < minimum:
        c.fail(path, t_("a group needs at least {n} options", n=minimum))
    indices: list[int] = []
    for i, name in enumerate(group):
        j = c.option(name, (*path, i))
        if j is not None and j in indices:
            c.fail((*path, i), t_("option {name} appears twice in this group", name=repr(name)))
        elif j is not None:
            indices.append(j)
    return indices


def _check_preferences(
    c: _Checker,
) -> tuple[
    list[tuple[Expr, ...] | None],
    list[tuple[tuple[int, ...], ...] | None],
    list[tuple[tuple[int, int], ...]],
]:
    n = len(c.model.decision_makers)
    statements: list[tuple[Expr, ...] | None] = [None] * n
    rankings: list[tuple[tuple[int, ...], ...] | None] = [None] * n
    unranked: list[tuple[tuple[int, int], ...]] = [()] * n
    for name, spec in c.model.preferences.items():
        k = c.dm(name, ("preferences", name))
        if k is None:
            continue
        base: Path = ("preferences", name)
        if (spec.statements is None) == (spec.ranking is None):
            c.fail(base, t_("give exactly one of 'statements' or 'ranking'"))
            continue
        if spec.statements is not None:
            statements[k] = _statements(c, spec.statements, (*base, "statements"))
        if spec.ranking is not None:
            rankings[k] = _ranking(c, spec.ranking, (*base, "ranking"))
        pairs: list[tuple[int, int]] = []
        for p, (first, second) in enumerate(spec.unranked):
            a = c.state(first, (*base, "unranked", p, 0))
            b = c.state(second, (*base, "unranked", p, 1))
            if a is not None and b is not None:
                if a.value == b.value:
                    c.fail((*base, "unranked", p), t_("a state is always ranked with itself"))
                pairs.append((a.value, b.value))
        unranked[k] = tuple(pairs)
    for dm in c.model.decision_makers:
        if dm.id not in c.model.preferences:
            c.fail(
                ("preferences",),
                t_("no preferences for decision maker {name}", name=repr(dm.id)),
                t_("add 'statements' or a 'ranking' for it"),
            )
    return statements, rankings, unranked


def _statements(c: _Checker, texts: list[str], path: Path) -> tuple[Expr, ...] | None:
    if not texts:
        c.fail(path, t_("give at least one statement"))
    if len(texts) > MAX_STATEMENTS:
        c.fail(
            path,
            t_("{n} statements; at most {most} are supported", n=len(texts), most=MAX_STATEMENTS),
        )
    parsed: list[Expr] = []
    for s, text in enumerate(texts):
        try:
            parsed.append(parse_statement(text, c.index))
        except StatementSyntaxError as exc:
            c.fail(
                (*path, s),
                t_(
                    "{message} at column {column} of {text}",
                    message=exc.text,
                    column=exc.column,
                    text=repr(text),
                ),
                exc.hint_text,
            )
    return tuple(parsed) if len(parsed) == len(texts) else None


def _ranking(c: _Checker, groups: list[list[str]], path: Path) -> tuple[tuple[int, ...], ...]:
    seen: dict[int, Path] = {}
    result: list[tuple[int, ...]] = []
    for g, group in enumerate(groups):
        if not group:
            c.fail((*path, g), t_("an empty tie group"))
        codes: list[int] = []
        for i, text in enumerate(group):
            cube = c.state(text, (*path, g, i))
            if cube is None:
                continue
            if cube.value in seen:
                first = seen[cube.value]
                c.fail(
                    (*path, g, i),
                    t_(
                        "state {state} is ranked twice (first at ranking[{group}][{item}])",
                        state=repr(text),
                        group=first[-2],
                        item=first[-1],
                    ),
                    t_(
                        "list every feasible state exactly once; put equally preferred states "
                        "in one group"
                    ),
                )
                continue
            seen[cube.value] = (*path, g, i)
            codes.append(cube.value)
        result.append(tuple(codes))
    return tuple(result)


def _check_rest(c: _Checker) -> tuple[int | None, list[tuple[int, ...]], list[tuple[Cube, ...]]]:
    model = c.model
    status_quo = None
    if model.status_quo is not None:
        cube = c.state(model.status_quo, ("status_quo",))
        status_quo = None if cube is None else cube.value
    coalitions: list[tuple[int, ...]] = []
    member_of: dict[int, int] = {}
    for g, group in enumerate(model.coalitions):
        if len(group) < 2:
            c.fail(("coalitions", g), t_("a coalition needs at least two decision makers"))
        members: list[int] = []
        for i, name in enumerate(group):
            k = c.dm(name, ("coalitions", g, i))
            if k is None:
                continue
            if k in member_of:
                c.fail(
                    ("coalitions", g, i),
                    t_("{name} is already in coalitions[{at}]", name=repr(name), at=member_of[k]),
                    t_("coalitions must not overlap"),
                )
                continue
            member_of[k] = g
            members.append(k)
        coalitions.append(tuple(members))
    misperceived: list[tuple[Cube, ...]] = [()] * len(model.decision_makers)
    for name, texts in model.misperceived.items():
        k = c.dm(name, ("misperceived", name))
        cubes = [c.state(t, ("misperceived", name, i), wildcard=True) for i, t in enumerate(texts)]
        if k is not None:
            misperceived[k] = tuple(cube for cube in cubes if cube is not None)
    return status_quo, coalitions, misperceived


def check_conflict(model: ConflictFile, source: str) -> CheckedConflict:
    """Resolve every name in a conflict file, reporting all problems at once.

    Parameters
    ----------
    model:
        The validated file model.
    source:
        The file name, for error messages.

    Returns
    -------
    CheckedConflict
        Indices and bit patterns, in the conventions of
        :mod:`backchannel.conflict.compiled_conflict`.

    Raises
    ------
    CaseFileError, CaseFileErrors
        One located error per problem.
    """
    c = _Checker(model, source)
    reversibility = _check_options(c)
    dm_options = _check_dms(c)
    infeasible = _check_infeasible(c)
    statements, rankings, unranked = _check_preferences(c)
    status_quo, coalitions, misperceived = _check_rest(c)
    names: list[tuple[int, str]] = []
    for text, label in model.state_names.items():
        cube = c.state(text, ("state_names", text))
        if cube is not None:
            names.append((cube.value, label))
    raise_all(c.errors, c.unlisted)
    return CheckedConflict(
        model=model,
        source=source,
        option_ids=tuple(c.option_ids),
        reversibility=tuple(reversibility),
        dm_ids=tuple(dm.id for dm in model.decision_makers),
        dm_options=tuple(dm_options),
        infeasible=tuple(infeasible),
        statements=tuple(statements),
        rankings=tuple(rankings),
        unranked=tuple(unranked),
        status_quo=status_quo,
        coalitions=tuple(coalitions),
        misperceived=tuple(misperceived),
        state_names=tuple(names),
    )
