"""Compile the red lines of a case, one small function per kind of red line.

A :class:`~backchannel.model.case.RedLine` is written in exactly one form. Each form
has one small function here, registered in :data:`RED_LINE_KINDS` under the key the
file uses; :func:`compile_red_line` checks that exactly one form is given and calls its
function. Adding a red-line kind: a field on ``RedLine``, a
:class:`~backchannel.model.problem.ConstraintKind`, a function here and its entry in
the table (and its class in ``solvers/cpsat/constraints.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from backchannel.errors import listing
from backchannel.messages import t_
from backchannel.model.case import Condition, Party, RedLine, Visibility
from backchannel.model.conditions import (
    Agenda,
    Collector,
    Where,
    bound_options,
    clause,
    condition,
    describe,
)
from backchannel.model.problem import Clause, Constraint, ConstraintKind

__all__ = ["RED_LINE_KINDS", "RedLineKind", "compile_red_line"]


@dataclass(frozen=True)
class _RedLine:
    """One red line being compiled: where it is, whose it is, where problems go."""

    agenda: Agenda
    party: Party
    line: RedLine
    utility_index: int | None
    where: Where
    out: Collector

    def constraint(
        self,
        kind: ConstraintKind,
        text: str,
        *,
        clauses: tuple[Clause, ...] = (),
        utility_party: int | None = None,
        bound: float = 0.0,
    ) -> Constraint:
        """The compiled constraint, with this red line's id, party, firmness, visibility."""
        return Constraint(
            id=self.line.id,
            party=self.party.name,
            kind=kind,
            firmness=float(self.line.firmness),
            stated=self.line.visibility is Visibility.STATED,
            text=f"{self.party.name}: {text}",
            clauses=clauses,
            utility_party=utility_party,
            bound=bound,
        )


def _min_utility(red: _RedLine) -> Constraint | None:
    value = red.line.min_utility
    if value is None:
        return None
    here = (*red.where, "min_utility")
    if red.utility_index is None:
        red.out.add(
            here,
            t_("an absent stakeholder has no utility, so it cannot have a minimum utility"),
            t_("state its red lines on issues instead"),
        )
        return None
    if not 0 <= value <= 1:
        red.out.add(
            here,
            t_("{value} is outside the utility scale [0, 1]", value=value),
            t_("give a value between 0 and 1"),
        )
        return None
    return red.constraint(
        ConstraintKind.MIN_UTILITY,
        f"utility at least {value:g}",
        utility_party=red.utility_index,
        bound=float(value),
    )


def _options(red: _RedLine, form: str, cond: Condition | None) -> tuple[int, frozenset[int]] | None:
    return None if cond is None else condition(red.agenda, cond, (*red.where, form), red.out)


def _forbid(red: _RedLine) -> Constraint | None:
    got = _options(red, "forbid", red.line.forbid)
    if got is None:
        return None
    issue, forbidden = got
    allowed = frozenset(range(red.agenda.domains[issue].size)) - forbidden
    return red.constraint(
        ConstraintKind.FORBID,
        f"not {describe(red.agenda, issue, forbidden)}",
        clauses=(clause([(issue, allowed)]),),
    )


def _require(red: _RedLine) -> Constraint | None:
    got = _options(red, "require", red.line.require)
    if got is None:
        return None
    issue, allowed = got
    return red.constraint(
        ConstraintKind.REQUIRE,
        describe(red.agenda, issue, allowed),
        clauses=(clause([(issue, allowed)]),),
    )


def _bound(red: _RedLine, *, above: bool) -> Constraint | None:
    form = "at_least" if above else "at_most"
    bound = red.line.at_least if above else red.line.at_most
    if bound is None:
        return None
    issue = red.agenda.by_name.get(bound.issue)
    if issue is None:
        red.out.add(
            (*red.where, form, "issue"),
            t_("unknown issue {issue}", issue=repr(bound.issue)),
            t_("the issues are: {issues}", issues=listing(red.agenda.by_name)),
        )
        return None
    allowed = bound_options(
        red.agenda, issue, bound.value, above=above, where=(*red.where, form, "value"), out=red.out
    )
    if allowed is None:
        return None
    word = "at least" if above else "at most"
    return red.constraint(
        ConstraintKind.AT_LEAST if above else ConstraintKind.AT_MOST,
        f"{red.agenda.domains[issue].name} {word} {bound.value}",
        clauses=(clause([(issue, allowed)]),),
    )


def _at_least(red: _RedLine) -> Constraint | None:
    return _bound(red, above=True)


def _at_most(red: _RedLine) -> Constraint | None:
    return _bound(red, above=False)


def _conditions(
    red: _RedLine, key: str, conds: list[Condition]
) -> list[tuple[int, frozenset[int]]]:
    """Every condition of ``if`` or ``then``, or none when any has a problem (reported)."""
    found = [condition(red.agenda, c, (*red.where, key, k), red.out) for k, c in enumerate(conds)]
    kept = [got for got in found if got is not None]
    return kept if len(kept) == len(found) else []


def _if_then(red: _RedLine) -> Constraint | None:
    premises_in, consequences_in = red.line.if_, red.line.then
    if not premises_in or not consequences_in:
        missing = "then" if premises_in else "if"
        red.out.add(
            (*red.where, missing),
            t_(
                "a conditional red line needs both 'if' and 'then'; '{missing}' is missing",
                missing=missing,
            ),
            t_("write: if: {issue: .., options: [..]} then: {issue: .., options: [..]}"),
        )
        return None
    premises = _conditions(red, "if", premises_in)
    consequences = _conditions(red, "then", consequences_in)
    if not premises or not consequences:
        return None
    domains = red.agenda.domains
    negated = [(i, frozenset(range(domains[i].size)) - allowed) for i, allowed in premises]
    text = (
        "if "
        + " and ".join(describe(red.agenda, i, a) for i, a in premises)
        + " then "
        + " and ".join(describe(red.agenda, i, a) for i, a in consequences)
    )
    clauses = tuple(clause([*negated, c]) for c in consequences)
    return red.constraint(ConstraintKind.CONDITIONAL, text, clauses=clauses)


@dataclass(frozen=True)
class RedLineKind:
    """One form of red line: whether a red line is written in it, and its compiler."""

    given: Callable[[RedLine], bool]
    compile: Callable[[_RedLine], Constraint | None]


RED_LINE_KINDS: dict[str, RedLineKind] = {
    "forbid": RedLineKind(lambda line: line.forbid is not None, _forbid),
    "require": RedLineKind(lambda line: line.require is not None, _require),
    "at_least": RedLineKind(lambda line: line.at_least is not None, _at_least),
    "at_most": RedLineKind(lambda line: line.at_most is not None, _at_most),
    "if": RedLineKind(lambda line: (line.if_ or line.then) is not None, _if_then),
    "min_utility": RedLineKind(lambda line: line.min_utility is not None, _min_utility),
}
"""Every form of red line, by the key a case file writes it with."""


def compile_red_line(
    agenda: Agenda,
    party: Party,
    line: RedLine,
    *,
    utility_index: int | None,
    where: Where,
    out: Collector,
) -> Constraint | None:
    """Compile one red line of ``party``; ``None`` after reporting its problems to ``out``.

    Parameters
    ----------
    agenda:
        The compiled issues.
    party:
        The party whose red line it is.
    line:
        The red line as written.
    utility_index:
        The party's index among the utility parties (``None``: an absent stakeholder).
    where:
        The red line's place in the file.
    out:
        Where problems are reported.
    """
    present = [name for name, kind in RED_LINE_KINDS.items() if kind.given(line)]
    if len(present) != 1:
        out.add(
            where,
            t_("a red line needs exactly one form, this one has {forms}", forms=", ".join(present))
            if present
            else t_("a red line needs exactly one form"),
            t_("use one of forbid, require, at_least, at_most, if/then, min_utility"),
        )
        return None
    red = _RedLine(agenda, party, line, utility_index, where, out)
    return RED_LINE_KINDS[present[0]].compile(red)
