"""Charts as inline SVG, drawn on the server (no script, nothing fetched)."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from backchannel.model.findings import Findings


def frontier_svg(
    points: list[list[float]], names: tuple[str, str], marked: dict[str, list[float]]
) -> str:
    """The 2-party Pareto frontier: utilities of the first side across, the second up."""
    width, height, pad = 420, 320, 48
    span_x, span_y = width - 2 * pad, height - 2 * pad

    def x(u: float) -> float:
        return pad + u * span_x

    def y(u: float) -> float:
        return height - pad - u * span_y

    ordered = sorted(points)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="Pareto frontier" class="chart">',
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
    if len(ordered) > 1:
        path = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in ordered)
        parts.append(f'<polyline points="{path}" class="front"/>')
    for a, b in ordered:
        parts.append(
            f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="4" class="point">'
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


def analysis_charts(findings: Findings) -> dict[str, Markup | None]:
    """The charts of the analysis page, as markup (None where there is nothing to draw)."""
    frontier = None
    if findings.frontier:
        at_table = [
            n for n in findings.sides if any(n in u for u in findings.utilities.values())
        ] or findings.sides
        names = (at_table[0], at_table[1])
        svg = frontier_svg(findings.frontier, names, _marks(findings, names))
        frontier = Markup(svg)  # noqa: S704 — every text in it is escaped
    return {"frontier": frontier}
