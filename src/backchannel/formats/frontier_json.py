"""A frontier's points as streamed JSON text (what ``frontier --json`` prints).

:class:`PointsJson` is a :class:`~backchannel.formats.json_stream.Streamed` value: the
text ``json.dumps`` would make of the list of ``{"package": {issue: option}, "utilities":
{party: value}}`` points, made block by block from the arrays of
:class:`~backchannel.model.frontier.FrontierPoints` (docs/reference/json.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from backchannel.model.frontier import FrontierPoints
from backchannel.model.problem import Problem

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
        issues, parties, package_end, utilities_end = self._pieces(level, step, ensure_ascii)
        point_start = "\n" + step * (level + 1) + "{"
        first = 3 + len(issues)  # columns: opening, start, issues, package end, parties, end
        for start in range(0, len(self.points), BLOCK):
            rows = self.points.packages[start : start + BLOCK]
            values = self.points.utilities[start : start + BLOCK]
            text = np.empty((rows.shape[0], first + len(parties) + 1), dtype=object)
            text[:, 0] = ","
            text[0, 0] = "[" if start == 0 else ","
            text[:, 1] = point_start
            for i, table in enumerate(issues):
                text[:, 2 + i] = table[rows[:, i]]
            text[:, first - 1] = package_end
            for p, head in enumerate(parties):
                text[:, first + p] = [head + repr(u) for u in values[:, p].tolist()]
            text[:, -1] = utilities_end
            yield "".join(text.ravel().tolist())
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
