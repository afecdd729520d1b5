"""Read Genius XML additive profiles (``<utility_space>``).

Genius 10.4 semantics (``AdditiveUtilitySpace``, ``Evaluator*``), written out in
``docs/reference/formats.md``:

* ``u(package) = sum_i w_i * e_i(value_i)`` with the weights **as written**;
* discrete issue: ``e = evaluation / max evaluation of the issue`` (0 for a value
  without an evaluation, and 0 everywhere when the maximum is below 1e-5; when a
  value is listed twice the last evaluation wins, as in Genius' hash map);
* integer issue: ``e = clamp(offset + slope * (v - lowerbound), 0, 1)``;
* real issue: ``linear`` (``parameter0`` offset, ``parameter1`` slope, x not shifted),
  ``triangular`` (``parameter0`` lower, ``parameter1`` upper, ``parameter2`` top) or
  ``constant`` (``parameter0``), clamped to [0, 1], on the issue's grid;
* an issue without a ``<weight>`` has no evaluator in Genius and counts 0.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from backchannel.formats.genius.common import (
    GeniusIssue,
    ImportedProfile,
    Reporter,
    Where,
    clamp01,
    clamped_line_points,
    parse_number,
)
from backchannel.formats.genius.xml_domain import (
    XmlDocument,
    attr_number,
    integral,
    issue_where,
    match_issue,
    profile_objective,
    read_header,
)
from backchannel.model.case import Party, PiecewiseLinear

DISCRETE_ZERO = 1e-5
"""Genius treats a discrete issue whose largest evaluation is below this as all zero."""


def _discrete_ratings(
    doc: XmlDocument, out: Reporter, element: ET.Element, where: Where, issue: GeniusIssue
) -> dict[str, float] | None:
    raw: dict[str, float] = {}
    ok = True
    for k, item in enumerate(element.findall("item")):
        here: Where = (*where, "item", k)
        label = item.get("value")
        if label is None or label not in issue.labels:
            out.add(
                here,
                f"value {label!r} is not a value of issue {issue.name!r} in the domain"
                if label is not None
                else "the item has no 'value' attribute",
                "this profile may belong to another domain",
                doc.line(item),
            )
            ok = False
            continue
        evaluation = attr_number(doc, out, item, "evaluation", here)
        if evaluation is None:
            ok = False
        elif evaluation < 0:
            out.add(
                (*here, "evaluation"),
                f"evaluation {evaluation:g} is negative",
                "use evaluations of 0 or more",
                doc.line(item),
            )
            ok = False
        else:
            raw[label] = evaluation
    if not ok:
        return None
    top = max(raw.values(), default=0.0)
    if top < DISCRETE_ZERO:
        return dict.fromkeys(issue.labels, 0.0)
    return {label: 100.0 * raw.get(label, 0.0) / top for label in issue.labels}


def _integer_rating(
    doc: XmlDocument, out: Reporter, element: ET.Element, where: Where, issue: GeniusIssue
) -> PiecewiseLinear | None:
    line = doc.line(element)
    own = (element.get("lowerbound"), element.get("upperbound"))
    if own != (None, None) and (parse_number(own[0]), parse_number(own[1])) != (
        issue.low,
        issue.high,
    ):
        out.add(
            where,
            f"issue {issue.name!r} has bounds {own[0]}..{own[1]} here but "
            f"{issue.low:g}..{issue.high:g} in the domain",
            "this profile may belong to another domain",
            line,
        )
        return None
    evaluator = element.find("evaluator")
    if evaluator is None:
        out.add(
            where,
            f"integer issue {issue.name!r} has no <evaluator>",
            '<evaluator ftype="linear" slope="..." offset="..."/>',
            line,
        )
        return None
    here: Where = (*where, "evaluator")
    ftype = (evaluator.get("ftype") or "linear").lower()
    if ftype != "linear":
        out.add(
            (*here, "ftype"),
            f"integer evaluators are linear, not {ftype!r}",
            'use ftype="linear"',
            line,
        )
        return None
    if evaluator.get("slope") is None and evaluator.get("parameter1") is not None:
        out.add(
            here,
            "this evaluator uses the old parameter0/parameter1 form, "
            "which Genius 10.4 does not read",
            'write slope="..." offset="..." (e = offset + slope * (v - lowerbound))',
            doc.line(evaluator),
        )
        return None
    slope = attr_number(doc, out, evaluator, "slope", here)
    offset = attr_number(doc, out, evaluator, "offset", here)
    if slope is None or offset is None:
        return None
    return PiecewiseLinear(points=clamped_line_points(issue.low, issue.high, offset, slope))


def real_evaluation(ftype: str, params: dict[str, float], x: float) -> float:
    """A Genius real evaluator at ``x``, clamped to [0, 1]."""
    if ftype == "linear":
        return clamp01(params.get("parameter1", 0.0) * x + params.get("parameter0", 0.0))
    if ftype == "constant":
        return clamp01(params.get("parameter0", 0.0))
    lower, upper = params.get("parameter0", 0.0), params.get("parameter1", 0.0)
    top = params.get("parameter2", (lower + upper) / 2)
    if x < lower or x > upper:
        return 0.0
    if x <= top:
        return 1.0 if top == lower else clamp01((x - lower) / (top - lower))
    return 1.0 if upper == top else clamp01((upper - x) / (upper - top))


def _real_rating(
    doc: XmlDocument, out: Reporter, element: ET.Element, where: Where, issue: GeniusIssue
) -> PiecewiseLinear | None:
    evaluator = element.find("evaluator")
    if evaluator is None:
        out.add(
            where,
            f"real issue {issue.name!r} has no <evaluator>",
            '<evaluator ftype="linear" parameter0="offset" parameter1="slope"/>',
            doc.line(element),
        )
        return None
    ftype = (evaluator.get("ftype") or "linear").lower()
    if ftype not in ("linear", "triangular", "constant"):
        out.add(
            (*where, "evaluator", "ftype"),
            f"unknown real evaluator {ftype!r}",
            "use linear, triangular or constant",
            doc.line(evaluator),
        )
        return None
    params: dict[str, float] = {}
    for key, raw in evaluator.attrib.items():
        if key.startswith("parameter"):
            value = parse_number(raw)
            if value is None:
                out.add(
                    (*where, "evaluator", key),
                    f"{raw!r} is not a number",
                    "write a plain number",
                    doc.line(evaluator),
                )
                return None
            params[key] = value
    return PiecewiseLinear(
        points=[(x, 100.0 * real_evaluation(ftype, params, x)) for x in issue.grid]
    )


def _weights(
    doc: XmlDocument,
    out: Reporter,
    objective: ET.Element,
    base: Where,
    *,
    by_id: dict[int, GeniusIssue],
    rated: set[int],
) -> dict[str, float]:
    """Each issue's ``<weight>`` (0 for an issue without one)."""
    weights = dict.fromkeys((i.name for i in by_id.values()), 0.0)
    for k, element in enumerate(objective.iter("weight")):
        where = (*base, "weight", k)
        ident = integral(parse_number(element.get("index")))
        value = attr_number(doc, out, element, "value", where)
        if ident is None or ident not in rated:
            out.add(
                where,
                f"weight for index {element.get('index')!r}, which has no <issue> in this profile",
                "weigh only the issues the profile evaluates",
                doc.line(element),
            )
        elif value is not None and value < 0:
            out.add(
                (*where, "value"),
                f"weight {value:g} is negative",
                "use 0 or more",
                doc.line(element),
            )
        elif value is not None:
            weights[by_id[ident].name] = value
    return weights


def read_additive_profile(
    doc: XmlDocument, party: str, domain: tuple[GeniusIssue, ...]
) -> ImportedProfile:
    """Read an additive ``<utility_space>`` profile as the party ``party``.

    Raises
    ------
    CaseFileErrors
        Unknown issue indices or values (a profile for another domain), missing or
        malformed evaluations, weights or evaluators.
    """
    out = doc.reporter()
    by_id = {int(i.key): i for i in domain}
    objective = profile_objective(doc, out, "<issue> and <weight>")
    base: Where = ("objective",)
    ratings: dict[str, dict[str, float] | PiecewiseLinear] = {}
    rated: set[int] = set()
    for element in objective.iter("issue"):
        where = issue_where(element, base)
        issue = match_issue(doc, out, element, where, by_id)
        if issue is None:
            continue
        rated.add(int(issue.key))
        rating: dict[str, float] | PiecewiseLinear | None
        if issue.kind == "discrete":
            rating = _discrete_ratings(doc, out, element, where, issue)
        elif issue.kind == "integer":
            rating = _integer_rating(doc, out, element, where, issue)
        else:
            rating = _real_rating(doc, out, element, where, issue)
        if rating is not None:
            ratings[issue.name] = rating
    weights = _weights(doc, out, objective, base, by_id=by_id, rated=rated)
    reservation, discount = read_header(doc, out)
    out.check()
    for issue in domain:  # an issue the profile leaves out counts for nothing
        if issue.name not in ratings and issue.kind == "discrete":
            ratings[issue.name] = dict.fromkeys(issue.labels, 0.0)
        elif issue.name not in ratings:
            ratings[issue.name] = PiecewiseLinear(points=[(issue.low, 0.0)])
    return ImportedProfile(
        Party(name=party, weights=weights, ratings=ratings, reservation=reservation), discount
    )
