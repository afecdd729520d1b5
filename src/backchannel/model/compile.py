"""Check a case's cross-references and compile it into a :class:`Problem`.

Every problem found is reported with its place in the file (``parties[1].red_lines[3]
.forbid.options[0]``), what is wrong and how to fix it; all problems of a file are
collected and raised together as one :class:`~backchannel.errors.CaseFileErrors`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from backchannel.errors import CaseFileError, CaseFileErrors, format_location
from backchannel.model.case import (
    Case,
    Condition,
    Issue,
    IssueKind,
    Option,
    OptionRef,
    Party,
    PartyRole,
    PiecewiseLinear,
    RectangleUtility,
    RedLine,
    Reservation,
    Visibility,
    Weighting,
)
from backchannel.model.problem import (
    AdditiveUtility,
    Clause,
    Constraint,
    ConstraintKind,
    IssueDomain,
    Literal,
    OptionValue,
    Problem,
    RectangleTerm,
    Utility,
)
from backchannel.model.problem import RectangleUtility as CompiledRectangles

Path = tuple[str | int, ...]
Locator = Callable[[Path], int | None]

MAX_NUMERIC_VALUES = 100_000
RESERVATION_PREFIX = "reservation:"


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass
class _Collector:
    source: str
    locate: Locator | None
    errors: list[CaseFileError] = field(default_factory=list)

    def add(self, path: Path, message: str, hint: str | None = None) -> None:
        line = self.locate(path) if self.locate else None
        self.errors.append(CaseFileError(self.source, path, message, hint=hint, line=line))


def _numeric_values(issue: Issue, where: Path, out: _Collector) -> list[float]:
    rng = issue.range
    if rng is None:
        out.add((*where, "range"), "a numeric issue needs a range", "add range: {min: .., max: ..}")
        return []
    if rng.min > rng.max:
        out.add(
            (*where, "range"),
            f"the range is reversed: min {rng.min} is above max {rng.max}",
            "swap min and max",
        )
        return []
    steps = (rng.max - rng.min) / rng.step
    count = round(steps)
    if abs(steps - count) > 1e-9 * max(1.0, abs(steps)):
        out.add(
            (*where, "range", "step"),
            f"step {rng.step} does not divide the range {rng.min}..{rng.max}",
            "choose a step that reaches max exactly",
        )
        return []
    if count + 1 > MAX_NUMERIC_VALUES:
        out.add(
            (*where, "range", "step"),
            f"the range has {count + 1} values, more than {MAX_NUMERIC_VALUES}",
            "use a coarser step",
        )
        return []
    integral = all(float(x).is_integer() for x in (rng.min, rng.step))
    values = [rng.min + k * rng.step for k in range(count + 1)]
    return [float(round(v)) if integral else float(v) for v in values]


def _compile_issue(issue: Issue, where: Path, out: _Collector) -> IssueDomain | None:
    if issue.kind is IssueKind.NUMERIC:
        if issue.options is not None:
            out.add(
                (*where, "options"),
                "a numeric issue takes a range, not options",
                "remove options or use kind: ordered",
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
            f"an {issue.kind.value} issue takes options, not a range",
            "remove range or use kind: numeric",
        )
    if not issue.options:
        out.add(
            (*where, "options"),
            "the issue has no options",
            "list at least one option",
        )
        return None
    names = [o.name if isinstance(o, Option) else o for o in issue.options]
    seen: set[str] = set()
    for k, name in enumerate(names):
        if name in seen:
            out.add((*where, "options", k), f"option {name!r} is listed twice", "remove one")
        seen.add(name)
    return IssueDomain(issue.name, issue.kind, tuple(names), tuple(names))


@dataclass
class _Agenda:
    domains: list[IssueDomain]
    by_name: dict[str, int]

    def option_index(self, issue: int, ref: OptionRef) -> int | None:
        domain = self.domains[issue]
        if domain.kind is IssueKind.NUMERIC:
            if isinstance(ref, bool) or not isinstance(ref, int | float):
                try:
                    ref = float(str(ref))
                except ValueError:
                    return None
            for k, value in enumerate(domain.values):
                if math.isclose(float(value), float(ref), rel_tol=1e-12, abs_tol=1e-12):
                    return k
            return None
        try:
            return domain.labels.index(str(ref))
        except ValueError:
            return None

    def describe_options(self, issue: int) -> str:
        labels = self.domains[issue].labels
        shown = ", ".join(labels[:8]) + (", ..." if len(labels) > 8 else "")
        return f"the options of {self.domains[issue].name!r} are: {shown}"


def _bound_options(
    agenda: _Agenda, issue: int, ref: OptionRef, *, above: bool, where: Path, out: _Collector
) -> frozenset[int] | None:
    domain = agenda.domains[issue]
    if domain.kind is IssueKind.UNORDERED:
        out.add(
            where,
            f"issue {domain.name!r} is unordered, so 'at least'/'at most' mean nothing",
            "list the options instead (forbid/require), or declare the issue kind: ordered",
        )
        return None
    if domain.kind is IssueKind.NUMERIC:
        try:
            limit = float(ref)
        except (TypeError, ValueError):
            out.add(where, f"{ref!r} is not a number", f"give a number for {domain.name!r}")
            return None
        keep = [
            k
            for k, v in enumerate(domain.values)
            if (float(v) >= limit - 1e-12 if above else float(v) <= limit + 1e-12)
        ]
        return frozenset(keep)
    position = agenda.option_index(issue, ref)
    if position is None:
        out.add(where, f"unknown option {ref!r}", agenda.describe_options(issue))
        return None
    span = range(position, domain.size) if above else range(position + 1)
    return frozenset(span)


def _condition(
    agenda: _Agenda, cond: Condition, where: Path, out: _Collector
) -> tuple[int, frozenset[int]] | None:
    issue = agenda.by_name.get(cond.issue)
    if issue is None:
        out.add(
            (*where, "issue"),
            f"unknown issue {cond.issue!r}",
            f"the issues are: {', '.join(agenda.by_name)}",
        )
        return None
    given = [cond.options is not None, cond.at_least is not None or cond.at_most is not None]
    if sum(given) != 1:
        out.add(
            where,
            "a condition needs either options: [...] or a bound (at_least / at_most)",
            "give exactly one of the two",
        )
        return None
    if cond.options is not None:
        if not cond.options:
            out.add((*where, "options"), "the option list is empty", "name at least one option")
            return None
        chosen: set[int] = set()
        ok = True
        for k, ref in enumerate(cond.options):
            index = agenda.option_index(issue, ref)
            if index is None:
                out.add(
                    (*where, "options", k),
                    f"unknown option {ref!r}",
                    agenda.describe_options(issue),
                )
                ok = False
            else:
                chosen.add(index)
        return (issue, frozenset(chosen)) if ok else None
    allowed = frozenset(range(agenda.domains[issue].size))
    bounds: list[tuple[str, OptionRef | None, bool]] = [
        ("at_least", cond.at_least, True),
        ("at_most", cond.at_most, False),
    ]
    for key, limit, above in bounds:
        if limit is None:
            continue
        bound = _bound_options(agenda, issue, limit, above=above, where=(*where, key), out=out)
        if bound is None:
            return None
        allowed &= bound
    return issue, allowed


def _clause(literals: Sequence[tuple[int, frozenset[int]]]) -> Clause:
    merged: dict[int, frozenset[int]] = {}
    for issue, allowed in literals:
        merged[issue] = merged.get(issue, frozenset()) | allowed
    return tuple(Literal(i, merged[i]) for i in sorted(merged))


def _describe(agenda: _Agenda, issue: int, allowed: frozenset[int]) -> str:
    domain = agenda.domains[issue]
    names = [domain.labels[k] for k in sorted(allowed)]
    if len(names) == 1:
        return f"{domain.name} = {names[0]}"
    return f"{domain.name} in {{{', '.join(names)}}}"


def _red_line(
    agenda: _Agenda,
    party: Party,
    line: RedLine,
    *,
    utility_index: int | None,
    where: Path,
    out: _Collector,
) -> Constraint | None:
    forms = {
        "forbid": line.forbid,
        "require": line.require,
        "at_least": line.at_least,
        "at_most": line.at_most,
        "if": line.if_ or line.then,
        "min_utility": line.min_utility,
    }
    present = [name for name, value in forms.items() if value is not None]
    if len(present) != 1:
        out.add(
            where,
            "a red line needs exactly one form"
            + (f", this one has {', '.join(present)}" if present else ""),
            "use one of forbid, require, at_least, at_most, if/then, min_utility",
        )
        return None
    form = present[0]
    common = {
        "id": line.id,
        "party": party.name,
        "firmness": float(line.firmness),
        "stated": line.visibility is Visibility.STATED,
    }
    who = party.name
    if form == "min_utility":
        assert line.min_utility is not None
        if utility_index is None:
            out.add(
                (*where, "min_utility"),
                "an absent stakeholder has no utility, so it cannot have a minimum utility",
                "state its red lines on issues instead",
            )
            return None
        if not 0 <= line.min_utility <= 1:
            out.add(
                (*where, "min_utility"),
                f"{line.min_utility} is outside the utility scale [0, 1]",
                "give a value between 0 and 1",
            )
            return None
        return Constraint(
            kind=ConstraintKind.MIN_UTILITY,
            text=f"{who}: utility at least {line.min_utility:g}",
            utility_party=utility_index,
            bound=float(line.min_utility),
            **common,  # type: ignore[arg-type]
        )
    if form in ("forbid", "require"):
        cond = line.forbid if form == "forbid" else line.require
        assert cond is not None
        got = _condition(agenda, cond, (*where, form), out)
        if got is None:
            return None
        issue, allowed = got
        if form == "forbid":
            text = f"{who}: not {_describe(agenda, issue, allowed)}"
            allowed = frozenset(range(agenda.domains[issue].size)) - allowed
        else:
            text = f"{who}: {_describe(agenda, issue, allowed)}"
        kind = ConstraintKind.FORBID if form == "forbid" else ConstraintKind.REQUIRE
        return Constraint(
            kind=kind,
            text=text,
            clauses=(_clause([(issue, allowed)]),),
            **common,  # type: ignore[arg-type]
        )
    if form in ("at_least", "at_most"):
        bound = line.at_least if form == "at_least" else line.at_most
        assert bound is not None
        issue = agenda.by_name.get(bound.issue, -1)
        if issue < 0:
            out.add(
                (*where, form, "issue"),
                f"unknown issue {bound.issue!r}",
                f"the issues are: {', '.join(agenda.by_name)}",
            )
            return None
        kept = _bound_options(
            agenda,
            issue,
            bound.value,
            above=form == "at_least",
            where=(*where, form, "value"),
            out=out,
        )
        if kept is None:
            return None
        allowed = kept
        word = "at least" if form == "at_least" else "at most"
        text = f"{who}: {agenda.domains[issue].name} {word} {bound.value}"
        kind = ConstraintKind.AT_LEAST if form == "at_least" else ConstraintKind.AT_MOST
        return Constraint(
            kind=kind,
            text=text,
            clauses=(_clause([(issue, allowed)]),),
            **common,  # type: ignore[arg-type]
        )
    # if / then
    if not line.if_ or not line.then:
        missing = "then" if line.if_ else "if"
        out.add(
            (*where, missing),
            f"a conditional red line needs both 'if' and 'then'; '{missing}' is missing",
            "write: if: {issue: .., options: [..]} then: {issue: .., options: [..]}",
        )
        return None
    premises = [_condition(agenda, c, (*where, "if", k), out) for k, c in enumerate(line.if_)]
    consequences = [
        _condition(agenda, c, (*where, "then", k), out) for k, c in enumerate(line.then)
    ]
    if any(p is None for p in premises) or any(c is None for c in consequences):
        return None
    sizes = {i: agenda.domains[i].size for i in range(len(agenda.domains))}
    negated = [(i, frozenset(range(sizes[i])) - allowed) for i, allowed in premises if True]  # type: ignore[misc]
    clauses = tuple(_clause([*negated, c]) for c in consequences)  # type: ignore[list-item]
    text = (
        f"{who}: if "
        + " and ".join(_describe(agenda, i, a) for i, a in premises)  # type: ignore[misc]
        + " then "
        + " and ".join(_describe(agenda, i, a) for i, a in consequences)  # type: ignore[misc]
    )
    return Constraint(kind=ConstraintKind.CONDITIONAL, text=text, clauses=clauses, **common)  # type: ignore[arg-type]


def _piecewise(points: list[tuple[float, float]], xs: Sequence[float]) -> list[float]:
    px = [float(p[0]) for p in points]
    py = [float(p[1]) for p in points]
    return [float(np.interp(x, px, py)) for x in xs]


def _additive_utility(
    case: Case, agenda: _Agenda, party: Party, where: Path, out: _Collector
) -> AdditiveUtility | None:
    weights_in = party.weights or {}
    ratings_in = party.ratings or {}
    ok = True
    for name in weights_in:
        if name not in agenda.by_name:
            out.add(
                (*where, "weights", name),
                f"unknown issue {name!r}",
                f"the issues are: {', '.join(agenda.by_name)}",
            )
            ok = False
    for name, value in weights_in.items():
        if value < 0:
            out.add((*where, "weights", name), f"weight {value} is negative", "use 0 or more")
            ok = False
    total = float(sum(weights_in.values()))
    sums_to_one_or_hundred = math.isclose(total, 1.0, abs_tol=1e-6) or math.isclose(
        total, 100.0, abs_tol=1e-4
    )
    if case.weighting is Weighting.NORMALISED and ok and not sums_to_one_or_hundred:
        out.add(
            (*where, "weights"),
            f"the weights sum to {total:g}, not to 1 or 100",
            "make them sum to 1 (fractions) or 100 (percent)",
        )
        ok = False
    for name in ratings_in:
        if name not in agenda.by_name:
            out.add(
                (*where, "ratings", name),
                f"unknown issue {name!r}",
                f"the issues are: {', '.join(agenda.by_name)}",
            )
            ok = False
    if not ok:
        return None
    scale = total if case.weighting is Weighting.NORMALISED else 1.0
    weights = np.zeros(len(agenda.domains))
    tables: list[np.ndarray] = []
    for i, domain in enumerate(agenda.domains):
        weight = float(weights_in.get(domain.name, 0.0)) / scale
        weights[i] = weight
        rating = ratings_in.get(domain.name)
        rated = np.zeros(domain.size)
        if rating is None:
            if weight > 0:
                out.add(
                    (*where, "ratings"),
                    f"issue {domain.name!r} has a weight but its options are not rated",
                    f"add ratings.{domain.name} with a rating 0-100 per option",
                )
            tables.append(rated)
            continue
        here = (*where, "ratings", domain.name)
        if isinstance(rating, PiecewiseLinear):
            if domain.kind is not IssueKind.NUMERIC:
                out.add(here, "points only rate a numeric issue", "rate each option by name")
                continue
            xs = [float(p[0]) for p in rating.points]
            if any(b <= a for a, b in itertools.pairwise(xs)):
                out.add((*here, "points"), "point values must increase", "sort the points")
                continue
            for k, (_, r) in enumerate(rating.points):
                if not 0 <= r <= 100:
                    out.add((*here, "points", k, 1), f"rating {r} is outside 0-100", "use 0-100")
            rated = np.array(_piecewise(rating.points, [float(v) for v in domain.values]))
        else:
            for option, r in rating.items():
                index = agenda.option_index(i, option)
                if index is None:
                    out.add(
                        (*here, option), f"unknown option {option!r}", agenda.describe_options(i)
                    )
                    continue
                if not 0 <= r <= 100:
                    out.add((*here, option), f"rating {r} is outside 0-100", "use 0 to 100")
                    continue
                rated[index] = float(r)
            rated_options = {agenda.option_index(i, o) for o in rating}
            missing = [label for k, label in enumerate(domain.labels) if k not in rated_options]
            if missing and weight > 0:
                out.add(
                    here,
                    f"option{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}"
                    " not rated",
                    "rate every option of a weighted issue (0 = worst, 100 = best)",
                )
        tables.append(weight * rated / 100.0)
    return AdditiveUtility(tuple(tables), weights)


def _rectangle_utility(
    agenda: _Agenda, utility: RectangleUtility, where: Path, out: _Collector
) -> CompiledRectangles | None:
    terms = []
    for k, rect in enumerate(utility.rectangles):
        literals = []
        for j, cond in enumerate(rect.conditions):
            here = (*where, "utility", "rectangles", k, "conditions", j)
            got = _condition(agenda, cond, here, out)
            if got is not None:
                literals.append(Literal(*got))
        terms.append(RectangleTerm(float(rect.value), tuple(literals)))
    return CompiledRectangles(float(utility.max_value), tuple(terms))


def _reservation(party: Party) -> tuple[float, float]:
    res = party.reservation
    if res is None:
        return 0.0, 1.0
    if isinstance(res, Reservation):
        return float(res.value), float(res.firmness)
    return float(res), 1.0


def compile_case(case: Case, source: str = "<case>", locate: Locator | None = None) -> Problem:
    """Check a case and compile it into a :class:`Problem`.

    Raises
    ------
    CaseFileErrors
        Every problem found, each located in the file.
    """
    out = _Collector(source, locate)
    domains: list[IssueDomain] = []
    by_name: dict[str, int] = {}
    for k, issue in enumerate(case.issues):
        where: Path = ("issues", k)
        if issue.name in by_name:
            out.add((*where, "name"), f"issue {issue.name!r} is defined twice", "rename one")
            continue
        domain = _compile_issue(issue, where, out)
        if domain is not None:
            by_name[issue.name] = len(domains)
            domains.append(domain)
    if out.errors:
        raise CaseFileErrors(out.errors)
    agenda = _Agenda(domains, by_name)

    names: set[str] = set()
    ids: dict[str, Path] = {}
    utility_parties: list[str] = []
    utilities: list[Utility] = []
    disagreement: list[float] = []
    red_lines: list[Constraint] = []
    reservations: list[tuple[str, int, float, float]] = []
    for p, party in enumerate(case.parties):
        where = ("parties", p)
        if party.name in names:
            out.add((*where, "name"), f"party {party.name!r} is defined twice", "rename one")
        names.add(party.name)
        utility_index: int | None = None
        if party.role is PartyRole.ABSENT:
            for key in ("weights", "ratings", "utility", "reservation"):
                if getattr(party, key) is not None:
                    out.add(
                        (*where, key),
                        f"an absent stakeholder has no {key}",
                        "remove it, or make the party a delegation",
                    )
        else:
            utility: Utility | None
            if party.utility is not None:
                if party.weights or party.ratings:
                    out.add(
                        (*where, "utility"),
                        "give either weights and ratings or a rectangle utility, not both",
                        "remove one",
                    )
                utility = _rectangle_utility(agenda, party.utility, where, out)
            elif party.weights is None:
                out.add(
                    where,
                    f"delegation {party.name!r} has no weights",
                    "add weights: {issue: weight, ...} summing to 1 or 100",
                )
                utility = None
            else:
                utility = _additive_utility(case, agenda, party, where, out)
            value, firmness = _reservation(party)
            if case.weighting is Weighting.NORMALISED and not 0 <= value <= 1:
                out.add(
                    (*where, "reservation"),
                    f"reservation {value} is outside the utility scale [0, 1]",
                    "give the walk-away level as a utility between 0 and 1",
                )
            if utility is not None:
                utility_index = len(utility_parties)
                utility_parties.append(party.name)
                utilities.append(utility)
                disagreement.append(value)
                reservations.append((party.name, utility_index, value, firmness))
        for r, line in enumerate(party.red_lines):
            here: Path = (*where, "red_lines", r)
            if line.id.startswith(RESERVATION_PREFIX):
                out.add(
                    (*here, "id"),
                    f"ids starting with {RESERVATION_PREFIX!r} are reserved",
                    "choose another id",
                )
            elif line.id in ids:
                first = format_location(ids[line.id])
                out.add(
                    (*here, "id"),
                    f"red line id {line.id!r} is used twice",
                    f"ids must be unique across all parties; first used at {first}",
                )
            else:
                ids[line.id] = here
            constraint = _red_line(
                agenda, party, line, utility_index=utility_index, where=here, out=out
            )
            if constraint is not None:
                red_lines.append(constraint)
    if out.errors:
        raise CaseFileErrors(out.errors)
    if not utility_parties:
        out.add(("parties",), "no delegation has preferences", "add at least one delegation")
        raise CaseFileErrors(out.errors)
    reservation_constraints = [
        Constraint(
            id=f"{RESERVATION_PREFIX}{name}",
            party=name,
            kind=ConstraintKind.RESERVATION,
            firmness=firmness,
            stated=False,
            text=f"{name}: reservation value {value:g}",
            utility_party=index,
            bound=value,
        )
        for name, index, value, firmness in reservations
    ]
    return Problem(
        title=case.title,
        issues=tuple(domains),
        parties=tuple(party.name for party in case.parties),
        utility_parties=tuple(utility_parties),
        utilities=tuple(utilities),
        disagreement=tuple(disagreement),
        constraints=tuple(red_lines + reservation_constraints),
        metadata=dict(case.metadata),
    )
