"""Charts as inline SVG, drawn on the server (no script, nothing fetched).

Each chart carries a ``<title>`` and a ``<desc>`` that say in words what it shows; the
pages put a table of the same numbers beside it (the text alternative). Every text in a
chart is escaped here. Colours come from classes of the style sheet, whose print rules
keep the charts legible in black and white (patterns and outlines, not colour alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from backchannel.model.changes import ConvergencePoint
from backchannel.model.findings import Findings

MOST_POINTS = 400
"""The most frontier points drawn; a larger frontier is drawn as an evenly spread subset."""


def _open(width: int, height: int, key: str, title: str, desc: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{key}-t {key}-d" class="chart">'
        f'<title id="{key}-t">{escape(title)}</title><desc id="{key}-d">{escape(desc)}</desc>'
    )


def spread(points: Sequence[Sequence[float]], most: int = MOST_POINTS) -> list[list[float]]:
    """At most ``most`` of ``points`` (sorted), evenly spread, the first and last kept."""
    ordered = sorted([list(p) for p in points])
    if len(ordered) <= most:
        return ordered
    step = (len(ordered) - 1) / (most - 1)
    return [ordered[round(k * step)] for k in range(most)]


def frontier_svg(
    points: list[list[float]],
    names: tuple[str, str],
    marked: dict[str, list[float]],
    total: int = 0,
) -> str:
    """The 2-party Pareto frontier: utilities of the first side across, the second up
    (``points`` may be a spread subset of a frontier of ``total`` points)."""
    width, height, pad = 420, 320, 48
    span_x, span_y = width - 2 * pad, height - 2 * pad

    def x(u: float) -> float:
        return pad + u * span_x

    def y(u: float) -> float:
        return height - pad - u * span_y

    shown = spread(points)
    whole = max(total, len(points))
    count = f"{whole} points" + (f", {len(shown)} drawn" if len(shown) < whole else "")
    parts = [
        _open(
            width,
            height,
            "frontier",
            "Pareto frontier",
            f"Utility of {names[0]} across, of {names[1]} up; {count}; "
            + "; ".join(f"{label} at {a:.2f}, {b:.2f}" for label, (a, b) in marked.items()),
        ),
        f'<rect x="{pad}" y="{pad}" width="{span_x}" height="{span_y}" class="frame"/>',
    ]
    for k in range(0, 11, 2):
        t = k / 10
        parts.append(f'<line x1="{x(t)}" y1="{y(0)}" x2="{x(t)}" y2="{y(0) + 4}" class="tick"/>')
        parts.append(
            f'<text x="{x(t)}" y="{y(0) + 16}" class="label" text-anchor="middle">{t:.1f}</text>'
        )
        parts.append(f'<line x1="{x(0) - 4}" y1="{y(t)}" x2="{x(0)}" y2="{y(t)}" class="tick"/>')
        parts.append(
            f'<text x="{x(0) - 8}" y="{y(t) + 4}" class="label" text-anchor="end">{t:.1f}</text>'
        )
    if len(shown) > 1:
        path = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in shown)
        parts.append(f'<polyline points="{path}" class="front"/>')
    for a, b in shown:
        parts.append(
            f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="3" class="point">'
            f"<title>{a:.3f}, {b:.3f}</title></circle>"
        )
    for label, (a, b) in marked.items():
        parts.append(f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="7" class="mark"/>')
        parts.append(
            f'<text x="{x(a) + 9:.1f}" y="{y(b) - 8:.1f}" class="mark-label">{escape(label)}</text>'
        )
    parts.append(
        f'<text x="{pad + span_x / 2}" y="{height - 8}" class="axis" text-anchor="middle">'
        f"utility of {escape(names[0])}</text>"
    )
    parts.append(
        f'<text x="14" y="{pad + span_y / 2}" class="axis" text-anchor="middle" '
        f'transform="rotate(-90 14 {pad + span_y / 2})">utility of {escape(names[1])}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def utilities_svg(utilities: dict[str, dict[str, float]], sides: list[str]) -> str:
    """Each recommended package's utility per side: one group of bars per rule."""
    bar, gap, left, width = 12, 14, 130, 460
    rows = sum(len(sides) * bar + gap for _ in utilities)
    height = rows + 40
    span = width - left - 40
    desc = "; ".join(
        f"{rule}: " + ", ".join(f"{side} {u.get(side, 0):.2f}" for side in sides)
        for rule, u in utilities.items()
    )
    parts = [_open(width, height, "utilities", "Utilities of the recommended packages", desc)]
    top = 10
    for rule, u in utilities.items():
        parts.append(
            f'<text x="{left - 8}" y="{top + len(sides) * bar / 2 + 4}" class="label" '
            f'text-anchor="end">{escape(rule)}</text>'
        )
        for k, side in enumerate(sides):
            value = u.get(side, 0.0)
            parts.append(
                f'<rect x="{left}" y="{top + k * bar}" width="{value * span:.1f}" '
                f'height="{bar - 2}" class="bar series-{k % 4}"><title>{escape(side)}: '
                f"{value:.3f}</title></rect>"
            )
            parts.append(
                f'<text x="{left + value * span + 4:.1f}" y="{top + k * bar + bar - 3}" '
                f'class="label">{value:.2f}</text>'
            )
        top += len(sides) * bar + gap
    for k, side in enumerate(sides):  # the legend
        x = left + k * 110
        parts.append(f'<rect x="{x}" y="{height - 22}" width="10" height="10" class="series-{k}"/>')
        parts.append(f'<text x="{x + 14}" y="{height - 13}" class="label">{escape(side)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _fit(text: str, room: float) -> str:
    """``text`` cut to what fits ``room`` pixels at about 6 pixels a character."""
    most = max(int(room / 6), 2)
    return text if len(text) <= most else text[: most - 1] + "…"


def redline_map_svg(findings: Findings) -> str:
    """The red-line map: one row per issue, one cell per option (open, used by an
    admissible package, or ruled out by a red line)."""
    widest = max((len(o) for o in findings.options.values()), default=2)
    left, width, row = 150, 620, 24
    cell = (width - left - 10) / max(widest, 2)
    height = row * len(findings.issues) + 36
    blocked = sum(bool(by) for ops in findings.blocked.values() for by in ops.values())
    desc = (
        f"{len(findings.issues)} issues; {blocked} options ruled out by a red line; "
        "the table below gives each option"
    )
    parts = [_open(width, height, "map", "Red-line map", desc)]
    for r, (issue_id, name) in enumerate(findings.issues.items()):
        y = 6 + r * row
        parts.append(
            f'<text x="{left - 8}" y="{y + 16}" class="label" text-anchor="end">'
            f"{escape(_fit(name, left - 12))}</text>"
        )
        for c, option in enumerate(findings.options.get(issue_id, [])):
            by = findings.blocked.get(issue_id, {}).get(option)
            kind = (
                "blocked"
                if by
                else ("viable" if option in findings.viable.get(issue_id, []) else "open")
            )
            x = left + c * cell
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{cell - 2:.1f}" height="{row - 4}" '
                f'class="{kind}-cell"><title>{escape(name)}: {escape(option)} ({kind})'
                "</title></rect>"
            )
            label = escape(_fit(option, cell - 6))
            struck = ' text-decoration="line-through"' if by else ""
            parts.append(
                f'<text x="{x + 3:.1f}" y="{y + 14}" class="cell-label"{struck}>{label}</text>'
            )
    legend = height - 12
    for k, (kind, words) in enumerate(
        (("viable", "in an admissible package"), ("open", "open"), ("blocked", "ruled out"))
    ):
        x = left + k * 170
        parts.append(f'<rect x="{x}" y="{legend - 9}" width="12" height="12" class="{kind}-cell"/>')
        parts.append(f'<text x="{x + 16}" y="{legend + 1}" class="label">{words}</text>')
    parts.append("</svg>")
    return "".join(parts)


def convergence_svg(points: Sequence[ConvergencePoint]) -> str:
    """Per evaluation: the issues with overlap (bars, out of the agenda) and the number of
    admissible packages (written above each bar)."""
    left, width, height, top = 48, 460, 220, 24
    span_y = height - top - 40
    most = max((p.issues for p in points), default=1) or 1
    slot = (width - left - 10) / max(len(points), 1)
    desc = "; ".join(
        f"round {p.round_number}: {p.overlap} of {p.issues} issues with overlap, "
        f"{'unknown' if p.admissible is None else p.admissible} admissible packages"
        for p in points
    )
    parts = [_open(width, height, "convergence", "Convergence across rounds", desc)]
    parts.append(
        f'<line x1="{left}" y1="{top + span_y}" x2="{width - 10}" y2="{top + span_y}" '
        'class="tick"/>'
    )
    for k, p in enumerate(points):
        x = left + k * slot + slot * 0.2
        h = span_y * p.overlap / most
        parts.append(
            f'<rect x="{x:.1f}" y="{top + span_y - h:.1f}" width="{slot * 0.6:.1f}" '
            f'height="{h:.1f}" class="bar series-0"><title>{p.overlap} of {p.issues}</title></rect>'
        )
        admissible = "?" if p.admissible is None else str(p.admissible)
        parts.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{top + span_y - h - 5:.1f}" class="label" '
            f'text-anchor="middle">{admissible}</text>'
        )
        parts.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{top + span_y + 14}" class="label" '
            f'text-anchor="middle">R{p.round_number}</text>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 6}" class="axis">bars: issues with overlap · '
        "numbers: admissible packages</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _marks(findings: Findings, names: tuple[str, str]) -> dict[str, list[float]]:
    """Each recommended package's point, rules at the same point named together."""
    merged: dict[str, list[float]] = {}
    for rule, u in findings.utilities.items():
        if len(u) != 2:
            continue
        point = [u[names[0]], u[names[1]]]
        key = next((k for k, p in merged.items() if p == point), None)
        if key is None:
            merged[rule] = point
        else:
            merged[f"{key}, {rule}"] = merged.pop(key)
    return merged


def _svg(text: str) -> Markup:
    return Markup(text)  # noqa: S704 — every text in a chart is escaped where it is drawn


def analysis_charts(findings: Findings) -> dict[str, Markup | str | None]:
    """The charts of the analysis page (None where there is nothing to draw), and
    ``frontier_empty``: why the frontier's place is empty, when it is."""
    at_table = [n for n in findings.sides if any(n in u for u in findings.utilities.values())]
    frontier: Markup | None = None
    empty: str | None = None
    if findings.frontier and len(at_table) == 2:
        names = (at_table[0], at_table[1])
        frontier = _svg(
            frontier_svg(findings.frontier, names, _marks(findings, names), findings.frontier_size)
        )
    elif findings.zone is False:
        empty = "no package respects every red line and walk-away level, so there is no frontier"
    elif findings.zone is None:
        empty = "the engine did not decide within its time limit whether any package is admissible"
    elif len(at_table) > 2:
        empty = (
            f"the frontier is drawn for two delegations; with {len(at_table)}, the chart "
            "below shows each recommended package's utility per delegation"
        )
    else:
        empty = "the engine found no frontier for this evaluation"
    utilities = _svg(utilities_svg(findings.utilities, at_table)) if findings.utilities else None
    return {
        "map": _svg(redline_map_svg(findings)) if findings.issues else None,
        "frontier": frontier,
        "frontier_empty": empty,
        "frontier_points": str(len(findings.frontier)),
        "utilities": utilities if len(at_table) > 2 or frontier is None else None,
    }


def convergence_chart(points: Sequence[ConvergencePoint]) -> Markup | None:
    """The convergence chart (None before the first evaluation)."""
    return _svg(convergence_svg(points)) if points else None
