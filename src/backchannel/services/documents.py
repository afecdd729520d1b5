"""The machine format of every answer (what ``--json`` prints): docs/reference/json.md.

A package is ``{issue name: option}`` with names exactly as in the input file (a
number for a numeric issue); utilities are ``{party: value}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from backchannel.model.frontier import FrontierPoints, spread
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


BLOCK = 1024
"""Frontier points joined into one piece of JSON text at a time."""


class PointsJson:
    """Frontier points as a JSON array of ``{"package", "utilities"}``, written block by block.

    A :class:`~backchannel.formats.json_stream.Streamed` value: the text of each issue's
    options is made once, and the text of a point is joined from its issues' pieces.
    """

    def __init__(self, problem: Problem, points: FrontierPoints) -> None:
        self.problem, self.points = problem, points

    def json_chunks(self, level: int, step: str, ensure_ascii: bool) -> Iterator[str]:
        """The array as ``json.dumps(..., indent=step, ensure_ascii=ensure_ascii)`` writes
        it ``level`` levels deep."""
        if not len(self.points):
            yield "[]"
            return
        pieces = self._pieces(level, step, ensure_ascii)
        issues, parties, package_end, utilities_end = pieces
        point_start = "\n" + step * (level + 1) + "{"
        opening = "["
        for start in range(0, len(self.points), BLOCK):
            rows = self.points.packages[start : start + BLOCK]
            values = self.points.utilities[start : start + BLOCK].tolist()
            columns = [table[rows[:, i]] for i, table in enumerate(issues)]
            packages = np.stack(columns, axis=1).tolist() if columns else [[] for _ in values]
            text = []
            for package, utilities in zip(packages, values, strict=True):
                scores = "".join(head + repr(u) for head, u in zip(parties, utilities, strict=True))
                text.append(
                    opening + point_start + "".join(package) + package_end + scores + utilities_end
                )
                opening = ","
            yield "".join(text)
        yield "\n" + step * level + "]"

    def _pieces(
        self, level: int, step: str, ensure_ascii: bool
    ) -> tuple[list[np.ndarray[Any, Any]], list[str], str, str]:
        """Per issue, each option's ``"issue": value`` text (the first one opening the
        package); per party, its ``"party": `` text; the text closing the package and
        opening the utilities, and the text closing the point."""
        key = "\n" + step * (level + 2)
        item = "\n" + step * (level + 3)
        issues = []
        for i, issue in enumerate(self.problem.issues):
            head = (key + '"package": {' if i == 0 else ",") + item
            head += json.dumps(issue.name, ensure_ascii=ensure_ascii) + ": "
            texts = [head + json.dumps(v, ensure_ascii=ensure_ascii) for v in issue.values]
            issues.append(np.array(texts, dtype=object))
        package_end = (key + "}" if issues else key + '"package": {}') + ","
        parties = [
            ("" if p == 0 else ",") + item + json.dumps(name, ensure_ascii=ensure_ascii) + ": "
            for p, name in enumerate(self.problem.utility_parties)
        ]
        package_end += key + '"utilities": ' + ("{" if parties else "{}")
        utilities_end = (key + "}" if parties else "") + "\n" + step * (level + 1) + "}"
        return issues, parties, package_end, utilities_end


def frontier_doc(
    problem: Problem, result: FrontierResult, limit: int | None = None
) -> dict[str, Any]:
    """Answer of ``frontier``; with ``limit``, at most that many points, evenly spread.

    With ``limit`` the document also gives the ``total`` number of points and the
    ``largest_gap``: the largest utility distance from any point to the nearest one
    listed (see :func:`~backchannel.model.frontier.spread`). The points stream (see
    :class:`PointsJson`).
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
