"""The charts of the pages: the SVG of :mod:`backchannel.reports.charts`, marked safe.

Every text in a chart is escaped where it is drawn (in ``reports.charts``); the pages put a
table of the same numbers beside each chart (the text alternative).
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from backchannel.messages import Message, Render, t_
from backchannel.model.changes import ConvergencePoint
from backchannel.model.disclosure import FrontierFact, frontier_sides
from backchannel.model.findings import Findings
from backchannel.reports.charts import (
    convergence_svg,
    frontier_svg,
    redline_map_svg,
    rule_name,
    utilities_svg,
)


def _marks(findings: Findings, names: tuple[str, str], render: Render) -> dict[str, list[float]]:
    """Each recommended package's point (utilities of the two sides), by its rule's name."""
    return {
        rule_name(rule, render): [u[names[0]], u[names[1]]]
        for rule, u in findings.utilities.items()
        if len(u) == 2
    }


def _svg(text: str) -> Markup:
    return Markup(text)  # noqa: S704 — every text in a chart is escaped where it is drawn


def _why_no_frontier(findings: Findings, at_table: list[str]) -> Message:
    """Why the frontier's place is empty (it is drawn for two sides with a frontier)."""
    if findings.zone is False:
        return t_("no package respects every red line and walk-away level, so there is no frontier")
    if findings.zone is None:
        return t_(
            "the engine did not decide within its time limit whether any package is admissible"
        )
    if len(at_table) > 2:
        return t_(
            "the frontier is drawn for two delegations; with {n}, the chart below shows each "
            "recommended package's utility per delegation",
            n=len(at_table),
        )
    return t_("the engine found no frontier for this evaluation")


def analysis_charts(findings: Findings, *, render: Render) -> dict[str, Markup | str | None]:
    """The charts of the analysis page in the reader's language (None where there is
    nothing to draw), and ``frontier_empty``: why the frontier's place is empty, when it is."""
    at_table = [n for n in findings.sides if any(n in u for u in findings.utilities.values())]
    frontier: Markup | None = None
    empty: str | None = None
    names = frontier_sides(findings)
    if findings.frontier and names is not None:
        marks = _marks(findings, names, render)
        frontier = _svg(
            frontier_svg(findings.frontier, names, marks, findings.frontier_size, render=render)
        )
    else:
        empty = render(_why_no_frontier(findings, at_table))
    utilities = (
        _svg(utilities_svg(findings.utilities, at_table, render=render))
        if findings.utilities
        else None
    )
    return {
        "map": _svg(redline_map_svg(findings, render=render)) if findings.issues else None,
        "frontier": frontier,
        "frontier_empty": empty,
        "frontier_points": str(len(findings.frontier)),
        "utilities": utilities if len(at_table) > 2 or frontier is None else None,
    }


def released_frontier(found: FrontierFact, *, render: Render) -> Markup:
    """A released Pareto frontier, drawn as the analysis page draws it."""
    marks = {rule_name(rule, render): point for rule, point in found.marks.items()}
    return _svg(frontier_svg(found.points, found.sides, marks, found.total, render=render))


def convergence_chart(points: Sequence[ConvergencePoint], *, render: Render) -> Markup | None:
    """The convergence chart in the reader's language (None before the first evaluation)."""
    return _svg(convergence_svg(points, render=render)) if points else None
