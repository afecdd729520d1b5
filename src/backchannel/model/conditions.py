"""The options of an agenda and the conditions on them, as a case is compiled.

:class:`Agenda` finds options by name (or number, on a numeric issue);
:func:`condition` turns a :class:`~backchannel.model.case.Condition` into the set of
option indices it allows on one issue; :func:`clause` and :func:`describe` build and
explain the clauses of a compiled red line. Every problem found is added, located, to
a :class:`Collector`. Used by :mod:`backchannel.model.compile` (utilities) and
:mod:`backchannel.model.red_lines` (red lines).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from backchannel.errors import MAX_KEPT, CaseFileError, CaseFileErrors, listing
from backchannel.messages import Message, Text, t_
from backchannel.model.case import Condition, IssueKind, OptionRef
from backchannel.model.problem import Clause, IssueDomain, Literal

__all__ = [
    "Agenda",
    "Collector",
    "Locator",
    "Where",
    "bound_options",
    "clause",
    "condition",
    "describe",
]

Where = tuple[str | int, ...]
"""A place in a case file, as keys and list indices."""

Locator = Callable[[Where], int | None]
"""The 1-based line of a place in the file, when known."""


@dataclass
class Collector:
    """The located problems found in one case file (the first :data:`MAX_KEPT`, then a count)."""

    source: str
    locate: Locator | None
    errors: list[CaseFileError] = field(default_factory=list)
    unlisted: int = 0

    def add(self, path: Where, message: Text, hint: Text | None = None) -> None:
        """Record one problem at ``path``."""
        if len(self.errors) >= MAX_KEPT:
            self.unlisted += 1
            return
        line = self.locate(path) if self.locate else None
        self.errors.append(CaseFileError(self.source, path, message, hint=hint, line=line))

    def check(self) -> None:
        """Raise every problem recorded so far, if any.

        Raises
        ------
        CaseFileErrors
            The problems, located.
        """
        if self.errors:
            raise CaseFileErrors(self.errors, unlisted=self.unlisted)


@dataclass
class Agenda:
    """The compiled issues of a case, and their indices by name."""

    domains: list[IssueDomain]
    by_name: dict[str, int]
    _labels: dict[int, dict[str, int]] = field(default_factory=dict, repr=False)

    def option_index(self, issue: int, ref: OptionRef) -> int | None:
        """The index of an option of ``issue`` named (or numbered) ``ref``, if any.

        A lookup costs ``O(log n)`` on a numeric issue (its values increase) and ``O(1)``
        otherwise, so that rating every option of a long issue stays linear.
        """
        domain = self.domains[issue]
        if domain.kind is IssueKind.NUMERIC:
            if isinstance(ref, bool) or not isinstance(ref, int | float):
                try:
                    ref = float(str(ref))
                except ValueError:
                    return None
            at = bisect.bisect_left(domain.values, float(ref))
            for k in range(max(at - 1, 0), min(at + 1, domain.size)):
                if math.isclose(float(domain.values[k]), float(ref), rel_tol=1e-12, abs_tol=1e-12):
                    return k
            return None
        if issue not in self._labels:
            index: dict[str, int] = {}
            for k, label in enumerate(domain.labels):
                index.setdefault(label, k)
            self._labels[issue] = index
        return self._labels[issue].get(str(ref))

    def describe_options(self, issue: int) -> Message:
        """A hint listing the options of ``issue``."""
        domain = self.domains[issue]
        return t_(
            "the options of {issue} are: {options}",
            issue=repr(domain.name),
            options=listing(domain.labels),
        )


def bound_options(
    agenda: Agenda, issue: int, ref: OptionRef, *, above: bool, where: Where, out: Collector
) -> frozenset[int] | None:
    """The options of an ordered or numeric issue at least (``above``) or at most ``ref``."""
    domain = agenda.domains[issue]
    if domain.kind is IssueKind.UNORDERED:
        out.add(
            where,
            t_(
                "issue {issue} is unordered, so 'at least'/'at most' mean nothing",
                issue=repr(domain.name),
            ),
            t_("list the options instead (forbid/require), or declare the issue kind: ordered"),
        )
        return None
    if domain.kind is IssueKind.NUMERIC:
        try:
            limit = float(ref)
        except (TypeError, ValueError):
            out.add(
                where,
                t_("{value} is not a number", value=repr(ref)),
                t_("give a number for {issue}", issue=repr(domain.name)),
            )
            return None
        keep = [
            k
            for k, v in enumerate(domain.values)
            if (float(v) >= limit - 1e-12 if above else float(v) <= limit + 1e-12)
        ]
        return frozenset(keep)
    position = agenda.option_index(issue, ref)
    if position is None:
        said = t_("unknown option {option}", option=repr(ref))
        out.add(where, said, agenda.describe_options(issue))
        return None
    span = range(position, domain.size) if above else range(position + 1)
    return frozenset(span)


def _listed(
    agenda: Agenda, issue: int, options: list[OptionRef], where: Where, out: Collector
) -> frozenset[int] | None:
    if not options:
        said, hint = t_("the option list is empty"), t_("name at least one option")
        out.add((*where, "options"), said, hint)
        return None
    chosen: set[int] = set()
    ok = True
    for k, ref in enumerate(options):
        index = agenda.option_index(issue, ref)
        if index is None:
            said = t_("unknown option {option}", option=repr(ref))
            out.add((*where, "options", k), said, agenda.describe_options(issue))
            ok = False
        else:
            chosen.add(index)
    return frozenset(chosen) if ok else None


def _bounded(
    agenda: Agenda, issue: int, cond: Condition, where: Where, out: Collector
) -> frozenset[int] | None:
    allowed = frozenset(range(agenda.domains[issue].size))
    bounds: list[tuple[str, OptionRef | None, bool]] = [
        ("at_least", cond.at_least, True),
        ("at_most", cond.at_most, False),
    ]
    for key, limit, above in bounds:
        if limit is None:
            continue
        bound = bound_options(agenda, issue, limit, above=above, where=(*where, key), out=out)
        if bound is None:
            return None
        allowed &= bound
    return allowed


def condition(
    agenda: Agenda, cond: Condition, where: Where, out: Collector
) -> tuple[int, frozenset[int]] | None:
    """The issue a condition is about and the options it allows (``None``: reported)."""
    issue = agenda.by_name.get(cond.issue)
    if issue is None:
        out.add(
            (*where, "issue"),
            t_("unknown issue {issue}", issue=repr(cond.issue)),
            t_("the issues are: {issues}", issues=listing(agenda.by_name)),
        )
        return None
    given = [cond.options is not None, cond.at_least is not None or cond.at_most is not None]
    if sum(given) != 1:
        out.add(
            where,
            t_("a condition needs either options: [...] or a bound (at_least / at_most)"),
            t_("give exactly one of the two"),
        )
        return None
    if cond.options is not None:
        allowed = _listed(agenda, issue, cond.options, where, out)
    else:
        allowed = _bounded(agenda, issue, cond, where, out)
    return None if allowed is None else (issue, allowed)


def clause(literals: Sequence[tuple[int, frozenset[int]]]) -> Clause:
    """A disjunction of literals, the options of one issue merged into one literal."""
    merged: dict[int, frozenset[int]] = {}
    for issue, allowed in literals:
        merged[issue] = merged.get(issue, frozenset()) | allowed
    return tuple(Literal(i, merged[i]) for i in sorted(merged))


def describe(agenda: Agenda, issue: int, allowed: frozenset[int]) -> str:
    """``issue = option`` or ``issue in {options}``, for the text of a red line."""
    domain = agenda.domains[issue]
    names = [domain.labels[k] for k in sorted(allowed)]
    if len(names) == 1:
        return f"{domain.name} = {names[0]}"
    return f"{domain.name} in {{{listing(names)}}}"
