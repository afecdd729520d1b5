"""The machine format of every answer (what ``--json`` prints): docs/reference/json.md.

A package is ``{issue name: option}`` with names exactly as in the input file (a
number for a numeric issue); utilities are ``{party: value}``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from backchannel.formats.frontier_json import PointsJson
from backchannel.model.frontier import spread
from backchannel.model.problem import Package, Problem
from backchannel.model.results import (
    Certificate,
    ClashesResult,
    FrontierPoint,
    FrontierResult,
    MesoResult,
    Settlement,
    SettlementRule,
    ZoneResult,
)
from backchannel.solvers.redline_map import IssueMap

FORMAT_VERSION = 1


def package_doc(problem: Problem, package: Package | None) -> dict[str, Any] | None:
    """``{issue name: option}``, or None."""
    return None if package is None else problem.package_values(package)


def utilities_doc(problem: Problem, values: tuple[float, ...]) -> dict[str, float]:
    """``{party: utility}`` for the parties with preferences."""
    return dict(zip(problem.utility_parties, values, strict=True))


def constraint_doc(problem: Problem, constraint_id: str) -> dict[str, Any]:
    """A red line (or reservation) named in an answer."""
    c = problem.constraint(constraint_id)
    return {
        "id": c.id,
        "party": c.party,
        "kind": c.kind.value,
        "text": c.text,
        "firmness": c.firmness,
        "stated": c.stated,
    }


def certificate_doc(certificate: Certificate | None) -> dict[str, Any] | None:
    """The evidence for "no package is admissible" and how the validator proved it."""
    if certificate is None:
        return None
    return {
        "clash": list(certificate.clash),
        "certified": certificate.certified,
        "proof": certificate.proof,
    }


def zone_doc(problem: Problem, zone: ZoneResult, redlines: tuple[IssueMap, ...]) -> dict[str, Any]:
    """Answer of ``check``."""
    viable = {
        issue.name: [issue.values[o] for o in options]
        for issue, options in zip(problem.issues, zone.viable, strict=True)
    }
    viable_sets = [frozenset(options) for options in zone.viable]
    redline_map = {
        problem.issues[m.issue].name: {
            "has_overlap": m.has_overlap,
            "options": [
                {
                    "option": problem.issues[m.issue].values[s.option],
                    "viable": s.option in viable_sets[m.issue],
                    "blocked_by": list(s.blocked_by),
                }
                for s in m.options
            ],
        }
        for m in redlines
    }
    return {
        "format": FORMAT_VERSION,
        "admissible": zone.exists,
        "status": zone.status.value,
        "count": zone.count,
        "packages": problem.n_packages,
        "viable": viable,
        "witness": package_doc(problem, zone.witness),
        "redline_map": redline_map,
        "certificate": certificate_doc(zone.certificate),
        "method": zone.method,
        "seconds": zone.seconds,
    }


def clashes_doc(problem: Problem, result: ClashesResult) -> dict[str, Any]:
    """Answer of ``clashes``."""
    return {
        "format": FORMAT_VERSION,
        "feasible": result.feasible,
        "clash_sets": [
            {
                "red_lines": [constraint_doc(problem, i) for i in s.constraint_ids],
                "parties": sorted({problem.constraint(i).party for i in s.constraint_ids}),
                "minimal": s.minimal,
            }
            for s in result.clash_sets
        ],
        "complete": result.complete,
        "relaxations": [
            {
                "red_lines": [constraint_doc(problem, i) for i in r.constraint_ids],
                "cost": r.cost,
                "package": package_doc(problem, r.witness),
            }
            for r in result.relaxations
        ],
        "relaxation_status": result.relaxation_status.value,
        "certificate": certificate_doc(result.certificate),
        "method": result.method,
        "seconds": result.seconds,
    }


def settlement_doc(problem: Problem, s: Settlement) -> dict[str, Any]:
    """One rule's recommended package."""
    return {
        "rule": s.rule.value,
        "status": s.status.value,
        "package": package_doc(problem, s.package),
        "utilities": utilities_doc(problem, s.utilities) if s.package is not None else None,
        "value": s.value,
        "bound": s.bound,
        "has_ties": s.has_ties,
        "ties": s.ties,
        "method": s.method,
        "seconds": s.seconds,
    }


def settlements_doc(problem: Problem, answers: dict[SettlementRule, Settlement]) -> dict[str, Any]:
    """Answer of ``settle``."""
    return {
        "format": FORMAT_VERSION,
        "disagreement": utilities_doc(problem, problem.disagreement),
        "settlements": [settlement_doc(problem, s) for s in answers.values()],
    }


def _point(problem: Problem, point: FrontierPoint) -> dict[str, Any]:
    return {
        "package": package_doc(problem, point.package),
        "utilities": utilities_doc(problem, point.utilities),
    }


def frontier_doc(
    problem: Problem, result: FrontierResult, limit: int | None = None
) -> dict[str, Any]:
    """Answer of ``frontier``; with ``limit``, at most that many points, evenly spread.

    With ``limit`` the document also gives the ``total`` number of points and the
    ``largest_gap``: the largest utility distance from any point to the nearest one
    listed (see :func:`~backchannel.model.frontier.spread`). A representative set (3 or
    more parties) gives its ``coverage`` (:class:`~backchannel.model.results.Coverage`).
    The points stream (see :class:`~backchannel.formats.frontier_json.PointsJson`).
    """
    points = result.points
    doc: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "exact": result.exact,
        "status": result.status.value,
    }
    if limit is not None:
        rows, gap = spread(points.utilities, limit)
        doc.update(total=len(points), largest_gap=gap)
        points = points.take(rows)
    if result.coverage is not None:
        doc["coverage"] = asdict(result.coverage)
    doc.update(points=PointsJson(problem, points), method=result.method, seconds=result.seconds)
    return doc


def meso_doc(problem: Problem, result: MesoResult) -> dict[str, Any]:
    """Answer of ``meso``."""
    return {
        "format": FORMAT_VERSION,
        "party": result.party,
        "target": result.target,
        "tolerance": result.tolerance,
        "spread": result.spread,
        "status": result.status.value,
        "offers": [_point(problem, p) for p in result.points],
        "method": result.method,
        "seconds": result.seconds,
    }
