"""Read Genius non-linear (hyper-rectangle) profiles, as used in ANAC 2014.

``<utility_space type="nonlinear">`` holds, inside its ``<objective>``, one
``<utility maxutility="M">`` with one ``<ufun weight="W" aggregation="sum">`` of
``<hyperRectangle utility="U" [weight="R"]>`` elements. Genius 10.4
(``NonlinearUtilitySpace``, ``InclusiveHyperRectangle``, ``ExclusiveHyperRectangle``)
computes ``u = min(1, sum of the rectangle terms / M)`` where a rectangle's term is
``U * R * W`` (``R`` and ``W`` default to 1) when:

* ``INCLUDES`` bounds: every bound ``min <= value <= max`` holds;
* ``EXCLUDES`` bounds: at least one bound fails (the package lies *outside* the box);
* no bound at all: always.

An ``EXCLUDES`` rectangle becomes two rectangles of the case model: ``+U*R*W`` with no
condition (everywhere) and ``-U*R*W`` on the box (the difference is "outside the
box"). A rectangle with both ``INCLUDES`` and ``EXCLUDES`` is refused: Genius silently
drops its ``INCLUDES`` bounds, which is almost certainly not what the author meant.
Aggregations other than ``sum`` (``min``, ``max``) and nested ``<ufun>`` are refused.
Bounds refer to integer issues (Genius reads them as integers).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from backchannel.formats.genius.common import (
    GeniusIssue,
    ImportedProfile,
    Reporter,
    Where,
    parse_number,
)
from backchannel.formats.genius.xml_domain import (
    XmlDocument,
    attr_number,
    match_issue,
    profile_objective,
    read_header,
)
from backchannel.model.case import Condition, Party, Rectangle, RectangleUtilitySpec


def _box(
    doc: XmlDocument,
    out: Reporter,
    bounds: list[ET.Element],
    where: Where,
    *,
    tag: str,
    by_id: dict[int, GeniusIssue],
) -> list[Condition] | None:
    conditions: list[Condition] = []
    ok = True
    for k, bound in enumerate(bounds):
        here: Where = (*where, tag, k)
        raw = bound.get("index")
        ident = parse_number(raw)
        issue = by_id.get(int(ident)) if ident is not None and ident.is_integer() else None
        if issue is None:
            out.add(
                here,
                f"no issue with index {raw!r} in the domain",
                "this profile may belong to another domain",
                doc.line(bound),
            )
            ok = False
            continue
        if issue.kind != "integer":
            out.add(
                here,
                f"issue {issue.name!r} is {issue.kind}; rectangle bounds need integer issues",
                "bound only integer issues",
                doc.line(bound),
            )
            ok = False
            continue
        low = attr_number(doc, out, bound, "min", here)
        high = attr_number(doc, out, bound, "max", here)
        if low is None or high is None:
            ok = False
            continue
        conditions.append(Condition(issue=issue.name, at_least=low, at_most=high))
    return conditions if ok else None


def read_nonlinear_profile(
    doc: XmlDocument, party: str, domain: tuple[GeniusIssue, ...]
) -> ImportedProfile:
    """Read a ``<utility_space type="nonlinear">`` profile as the party ``party``.

    Raises
    ------
    CaseFileErrors
        Missing ``<utility>``/``<ufun>``, a ``maxutility`` that is not positive, an
        aggregation other than sum, nested ufuns, bounds on unknown or non-integer
        issues, rectangles mixing INCLUDES and EXCLUDES.
    """
    out = doc.reporter()
    by_id = {int(i.key): i for i in domain}
    objective = profile_objective(doc, out, "<issue> and <utility>")
    base: Where = ("objective",)
    for element in objective.iter("issue"):
        match_issue(doc, out, element, (*base, f"issue[index={element.get('index', '?')}]"), by_id)
    utility = objective.find("utility")
    if utility is None:
        out.fail(
            base,
            "the non-linear profile has no <utility> element",
            '<utility maxutility="..."><ufun aggregation="sum">...</ufun></utility>',
            doc.line(objective),
        )
    where: Where = (*base, "utility")
    top = attr_number(doc, out, utility, "maxutility", where)
    if top is not None and top <= 0:
        out.add(
            (*where, "maxutility"),
            f"maxutility {top:g} is not positive",
            "give the largest total utility",
            doc.line(utility),
        )
    ufuns = utility.findall("ufun")
    if len(ufuns) != 1:
        out.fail(
            where,
            f"expected one <ufun>, found {len(ufuns)}",
            "Genius reads only the first <ufun>; put every hyperRectangle in one",
            doc.line(utility),
        )
    ufun = ufuns[0]
    where = (*where, "ufun")
    aggregation = (ufun.get("aggregation") or "sum").strip().lower()
    if aggregation != "sum":
        out.fail(
            (*where, "aggregation"),
            f"aggregation {aggregation!r} is not supported",
            'only aggregation="sum" can be imported',
            doc.line(ufun),
        )
    if ufun.find("ufun") is not None:
        out.fail(
            where,
            "nested <ufun> elements are not supported",
            "flatten them into one sum",
            doc.line(ufun),
        )
    weight = attr_number(doc, out, ufun, "weight", where, default=1.0)
    rectangles: list[Rectangle] = []
    for k, element in enumerate(ufun.findall("hyperRectangle")):
        here: Where = (*where, "hyperRectangle", k)
        value = attr_number(doc, out, element, "utility", here)
        own = attr_number(doc, out, element, "weight", here, default=1.0)
        includes, excludes = element.findall("INCLUDES"), element.findall("EXCLUDES")
        if includes and excludes:
            out.add(
                here,
                "a rectangle with both INCLUDES and EXCLUDES is ambiguous "
                "(Genius ignores its INCLUDES bounds)",
                "split it into two rectangles",
                doc.line(element),
            )
            continue
        tag = "INCLUDES" if includes else "EXCLUDES"
        box = _box(doc, out, includes or excludes, here, tag=tag, by_id=by_id)
        if value is None or own is None or weight is None or box is None:
            continue
        term = value * own * weight
        if excludes:
            rectangles.append(Rectangle(value=term, conditions=[]))
            rectangles.append(Rectangle(value=-term, conditions=box))
        else:
            rectangles.append(Rectangle(value=term, conditions=box))
    reservation, discount = read_header(doc, out)
    out.check()
    assert top is not None
    party_model = Party(
        name=party,
        utility=RectangleUtilitySpec(max_value=top, rectangles=rectangles),
        reservation=reservation,
    )
    return ImportedProfile(party_model, discount)
