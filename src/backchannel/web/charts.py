"""Charts as inline SVG, drawn on the server (no script, nothing fetched)."""

from __future__ import annotations

from html import escape


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
