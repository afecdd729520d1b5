"""Write a case as a Genius XML domain folder.

The case is compiled first, so the files reproduce its utilities exactly (up to float
rounding) whatever its weighting: for each delegation and issue, with ``t_k`` the
compiled contribution of option ``k`` (weight x rating / 100) and ``m`` its largest
value, the profile writes weight ``m`` and evaluations ``t_k / m``; Genius divides
each evaluation by the issue's largest one (1) and multiplies by the weight, giving
``t_k`` back.

* Unordered and ordered issues become ``discrete`` issues (the order is not kept).
* A numeric issue of consecutive whole numbers becomes an ``integer`` issue when
  every delegation's rating of it is a clamped line ``clamp(offset + slope * (v -
  lowerbound), 0, 1)`` (what a Genius integer evaluator can say); otherwise, and for
  other numeric issues, a ``discrete`` issue whose items are the numbers.
* A rectangle utility becomes a ``type="nonlinear"`` profile; its conditions must be
  ranges of integer issues.
* Reservation values are written as ``<reservation>``; discount factors kept in
  ``metadata["discount"]`` as ``<discount_factor>``.
* Red lines and absent stakeholders cannot be expressed in Genius XML. They are left
  out, a comment in the written files says so, and a :class:`GeniusExportWarning` is
  emitted for each.
"""

from __future__ import annotations

import itertools
import re
import warnings
import xml.etree.ElementTree as ET  # building output only; reading uses defusedxml
from pathlib import Path
from typing import Any

from backchannel.errors import InputError
from backchannel.formats.files import write_files_atomically
from backchannel.formats.genius.common import clamp01
from backchannel.model.case import Case, IssueKind, PartyRole
from backchannel.model.compile import compile_case
from backchannel.model.problem import AdditiveUtility, IssueDomain, Problem, RectangleUtility

FIT_TOLERANCE = 1e-9


class GeniusExportWarning(UserWarning):
    """Something in the case that Genius XML cannot express was left out."""


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "party"


def _comment(text: str) -> ET.Element[Any]:
    return ET.Comment(" " + text.replace("--", "- -") + " ")


def _num(value: float) -> str:
    return (
        str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))
    )


def fit_clamped_line(ys: list[float]) -> tuple[float, float] | None:
    """``(offset, slope)`` with ``ys[k] == clamp(offset + slope * k, 0, 1)`` for all k, or None."""
    if all(abs(y - ys[0]) <= FIT_TOLERANCE for y in ys):
        return ys[0], 0.0
    inside = [k for k, y in enumerate(ys) if FIT_TOLERANCE < y < 1 - FIT_TOLERANCE]
    if len(inside) >= 2:
        pairs = [(inside[0], inside[-1])]
    else:
        moving = [k for k in range(len(ys) - 1) if abs(ys[k + 1] - ys[k]) > FIT_TOLERANCE]
        if len(moving) > 2:
            return None
        pairs = [(k, k + 1) for k in moving]
    for a, b in pairs:
        slope = (ys[b] - ys[a]) / (b - a)
        offset = ys[a] - slope * a
        if all(abs(clamp01(offset + slope * k) - y) <= FIT_TOLERANCE for k, y in enumerate(ys)):
            return offset, slope
    return None


def _consecutive_integers(issue: IssueDomain) -> bool:
    values = [float(v) for v in issue.values] if issue.kind is IssueKind.NUMERIC else []
    return (
        bool(values)
        and all(v.is_integer() for v in values)
        and all(b - a == 1 for a, b in itertools.pairwise(values))
    )


def _integer_issues(problem: Problem) -> dict[int, dict[int, tuple[float, float]]]:
    """Issues written as ``integer``, with each additive party's (offset, slope)."""
    chosen: dict[int, dict[int, tuple[float, float]]] = {}
    for i, issue in enumerate(problem.issues):
        if not _consecutive_integers(issue):
            continue
        fits: dict[int, tuple[float, float]] = {}
        for p, utility in enumerate(problem.utilities):
            if isinstance(utility, AdditiveUtility):
                table = [float(t) for t in utility.tables[i]]
                top = max(table)
                fit = fit_clamped_line([t / top for t in table]) if top > 0 else (0.0, 0.0)
                if fit is None:
                    break
                fits[p] = fit
        else:
            chosen[i] = fits
    return chosen


def _issue_element(issue: IssueDomain, ident: int, integer: bool, parent: ET.Element) -> ET.Element:
    kind = "integer" if integer else "discrete"
    element = ET.SubElement(
        parent, "issue", index=str(ident), name=issue.name, type=kind, etype=kind, vtype=kind
    )
    if integer:
        element.set("lowerbound", _num(float(issue.values[0])))
        element.set("upperbound", _num(float(issue.values[-1])))
    return element


def _item_value(issue: IssueDomain, k: int) -> str:
    return issue.labels[k] if issue.kind is not IssueKind.NUMERIC else _num(float(issue.values[k]))


def _issue_ids(case: Case, problem: Problem) -> list[int]:
    given = case.metadata.get("issue_ids")
    if isinstance(given, dict):
        ids = [given.get(issue.name) for issue in problem.issues]
        if all(isinstance(i, int) and i > 0 for i in ids) and len(set(ids)) == len(ids):
            return [int(i) for i in ids if i is not None]
    return list(range(1, len(problem.issues) + 1))


def _objective(parent: ET.Element, title: str) -> ET.Element:
    """The root ``<objective>`` element that domain and profile files both carry."""
    return ET.SubElement(
        parent,
        "objective",
        index="0",
        name=title,
        type="objective",
        etype="objective",
        description="",
    )


def _domain_xml(
    problem: Problem, ids: list[int], integer: set[int], notes: list[str]
) -> ET.Element:
    root = ET.Element("negotiation_template")
    for note in notes:
        root.append(_comment(note))
    space = ET.SubElement(root, "utility_space", number_of_issues=str(len(problem.issues)))
    objective = _objective(space, problem.title)
    for i, issue in enumerate(problem.issues):
        element = _issue_element(issue, ids[i], i in integer, objective)
        if i not in integer:
            for k in range(issue.size):
                ET.SubElement(element, "item", index=str(k + 1), value=_item_value(issue, k))
    return root


def _additive_xml(
    problem: Problem,
    p: int,
    *,
    utility: AdditiveUtility,
    ids: list[int],
    integer: dict[int, dict[int, tuple[float, float]]],
    objective: ET.Element,
) -> None:
    weights: list[float] = []
    for i, issue in enumerate(problem.issues):
        table = [float(t) for t in utility.tables[i]]
        top = max(table)
        weights.append(top)
        element = _issue_element(issue, ids[i], i in integer, objective)
        if i in integer:
            offset, slope = integer[i][p]
            ET.SubElement(
                element, "evaluator", ftype="linear", slope=_num(slope), offset=_num(offset)
            )
            continue
        for k in range(issue.size):
            evaluation = table[k] / top if top > 0 else 0.0
            ET.SubElement(
                element,
                "item",
                index=str(k + 1),
                value=_item_value(issue, k),
                evaluation=_num(evaluation),
            )
    for i, weight in enumerate(weights):
        ET.SubElement(objective, "weight", index=str(ids[i]), value=_num(weight))


def _rectangles_xml(
    problem: Problem,
    utility: RectangleUtility,
    *,
    ids: list[int],
    integer: set[int],
    objective: ET.Element,
    party: str,
) -> None:
    for i, issue in enumerate(problem.issues):
        _issue_element(issue, ids[i], i in integer, objective)
    holder = ET.SubElement(objective, "utility", maxutility=_num(utility.max_value))
    ufun = ET.SubElement(holder, "ufun", type="PlainUfun", weight="1", aggregation="sum")
    for term in utility.terms:
        if any(not lit.allowed for lit in term.literals):
            continue  # a box that holds no package never counts
        rect = ET.SubElement(ufun, "hyperRectangle", utility=_num(term.value))
        for lit in term.literals:
            issue = problem.issues[lit.issue]
            chosen = sorted(lit.allowed)
            if lit.issue not in integer or chosen != list(range(chosen[0], chosen[-1] + 1)):
                raise InputError(
                    f"cannot export the rectangle utility of {party!r}: its condition on "
                    f"{issue.name!r} is not a range of an integer issue",
                    hint="Genius hyper-rectangles bound integer issues only",
                )
            ET.SubElement(
                rect,
                "INCLUDES",
                index=str(ids[lit.issue]),
                min=_num(float(issue.values[chosen[0]])),
                max=_num(float(issue.values[chosen[-1]])),
            )


def _xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _lost(case: Case) -> list[str]:
    """What Genius XML cannot express, one sentence per party concerned."""
    lost: list[str] = []
    for party in case.parties:
        if party.role is PartyRole.ABSENT:
            lost.append(
                f"absent stakeholder {party.name!r} (and its red lines) "
                "cannot be expressed in Genius XML"
            )
        elif party.red_lines:
            lost.append(
                f"the {len(party.red_lines)} red line(s) of {party.name!r} cannot be expressed "
                "in Genius XML and were left out"
            )
    return lost


def _file_names(case: Case, problem: Problem) -> tuple[str, list[str]]:
    """The domain file's stem and each delegation's, checked not to clash."""
    domain = _slug(case.title) + "-domain"
    names = {domain}
    for name in problem.utility_parties:
        if _slug(name) in names:
            raise InputError(
                f"party {name!r} would be written to a file name already used: {_slug(name)}.xml",
                hint="rename the party",
            )
        names.add(_slug(name))
    return domain, [_slug(name) for name in problem.utility_parties]


def _profile_xml(
    case: Case,
    problem: Problem,
    p: int,
    *,
    ids: list[int],
    integer: dict[int, dict[int, tuple[float, float]]],
) -> ET.Element:
    name = problem.utility_parties[p]
    utility = problem.utilities[p]
    root = ET.Element("utility_space")
    if isinstance(utility, RectangleUtility):
        root.set("type", "nonlinear")
    root.append(
        _comment(f"Profile of {name!r}, exported by Backchannel from the case {case.title!r}.")
    )
    red_lines = next(party.red_lines for party in case.parties if party.name == name)
    if red_lines:
        root.append(
            _comment(
                f"{len(red_lines)} red line(s) of this party cannot be "
                "expressed in Genius XML and were left out."
            )
        )
    objective = _objective(root, problem.title)
    if isinstance(utility, AdditiveUtility):
        _additive_xml(problem, p, utility=utility, ids=ids, integer=integer, objective=objective)
    else:
        _rectangles_xml(
            problem, utility, ids=ids, integer=set(integer), objective=objective, party=name
        )
    ET.SubElement(root, "reservation", value=_num(problem.disagreement[p]))
    discounts = case.metadata.get("discount")
    discount = discounts.get(name) if isinstance(discounts, dict) else None
    if isinstance(discount, int | float) and 0 < discount < 1:
        ET.SubElement(root, "discount_factor", value=_num(float(discount)))
    return root


def export_genius(case: Case, folder: Path) -> list[Path]:
    """Write ``case`` as a Genius XML domain file and one profile per delegation.

    Every file is built before any is written; then all are written atomically
    (:func:`~backchannel.formats.files.write_files_atomically`), so an export that fails
    leaves no file behind (and no folder, when it created it).

    Parameters
    ----------
    case:
        A valid case (it is compiled first).
    folder:
        Where to write; created if missing, and it must be empty.

    Returns
    -------
    list of Path
        The domain file, then one profile per delegation (``<party>.xml``).

    Raises
    ------
    InputError
        The folder is not empty, file names clash, a rectangle utility bounds a
        non-integer issue, or a file cannot be written;
        :class:`~backchannel.errors.CaseFileErrors` for an invalid case.

    Warns
    -----
    GeniusExportWarning
        For each party whose red lines were left out, and for absent stakeholders.
    """
    problem = compile_case(case)
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(f"{folder}: not an empty folder", hint="export into a new or empty folder")
    lost = _lost(case)
    for message in lost:
        warnings.warn(message, GeniusExportWarning, stacklevel=2)
    ids = _issue_ids(case, problem)
    integer = _integer_issues(problem)
    notes = [f"Exported by Backchannel from the case {case.title!r}."]
    if lost:
        notes.append(
            "Red lines cannot be expressed in Genius XML; left out: " + "; ".join(lost) + "."
        )
    domain, profiles = _file_names(case, problem)
    files = {folder / f"{domain}.xml": _xml_bytes(_domain_xml(problem, ids, set(integer), notes))}
    for p, stem in enumerate(profiles):
        root = _profile_xml(case, problem, p, ids=ids, integer=integer)
        files[folder / f"{stem}.xml"] = _xml_bytes(root)
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"{folder}: cannot create the folder ({error.strerror})") from None
    try:
        write_files_atomically(files)
    except BaseException:
        if created:
            folder.rmdir()
        raise
    return list(files)
