"""Read GeniusWeb JSON domains and ``LinearAdditiveUtilitySpace`` profiles.

Domain::

    {"name": "party", "issuesValues": {
        "Food": {"values": ["Chips", "Catering"]},
        "Guests": {"range": {"low": 10, "high": 100, "step": 10}}}}

Profile: ``{"LinearAdditiveUtilitySpace": {"name", "domain", "issueUtilities",
"issueWeights", "reservationBid"}}``. An issue utility is one of

* ``{"discreteutils": {"valueUtilities": {value: u}}}`` (Java GeniusWeb) or
  ``{"DiscreteValueSetUtilities": {"valueUtilities": {...}}}`` (Python geniusweb /
  pyson, the ANL 2022-23 domains): ``u`` as written, in [0, 1], 0 for a value not
  listed;
* ``{"numberutils": {"lowValue", "lowUtility", "highValue", "highUtility"}}`` (or
  ``NumberValueSetUtilities``): linear between the two points, 0 outside them.

The utility is ``sum_i weight_i * u_i`` with the weights as written. The reservation
is a *bid* (``reservationBid.issuevalues``); its utility is the party's reservation
value, and an issue the bid leaves out counts 0. A range whose ``high`` is not
reached by ``low + k * step`` ends at the last value below it, as in GeniusWeb.
"""

from __future__ import annotations

from typing import Any

from backchannel.errors import listing
from backchannel.formats.genius.common import (
    GeniusIssue,
    ImportedProfile,
    Reporter,
    Where,
    numeric_issue,
    parse_number,
)
from backchannel.messages import t_
from backchannel.model.case import Party, PiecewiseLinear

PROFILE_KEY = "LinearAdditiveUtilitySpace"
DISCRETE_KEYS = ("discreteutils", "DiscreteValueSetUtilities")
NUMBER_KEYS = ("numberutils", "NumberValueSetUtilities")
OTHER_PROFILES = ("SumOfGroupsUtilitySpace", "DiscountedProfile", "DefaultPartialOrdering")


def is_domain(obj: Any) -> bool:
    """Whether a JSON document is a GeniusWeb domain."""
    return isinstance(obj, dict) and "issuesValues" in obj


def profile_type(obj: Any) -> str | None:
    """The profile type key of a JSON document (``None`` if it is not a profile)."""
    if isinstance(obj, dict) and len(obj) == 1:
        key = next(iter(obj))
        if key == PROFILE_KEY or key in OTHER_PROFILES or key.endswith(("UtilitySpace", "Profile")):
            return str(key)
    return None


def read_domain(obj: Any, out: Reporter, base: Where = ()) -> tuple[GeniusIssue, ...]:
    """The issues of a GeniusWeb domain object, in file order."""
    values = obj.get("issuesValues") if isinstance(obj, dict) else None
    if not isinstance(values, dict) or not values:
        out.fail(
            (*base, "issuesValues"),
            t_("the domain has no issues"),
            t_('write "issuesValues": {"issue": {"values": [...]}}'),
        )
    issues: list[GeniusIssue] = []
    for name, spec in values.items():
        where: Where = (*base, "issuesValues", name)
        if isinstance(spec, dict) and isinstance(spec.get("values"), list):
            labels = spec["values"]
            if not labels or not all(isinstance(v, str) for v in labels):
                out.add(
                    (*where, "values"),
                    t_("values must be a non-empty list of strings"),
                    '["a", "b"]',
                )
            elif len(set(labels)) != len(labels):
                out.add(
                    (*where, "values"), t_("a value is listed twice"), t_("remove the duplicate")
                )
            else:
                issues.append(GeniusIssue(name, name, "discrete", labels=tuple(labels)))
        elif isinstance(spec, dict) and isinstance(spec.get("range"), dict):
            rng = spec["range"]
            low, high, step = (parse_number(rng.get(k)) for k in ("low", "high", "step"))
            if low is None or high is None or step is None or step <= 0:
                out.add(
                    (*where, "range"),
                    t_("a range needs numbers low, high and a positive step"),
                    '{"low": 0, "high": 10, "step": 1}',
                )
                continue
            issue = numeric_issue(
                name, name, "real", low, high, step=step, out=out, where=(*where, "range")
            )
            if issue is not None:
                issues.append(issue)
        else:
            out.add(
                where,
                t_('an issue needs either "values": [...] or "range": {...}'),
                '{"values": ["a", "b"]} or {"range": {"low": 0, "high": 10, "step": 1}}',
            )
    out.check()
    return tuple(issues)


def same_domain(a: tuple[GeniusIssue, ...], b: tuple[GeniusIssue, ...]) -> bool:
    """Whether two domains have the same issues and values (in any issue order)."""
    return {i.name: i for i in a} == {i.name: i for i in b}


def _number_utility(low_v: float, low_u: float, high_v: float, high_u: float, x: float) -> float:
    if x < low_v or x > high_v:
        return 0.0
    if high_v == low_v:
        return low_u
    return low_u + (x - low_v) * (high_u - low_u) / (high_v - low_v)


class _Issue:
    """One issue's utility, as read: a value table or a line."""

    def __init__(
        self, table: dict[str, float] | None, line: tuple[float, float, float, float] | None
    ):
        self.table = table
        self.line = line

    def value(self, issue: GeniusIssue, x: object) -> float:
        if self.table is not None:
            return self.table.get(str(x), 0.0)
        assert self.line is not None
        number = parse_number(x)
        return 0.0 if number is None else _number_utility(*self.line, number)

    def rating(self, issue: GeniusIssue) -> dict[str, float] | PiecewiseLinear:
        if self.table is not None:
            return {label: 100.0 * self.table.get(label, 0.0) for label in issue.labels}
        assert self.line is not None
        low_v, low_u, high_v, high_u = self.line
        grid = issue.grid
        points = [(x, 0.0) for x in grid if x < low_v][-1:]
        points += [(low_v, 100.0 * low_u)] + ([(high_v, 100.0 * high_u)] if high_v > low_v else [])
        points += [(x, 0.0) for x in grid if x > high_v][:1]
        return PiecewiseLinear(points=points)


def _read_issue_utility(
    spec: Any, issue: GeniusIssue, out: Reporter, where: Where
) -> _Issue | None:
    key = next(iter(spec), None) if isinstance(spec, dict) and len(spec) == 1 else None
    if key in DISCRETE_KEYS and issue.kind == "discrete":
        table = spec[key].get("valueUtilities") if isinstance(spec[key], dict) else None
        if not isinstance(table, dict):
            out.add(
                (*where, str(key)), 'missing "valueUtilities"', '{"valueUtilities": {"value": 0.5}}'
            )
            return None
        read: dict[str, float] = {}
        for value, raw in table.items():
            u = parse_number(raw)
            if value not in issue.labels:
                out.add(
                    (*where, str(key), "valueUtilities", value),
                    f"{value!r} is not a value of issue {issue.name!r}",
                    "this profile may belong to another domain",
                )
            elif u is None or not 0 <= u <= 1:
                out.add(
                    (*where, str(key), "valueUtilities", value),
                    f"utility {raw!r} is not a number in [0, 1]",
                    "use utilities between 0 and 1",
                )
            else:
                read[value] = u
        return _Issue(read, None)
    if key in NUMBER_KEYS and issue.kind != "discrete":
        body = spec[key] if isinstance(spec[key], dict) else {}
        nums = [
            parse_number(body.get(k))
            for k in ("lowValue", "lowUtility", "highValue", "highUtility")
        ]
        if any(n is None for n in nums):
            out.add(
                (*where, str(key)),
                "lowValue, lowUtility, highValue and highUtility must be numbers",
                '{"lowValue": 0, "lowUtility": 0, "highValue": 10, "highUtility": 1}',
            )
            return None
        low_v, low_u, high_v, high_u = (float(n) for n in nums if n is not None)
        if low_v > high_v or not (0 <= low_u <= 1 and 0 <= high_u <= 1):
            out.add(
                (*where, str(key)),
                "need lowValue <= highValue and utilities in [0, 1]",
                "fix the numbers",
            )
            return None
        return _Issue(None, (low_v, low_u, high_v, high_u))
    expected = DISCRETE_KEYS if issue.kind == "discrete" else NUMBER_KEYS
    out.add(
        where,
        f"issue {issue.name!r} needs one of {', '.join(expected)}",
        f'{{"{expected[0]}": {{...}}}}' + (f"; found {key!r}" if key else ""),
    )
    return None


def _issue_utilities(
    body: dict[str, Any], issues: dict[str, GeniusIssue], out: Reporter, base: Where
) -> dict[str, _Issue]:
    specs = body.get("issueUtilities")
    if not isinstance(specs, dict):
        out.fail(
            (*base, "issueUtilities"),
            'missing "issueUtilities" object',
            '{"issue": {"discreteutils": ...}}',
        )
    utilities: dict[str, _Issue] = {}
    for name, spec in specs.items():
        if name not in issues:
            out.add(
                (*base, "issueUtilities", name),
                f"unknown issue {name!r}",
                f"the issues are: {listing(issues)}",
            )
            continue
        read = _read_issue_utility(spec, issues[name], out, (*base, "issueUtilities", name))
        if read is not None:
            utilities[name] = read
    return utilities


def _weights(
    body: dict[str, Any], issues: dict[str, GeniusIssue], out: Reporter, base: Where
) -> dict[str, float]:
    weights = dict.fromkeys(issues, 0.0)
    raw_weights = body.get("issueWeights")
    if not isinstance(raw_weights, dict):
        out.fail((*base, "issueWeights"), 'missing "issueWeights" object', '{"issue": 0.5, ...}')
    for name, raw in raw_weights.items():
        w = parse_number(raw)
        if name not in issues:
            out.add(
                (*base, "issueWeights", name),
                f"unknown issue {name!r}",
                f"the issues are: {listing(issues)}",
            )
        elif w is None or w < 0:
            out.add(
                (*base, "issueWeights", name),
                f"weight {raw!r} is not a number of 0 or more",
                "fix the weight",
            )
        else:
            weights[name] = w
    return weights


def read_profile(
    obj: Any, source: str, party: str, domain: tuple[GeniusIssue, ...] | None
) -> tuple[ImportedProfile, tuple[GeniusIssue, ...]]:
    """Read a GeniusWeb profile as ``party``; also return the domain it embeds.

    ``domain`` is the folder's domain; the embedded one must match it. Without one,
    the embedded domain is used.

    Raises
    ------
    CaseFileErrors
        Another profile type, a profile for another domain, unknown issues or values,
        utilities or weights outside [0, 1], a reservation bid naming unknown values.
    """
    out = Reporter(source)
    kind = profile_type(obj)
    if kind != PROFILE_KEY:
        out.fail(
            (kind or "",),
            f"profile type {kind!r} is not supported yet",
            f"only {PROFILE_KEY} profiles can be imported",
        )
    body = obj[PROFILE_KEY]
    base: Where = (PROFILE_KEY,)
    if not isinstance(body, dict):
        out.fail(
            base,
            "the profile must be a JSON object",
            '{"issueUtilities": ..., "issueWeights": ...}',
        )
    embedded = (
        read_domain(body.get("domain"), out, (*base, "domain")) if "domain" in body else domain
    )
    if embedded is None:
        out.fail(
            (*base, "domain"),
            "the profile has no domain and the folder has no domain file",
            "add the domain JSON file to the folder",
        )
    if domain is not None and not same_domain(domain, embedded):
        out.fail(
            (*base, "domain"),
            "the profile's domain differs from the folder's domain file",
            "this profile belongs to another domain",
        )
    issues = {i.name: i for i in (domain or embedded)}
    utilities = _issue_utilities(body, issues, out, base)
    weights = _weights(body, issues, out, base)
    out.check()
    reservation, bid = _reservation(
        body, issues, utilities=utilities, weights=weights, out=out, base=base
    )
    ratings = {name: u.rating(issues[name]) for name, u in utilities.items()}
    for name, issue in issues.items():
        if name not in ratings:
            ratings[name] = (
                dict.fromkeys(issue.labels, 0.0)
                if issue.kind == "discrete"
                else PiecewiseLinear(points=[(issue.low, 0.0)])
            )
    model = Party(name=party, weights=weights, ratings=ratings, reservation=reservation)
    extra: dict[str, object] = {"reservation_bid": bid} if bid is not None else {}
    return ImportedProfile(model, None, extra), embedded


def _reservation(
    body: dict[str, Any],
    issues: dict[str, GeniusIssue],
    *,
    utilities: dict[str, _Issue],
    weights: dict[str, float],
    out: Reporter,
    base: Where,
) -> tuple[float, dict[str, Any] | None]:
    raw = body.get("reservationBid")
    if raw is None:
        return 0.0, None
    where: Where = (*base, "reservationBid", "issuevalues")
    values = raw.get("issuevalues") if isinstance(raw, dict) else None
    if not isinstance(values, dict):
        out.fail(
            where,
            'the reservation bid has no "issuevalues" object',
            '{"issuevalues": {"issue": "value"}}',
        )
    total = 0.0
    for name, value in values.items():
        issue = issues.get(name)
        if issue is None:
            out.add((*where, name), f"unknown issue {name!r}", f"the issues are: {listing(issues)}")
        elif issue.kind == "discrete" and value not in issue.labels:
            out.add(
                (*where, name),
                f"{value!r} is not a value of issue {name!r}",
                "pick one of its values",
            )
        elif issue.kind != "discrete" and parse_number(value) is None:
            out.add((*where, name), f"{value!r} is not a number", f"give a number for {name!r}")
        elif name in utilities:
            total += weights[name] * utilities[name].value(issue, value)
    out.check()
    return total, dict(values)
