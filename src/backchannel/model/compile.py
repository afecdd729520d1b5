"""Check a negotiation case's cross-references and compile it into a :class:`Problem`.

This is the negotiation engine's compiler (a GMCR conflict file has its own, in
:mod:`backchannel.conflict.compile`). Issues become option lists, utilities become
per-issue tables, red lines become clauses (one function per red-line kind, in
:mod:`backchannel.model.red_lines`). Every problem found is reported with its place in
the file (``parties[1].red_lines[3].forbid.options[0]``), what is wrong and how to fix
it; all problems of a file are collected and raised together as one
:class:`~backchannel.errors.CaseFileErrors`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from backchannel.errors import format_location, listing
from backchannel.messages import Message, t_, t_n
from backchannel.model.case import (
    Case,
    Issue,
    IssueKind,
    Number,
    Option,
    Party,
    PartyRole,
    PiecewiseLinear,
    RectangleUtilitySpec,
    RedLine,
    Reservation,
    Weighting,
)
from backchannel.model.conditions import Agenda, Collector, Locator, Where, condition
from backchannel.model.problem import (
    AdditiveUtility,
    Constraint,
    ConstraintKind,
    IssueDomain,
    Literal,
    OptionValue,
    Problem,
    RectangleTerm,
    RectangleUtility,
    Utility,
)
from backchannel.model.red_lines import compile_red_line

__all__ = [
    "MAX_AGENDA_OPTIONS",
    "MAX_NUMERIC_VALUES",
    "MAX_RED_LINE_OPTIONS",
    "MAX_TABLE_VALUES",
    "RESERVATION_PREFIX",
    "compile_case",
]

MAX_NUMERIC_VALUES = 100_000
"""The most values one numeric range may have."""

MAX_AGENDA_OPTIONS = 1_000_000
"""The most options all the issues of a case may have together."""

MAX_TABLE_VALUES = 10_000_000
"""The most ratings the utility tables may hold: delegations times options (80 MB)."""

MAX_RED_LINE_OPTIONS = 2_000_000
"""The most options the red lines may range over, each counting the options of every
issue it names: bounds the sets the red lines compile to, and the red-line map."""

RESERVATION_PREFIX = "reservation:"


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _values(count: float) -> Message:
    """A large count of values in words: ``1,200,001 values``, ``about 1e+301 values``."""
    if count < 1e15:
        return t_n("{n:,} value", "{n:,} values", math.floor(count))
    if math.isfinite(count):
        return t_("about {count} values", count=f"{count:.0e}")
    return t_("more values than 1e308")


def _numeric_values(issue: Issue, where: Where, out: Collector) -> list[float]:
    rng = issue.range
    if rng is None:
        said, hint = t_("a numeric issue needs a range"), t_("add range: {min: .., max: ..}")
        out.add((*where, "range"), said, hint)
        return []
    if rng.min > rng.max:
        out.add(
            (*where, "range"),
            t_("the range is reversed: min {min} is above max {max}", min=rng.min, max=rng.max),
            t_("swap min and max"),
        )
        return []
    steps = (rng.max - rng.min) / rng.step  # inf when the range or the step is extreme
    if not steps < MAX_NUMERIC_VALUES:
        out.add(
            (*where, "range", "step"),
            t_(
                "the range has {values}, more than {most}",
                values=_values(steps + 1),
                most=f"{MAX_NUMERIC_VALUES:,}",
            ),
            t_("use a coarser step or a narrower range"),
        )
        return []
    count = round(steps)
    if abs(steps - count) > 1e-9 * max(1.0, abs(steps)):
        out.add(
            (*where, "range", "step"),
            t_(
                "step {step} does not divide the range {min}..{max}",
                step=rng.step,
                min=rng.min,
                max=rng.max,
            ),
            t_("choose a step that reaches max exactly"),
        )
        return []
    integral = all(float(x).is_integer() for x in (rng.min, rng.step))
    values = [rng.min + k * rng.step for k in range(count + 1)]
    return [float(round(v)) if integral else float(v) for v in values]


def _compile_issue(issue: Issue, where: Where, out: Collector) -> IssueDomain | None:
    if issue.kind is IssueKind.NUMERIC:
        if issue.options is not None:
            out.add(
                (*where, "options"),
                t_("a numeric issue takes a range, not options"),
                t_("remove options or use kind: ordered"),
            )
        values = _numeric_values(issue, where, out)
        if not values:
            return None
        unit = issue.range.unit if issue.range else None
        numbers: tuple[OptionValue, ...] = tuple(int(v) if v.is_integer() else v for v in values)
        labels = tuple(_number_text(v) + (f" {unit}" if unit else "") for v in values)
        return IssueDomain(issue.name, issue.kind, labels, numbers, unit)
    if issue.range is not None:
        out.add(
            (*where, "range"),
            t_("an {kind} issue takes options, not a range", kind=issue.kind.value),
            t_("remove range or use kind: numeric"),
        )
    if not issue.options:
        out.add(
            (*where, "options"),
            t_("the issue has no options"),
            t_("list at least one option"),
        )
        return None
    names = [o.name if isinstance(o, Option) else o for o in issue.options]
    seen: set[str] = set()
    for k, name in enumerate(names):
        if name in seen:
            said = t_("option {option} is listed twice", option=repr(name))
            out.add((*where, "options", k), said, t_("remove one"))
        seen.add(name)
    return IssueDomain(issue.name, issue.kind, tuple(names), tuple(names))


def _piecewise(points: list[tuple[float, float]], xs: Sequence[float]) -> NDArray[np.float64]:
    px = [float(p[0]) for p in points]
    py = [float(p[1]) for p in points]
    return np.interp(np.asarray(xs, dtype=np.float64), px, py)


def _weights_total(
    case: Case, agenda: Agenda, party: Party, where: Where, out: Collector
) -> float | None:
    """The sum of a party's weights, after checking its weights and rated issues."""
    weights_in = party.weights or {}
    ok = True
    for name in weights_in:
        if name not in agenda.by_name:
            out.add(
                (*where, "weights", name),
                t_("unknown issue {issue}", issue=repr(name)),
                t_("the issues are: {issues}", issues=listing(agenda.by_name)),
            )
            ok = False
    for name, value in weights_in.items():
        if value < 0:
            said = t_("weight {value} is negative", value=value)
            out.add((*where, "weights", name), said, t_("use 0 or more"))
            ok = False
    total = float(sum(weights_in.values()))
    sums_to_one_or_hundred = math.isclose(total, 1.0, abs_tol=1e-6) or math.isclose(
        total, 100.0, abs_tol=1e-4
    )
    if case.weighting is Weighting.NORMALISED and ok and not sums_to_one_or_hundred:
        out.add(
            (*where, "weights"),
            t_("the weights sum to {total}, not to 1 or 100", total=f"{total:g}"),
            t_("make them sum to 1 (fractions) or 100 (percent)"),
        )
        ok = False
    for name in party.ratings or {}:
        if name not in agenda.by_name:
            out.add(
                (*where, "ratings", name),
                t_("unknown issue {issue}", issue=repr(name)),
                t_("the issues are: {issues}", issues=listing(agenda.by_name)),
            )
            ok = False
    return total if ok else None


def _points_rating(
    domain: IssueDomain, rating: PiecewiseLinear, here: Where, out: Collector
) -> NDArray[np.float64] | None:
    """Ratings of a numeric issue's values from points, interpolated (``None``: reported)."""
    if domain.kind is not IssueKind.NUMERIC:
        said, hint = t_("points only rate a numeric issue"), t_("rate each option by name")
        out.add(here, said, hint)
        return None
    xs = [float(p[0]) for p in rating.points]
    if any(b <= a for a, b in itertools.pairwise(xs)):
        said, hint = t_("point values must increase"), t_("sort the points")
        out.add((*here, "points"), said, hint)
        return None
    for k, (_, r) in enumerate(rating.points):
        if not 0 <= r <= 100:
            said = t_("rating {rating} is outside 0-100", rating=r)
            out.add((*here, "points", k, 1), said, t_("use 0-100"))
    return _piecewise(rating.points, [float(v) for v in domain.values])


def _table_rating(
    agenda: Agenda,
    i: int,
    rating: dict[str, Number],
    *,
    weighted: bool,
    here: Where,
    out: Collector,
) -> NDArray[np.float64]:
    """Ratings of an issue's options from a table by option (unrated options: 0)."""
    domain = agenda.domains[i]
    rated = np.zeros(domain.size)
    for option, r in rating.items():
        index = agenda.option_index(i, option)
        if index is None:
            said = t_("unknown option {option}", option=repr(option))
            out.add((*here, option), said, agenda.describe_options(i))
            continue
        if not 0 <= r <= 100:
            said = t_("rating {rating} is outside 0-100", rating=r)
            out.add((*here, option), said, t_("use 0 to 100"))
            continue
        rated[index] = float(r)
    rated_options = {agenda.option_index(i, o) for o in rating}
    missing = [label for k, label in enumerate(domain.labels) if k not in rated_options]
    if missing and weighted:
        out.add(
            here,
            t_n(
                "option {options} not rated",
                "options {options} not rated",
                len(missing),
                options=listing(map(repr, missing)),
            ),
            t_("rate every option of a weighted issue (0 = worst, 100 = best)"),
        )
    return rated


def _additive_utility(
    case: Case, agenda: Agenda, party: Party, where: Where, out: Collector
) -> AdditiveUtility | None:
    total = _weights_total(case, agenda, party, where, out)
    if total is None:
        return None
    weights_in = party.weights or {}
    ratings_in = party.ratings or {}
    scale = total if case.weighting is Weighting.NORMALISED else 1.0
    weights = np.zeros(len(agenda.domains))
    tables: list[NDArray[np.float64]] = []
    for i, domain in enumerate(agenda.domains):
        weight = float(weights_in.get(domain.name, 0.0)) / scale
        weights[i] = weight
        rating = ratings_in.get(domain.name)
        here = (*where, "ratings", domain.name)
        rated: NDArray[np.float64] | None
        if rating is None:
            if weight > 0:
                out.add(
                    (*where, "ratings"),
                    t_(
                        "issue {issue} has a weight but its options are not rated",
                        issue=repr(domain.name),
                    ),
                    t_("add ratings.{issue} with a rating 0-100 per option", issue=domain.name),
                )
            rated = np.zeros(domain.size)
        elif isinstance(rating, PiecewiseLinear):
            rated = _points_rating(domain, rating, here, out)
        else:
            rated = _table_rating(agenda, i, rating, weighted=weight > 0, here=here, out=out)
        if rated is not None:
            tables.append(rated if rating is None else weight * rated / 100.0)
    return AdditiveUtility(tuple(tables), weights)


def _rectangle_utility(
    agenda: Agenda, utility: RectangleUtilitySpec, where: Where, out: Collector
) -> RectangleUtility | None:
    terms = []
    for k, rect in enumerate(utility.rectangles):
        literals = []
        for j, cond in enumerate(rect.conditions):
            here = (*where, "utility", "rectangles", k, "conditions", j)
            got = condition(agenda, cond, here, out)
            if got is not None:
                literals.append(Literal(*got))
        terms.append(RectangleTerm(float(rect.value), tuple(literals)))
    return RectangleUtility(float(utility.max_value), tuple(terms))


def _reservation(party: Party) -> tuple[float, float]:
    res = party.reservation
    if res is None:
        return 0.0, 1.0
    if isinstance(res, Reservation):
        return float(res.value), float(res.firmness)
    return float(res), 1.0


def _agenda(case: Case, out: Collector) -> Agenda:
    """The compiled issues; raise every problem found in them."""
    domains: list[IssueDomain] = []
    by_name: dict[str, int] = {}
    total = 0
    for k, issue in enumerate(case.issues):
        where: Where = ("issues", k)
        if issue.name in by_name:
            said = t_("issue {issue} is defined twice", issue=repr(issue.name))
            out.add((*where, "name"), said, t_("rename one"))
            continue
        domain = _compile_issue(issue, where, out)
        if domain is not None:
            by_name[issue.name] = len(domains)
            domains.append(domain)
            total += domain.size
        if total > MAX_AGENDA_OPTIONS:
            out.add(
                where,
                t_(
                    "the issues up to this one have {total} options in all, more than {most}",
                    total=f"{total:,}",
                    most=f"{MAX_AGENDA_OPTIONS:,}",
                ),
                t_("use coarser steps on numeric issues, fewer options or fewer issues"),
            )
            break
    out.check()
    return Agenda(domains, by_name)


def compile_agenda(
    case: Case, source: str = "<case>", locate: Locator | None = None
) -> tuple[IssueDomain, ...]:
    """The compiled issues of a case alone (its parties are not looked at).

    Raises
    ------
    CaseFileErrors
        Every problem found in the issues, each located in the file.
    """
    return tuple(_agenda(case, Collector(source, locate)).domains)


def compile_absent_red_lines(case: Case, source: str = "<case>") -> tuple[Constraint, ...]:
    """The stated red lines of a case's absent stakeholders alone (the delegations are not
    looked at): what every side may know of a blind dialogue's agenda.

    Raises
    ------
    CaseFileErrors
        Every problem found in the issues or in those red lines, each located in the file.
    """
    out = Collector(source, None)
    compiled = _Parties(case, _agenda(case, out), out)
    for p, party in enumerate(case.parties):
        if party.role is PartyRole.ABSENT:
            for r, line in enumerate(party.red_lines):
                compiled.red_line(party, line, ("parties", p, "red_lines", r), None)
    out.check()
    return tuple(compiled.red_lines)


def _check_tables(case: Case, agenda: Agenda, out: Collector) -> None:
    """Refuse, before they are built, utility tables beyond :data:`MAX_TABLE_VALUES`."""
    rating = sum(1 for party in case.parties if party.role is not PartyRole.ABSENT)
    options = sum(domain.size for domain in agenda.domains)
    if rating * options > MAX_TABLE_VALUES:
        out.add(
            ("parties",),
            t_(
                "{delegations} delegations rating {options} options need {ratings} ratings, "
                "more than {most}",
                delegations=f"{rating:,}",
                options=f"{options:,}",
                ratings=f"{rating * options:,}",
                most=f"{MAX_TABLE_VALUES:,}",
            ),
            t_("use fewer options (coarser steps on numeric issues) or fewer delegations"),
        )
        out.check()


@dataclass
class _Parties:
    """The parties compiled so far: utilities, disagreement point, red lines."""

    case: Case
    agenda: Agenda
    out: Collector
    utility_parties: list[str] = field(default_factory=list)
    utilities: list[Utility] = field(default_factory=list)
    disagreement: list[float] = field(default_factory=list)
    red_lines: list[Constraint] = field(default_factory=list)
    reservations: list[Constraint] = field(default_factory=list)
    ids: dict[str, Where] = field(default_factory=dict)
    red_line_options: int = 0

    def absent(self, party: Party, where: Where) -> None:
        """Check that an absent stakeholder states no preferences."""
        for key in ("weights", "ratings", "utility", "reservation"):
            if getattr(party, key) is not None:
                self.out.add(
                    (*where, key),
                    t_("an absent stakeholder has no {key}", key=key),
                    t_("remove it, or make the party a delegation"),
                )

    def delegation(self, party: Party, where: Where) -> int | None:
        """Compile a delegation's utility and reservation; its utility index, if any."""
        out = self.out
        utility: Utility | None
        if party.utility is not None:
            if party.weights or party.ratings:
                out.add(
                    (*where, "utility"),
                    t_("give either weights and ratings or a rectangle utility, not both"),
                    t_("remove one"),
                )
            utility = _rectangle_utility(self.agenda, party.utility, where, out)
        elif party.weights is None:
            out.add(
                where,
                t_("delegation {party} has no weights", party=repr(party.name)),
                t_("add weights: {issue: weight, ...} summing to 1 or 100"),
            )
            utility = None
        else:
            utility = _additive_utility(self.case, self.agenda, party, where, out)
        value, firmness = _reservation(party)
        if self.case.weighting is Weighting.NORMALISED and not 0 <= value <= 1:
            out.add(
                (*where, "reservation"),
                t_("reservation {value} is outside the utility scale [0, 1]", value=value),
                t_("give the walk-away level as a utility between 0 and 1"),
            )
        if utility is None:
            return None
        index = len(self.utility_parties)
        self.utility_parties.append(party.name)
        self.utilities.append(utility)
        self.disagreement.append(value)
        self.reservations.append(
            Constraint(
                id=f"{RESERVATION_PREFIX}{party.name}",
                party=party.name,
                kind=ConstraintKind.RESERVATION,
                firmness=firmness,
                stated=False,
                text=f"{party.name}: reservation value {value:g}",
                utility_party=index,
                bound=value,
            )
        )
        return index

    def red_line(self, party: Party, line: RedLine, here: Where, utility_index: int | None) -> None:
        """Check a red line's id and compile it."""
        if line.id.startswith(RESERVATION_PREFIX):
            self.out.add(
                (*here, "id"),
                t_("ids starting with {prefix} are reserved", prefix=repr(RESERVATION_PREFIX)),
                t_("choose another id"),
            )
        elif line.id in self.ids:
            first = format_location(self.ids[line.id])
            self.out.add(
                (*here, "id"),
                t_("red line id {id} is used twice", id=repr(line.id)),
                t_("ids must be unique across all parties; first used at {first}", first=first),
            )
        else:
            self.ids[line.id] = here
        if self.red_line_options > MAX_RED_LINE_OPTIONS:
            return  # already reported
        constraint = compile_red_line(
            self.agenda, party, line, utility_index=utility_index, where=here, out=self.out
        )
        if constraint is None:
            return
        self.red_lines.append(constraint)
        sizes = [self.agenda.domains[lit.issue].size for c in constraint.clauses for lit in c]
        self.red_line_options += sum(sizes)
        if self.red_line_options > MAX_RED_LINE_OPTIONS:
            self.out.add(
                here,
                t_(
                    "the red lines up to this one range over {options} options, more than "
                    "{most} (each counts every option of the issues it names)",
                    options=f"{self.red_line_options:,}",
                    most=f"{MAX_RED_LINE_OPTIONS:,}",
                ),
                t_("use fewer red lines, or coarser steps on the numeric issues they bound"),
            )


def compile_case(case: Case, source: str = "<case>", locate: Locator | None = None) -> Problem:
    """Check a case and compile it into a :class:`Problem`.

    Raises
    ------
    CaseFileErrors
        Every problem found, each located in the file.
    """
    out = Collector(source, locate)
    agenda = _agenda(case, out)
    _check_tables(case, agenda, out)
    compiled = _Parties(case, agenda, out)
    names: set[str] = set()
    for p, party in enumerate(case.parties):
        where: Where = ("parties", p)
        if party.name in names:
            said = t_("party {party} is defined twice", party=repr(party.name))
            out.add((*where, "name"), said, t_("rename one"))
        names.add(party.name)
        utility_index: int | None = None
        if party.role is PartyRole.ABSENT:
            compiled.absent(party, where)
        else:
            utility_index = compiled.delegation(party, where)
        for r, line in enumerate(party.red_lines):
            compiled.red_line(party, line, (*where, "red_lines", r), utility_index)
    out.check()
    if not compiled.utility_parties:
        out.add(("parties",), "no delegation has preferences", "add at least one delegation")
        out.check()
    return Problem(
        title=case.title,
        issues=tuple(compiled.agenda.domains),
        parties=tuple(party.name for party in case.parties),
        utility_parties=tuple(compiled.utility_parties),
        utilities=tuple(compiled.utilities),
        disagreement=tuple(compiled.disagreement),
        constraints=tuple(compiled.red_lines + compiled.reservations),
        metadata=dict(case.metadata),
    )
