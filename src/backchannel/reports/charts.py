"""Charts as inline SVG (no script, nothing fetched): the pages' and the readouts'.

Each chart carries a ``<title>`` and a ``<desc>`` that say in words what it shows; the
pages put a table of the same numbers beside it (the text alternative). Every word in a
chart is a :class:`~backchannel.messages.Message` shown through the ``render`` the page
gives (its reader's language); numbers keep the same digits in every language. Every text
in a chart is escaped here. Colours come from classes of the style sheet, whose print rules
keep the charts legible in black and white (patterns and outlines, not colour alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from backchannel.messages import Message, Render, t_, t_n
from backchannel.model.changes import ConvergencePoint
from backchannel.model.findings import Findings
from backchannel.model.frontier import spread_points
from backchannel.model.results import SettlementRule

MOST_POINTS = 400
"""The most frontier points drawn; a larger frontier is drawn as an evenly spread subset."""

CHARACTER = 6
"""About how many pixels wide a character of a chart's 11-pixel text is (to make room)."""

RULE_NAMES: dict[str, Message] = {
    SettlementRule.NASH.value: t_("Nash bargaining"),
    SettlementRule.KS.value: t_("Kalai–Smorodinsky"),
    SettlementRule.EGALITARIAN.value: t_("Egalitarian"),
    SettlementRule.WELFARE.value: t_("Maximum welfare"),
}
"""Each settlement rule's name, as the analysis page names it."""


def rule_name(rule: str, render: Render) -> str:
    """The name of settlement ``rule`` in the reader's language (an unknown rule: as it is)."""
    known = RULE_NAMES.get(rule)
    return rule if known is None else render(known)


def decimal(value: float, digits: int, render: Render) -> str:
    """``value`` with ``digits`` decimals and the decimal sign of the reader's language
    (its catalogue writes "{whole}.{fraction}" as it writes numbers: "0,73" in Russian)."""
    whole, _, fraction = f"{value:.{digits}f}".partition(".")
    return render(t_("{whole}.{fraction}", whole=whole, fraction=fraction)) if fraction else whole


def _open(width: int, height: int, key: str, title: str, desc: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{key}-t {key}-d" class="chart">'
        f'<title id="{key}-t">{escape(title)}</title><desc id="{key}-d">{escape(desc)}</desc>'
    )


def frontier_svg(
    points: list[list[float]],
    names: tuple[str, str],
    marked: dict[str, list[float]],
    total: int = 0,
    *,
    render: Render,
) -> str:
    """The 2-party Pareto frontier: utilities of the first side across, the second up
    (``points`` may be a spread subset of a frontier of ``total`` points; ``marked``: each
    recommended package's point, by its label)."""
    width, height, pad = 420, 320, 48
    span_x, span_y = width - 2 * pad, height - 2 * pad

    def x(u: float) -> float:
        return pad + u * span_x

    def y(u: float) -> float:
        return height - pad - u * span_y

    shown = spread_points(points, MOST_POINTS)
    whole = max(total, len(points))
    count = t_n("{n} point", "{n} points", n=whole)
    if len(shown) < whole:
        count = t_("{points}, {drawn} drawn", points=count, drawn=len(shown))
    axes = t_("Utility of {first} across, of {second} up", first=names[0], second=names[1])
    together: dict[tuple[float, float], list[str]] = {}  # labels at the same point, together
    for label, (a, b) in marked.items():
        together.setdefault((a, b), []).append(label)
    marks = [
        t_(
            "{label} at {a}, {b}",
            label=", ".join(labels),
            a=decimal(a, 2, render),
            b=decimal(b, 2, render),
        )
        for (a, b), labels in together.items()
    ]
    parts = [
        _open(
            width,
            height,
            "frontier",
            render(t_("Pareto frontier")),
            "; ".join(render(m) for m in (axes, count, *marks)),
        ),
        f'<rect x="{pad}" y="{pad}" width="{span_x}" height="{span_y}" class="frame"/>',
    ]
    for k in range(0, 11, 2):
        t = k / 10
        tick = decimal(t, 1, render)
        parts.append(f'<line x1="{x(t)}" y1="{y(0)}" x2="{x(t)}" y2="{y(0) + 4}" class="tick"/>')
        parts.append(
            f'<text x="{x(t)}" y="{y(0) + 16}" class="label" text-anchor="middle">{tick}</text>'
        )
        parts.append(f'<line x1="{x(0) - 4}" y1="{y(t)}" x2="{x(0)}" y2="{y(t)}" class="tick"/>')
        parts.append(
            f'<text x="{x(0) - 8}" y="{y(t) + 4}" class="label" text-anchor="end">{tick}</text>'
        )
    if len(shown) > 1:
        path = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in shown)
        parts.append(f'<polyline points="{path}" class="front"/>')
    for a, b in shown:
        parts.append(
            f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="3" class="point">'
            f"<title>{decimal(a, 3, render)}, {decimal(b, 3, render)}</title></circle>"
        )
    for (a, b), labels in together.items():  # one label a line, on the side with room
        parts.append(f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="7" class="mark"/>')
        room = x(a) + 9 + CHARACTER * max(len(label) for label in labels) <= width
        at = f'x="{x(a) + 9:.1f}"' if room else f'x="{x(a) - 9:.1f}" text-anchor="end"'
        for k, label in enumerate(reversed(labels)):
            parts.append(
                f'<text {at} y="{y(b) - 8 - 13 * k:.1f}" class="mark-label">{escape(label)}</text>'
            )
    across, up = (escape(render(t_("utility of {side}", side=name))) for name in names)
    parts.append(
        f'<text x="{pad + span_x / 2}" y="{height - 8}" class="axis" text-anchor="middle">'
        f"{across}</text>"
    )
    parts.append(
        f'<text x="14" y="{pad + span_y / 2}" class="axis" text-anchor="middle" '
        f'transform="rotate(-90 14 {pad + span_y / 2})">{up}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def utilities_svg(
    utilities: dict[str, dict[str, float]], sides: list[str], *, render: Render
) -> str:
    """Each recommended package's utility per side: one group of bars per rule (``utilities``:
    rule, then side, to utility)."""
    named = {rule_name(rule, render): u for rule, u in utilities.items()}
    bar, gap, span = 12, 14, 290
    left = max(130, 16 + CHARACTER * max((len(name) for name in named), default=0))
    width = left + span + 40
    rows = sum(len(sides) * bar + gap for _ in utilities)
    height = rows + 40
    desc = "; ".join(
        f"{name}: " + ", ".join(f"{side} {decimal(u.get(side, 0), 2, render)}" for side in sides)
        for name, u in named.items()
    )
    title = render(t_("Utilities of the recommended packages"))
    parts = [_open(width, height, "utilities", title, desc)]
    top = 10
    for name, u in named.items():
        parts.append(
            f'<text x="{left - 8}" y="{top + len(sides) * bar / 2 + 4}" class="label" '
            f'text-anchor="end">{escape(name)}</text>'
        )
        for k, side in enumerate(sides):
            value = u.get(side, 0.0)
            parts.append(
                f'<rect x="{left}" y="{top + k * bar}" width="{value * span:.1f}" '
                f'height="{bar - 2}" class="bar series-{k % 4}"><title>{escape(side)}: '
                f"{decimal(value, 3, render)}</title></rect>"
            )
            parts.append(
                f'<text x="{left + value * span + 4:.1f}" y="{top + k * bar + bar - 3}" '
                f'class="label">{decimal(value, 2, render)}</text>'
            )
        top += len(sides) * bar + gap
    for k, side in enumerate(sides):  # the legend
        x = left + k * 110
        parts.append(f'<rect x="{x}" y="{height - 22}" width="10" height="10" class="series-{k}"/>')
        parts.append(f'<text x="{x + 14}" y="{height - 13}" class="label">{escape(side)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _fit(text: str, room: float) -> str:
    """``text`` cut to what fits ``room`` pixels at about ``CHARACTER`` pixels a character."""
    most = max(int(room / CHARACTER), 2)
    return text if len(text) <= most else text[: most - 1] + "…"


CELLS: dict[str, Message] = {
    "viable": t_("in an admissible package"),
    "open": t_("open"),
    "blocked": t_("ruled out"),
}
"""The states of an option on the red-line map (each a class of the style sheet), in the
legend's order."""


def redline_map_svg(findings: Findings, *, render: Render) -> str:
    """The red-line map: one row per issue, one cell per option (open, used by an
    admissible package, or ruled out by a red line)."""
    widest = max((len(o) for o in findings.options.values()), default=2)
    left, width, row = 150, 620, 24
    cell = (width - left - 10) / max(widest, 2)
    height = row * len(findings.issues) + 36
    blocked = sum(bool(by) for ops in findings.blocked.values() for by in ops.values())
    desc = t_(
        "{issues}; {blocked}; the table below gives each option",
        issues=t_n("{n} issue", "{n} issues", n=len(findings.issues)),
        blocked=t_n(
            "{n} option ruled out by a red line", "{n} options ruled out by a red line", n=blocked
        ),
    )
    words = {kind: escape(render(text)) for kind, text in CELLS.items()}
    parts = [_open(width, height, "map", render(t_("Red-line map")), render(desc))]
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
                f'class="{kind}-cell"><title>{escape(name)}: {escape(option)} ({words[kind]})'
                "</title></rect>"
            )
            label = escape(_fit(option, cell - 6))
            struck = ' text-decoration="line-through"' if by else ""
            parts.append(
                f'<text x="{x + 3:.1f}" y="{y + 14}" class="cell-label"{struck}>{label}</text>'
            )
    legend = height - 12
    for k, (kind, word) in enumerate(words.items()):
        x = left + k * 170
        parts.append(f'<rect x="{x}" y="{legend - 9}" width="12" height="12" class="{kind}-cell"/>')
        parts.append(f'<text x="{x + 16}" y="{legend + 1}" class="label">{word}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _round_in_words(p: ConvergencePoint) -> Message:
    """One evaluation of the convergence chart, in words (its part of the ``<desc>``)."""
    admissible = (
        t_("admissible packages unknown")
        if p.admissible is None
        else t_n("{n} admissible package", "{n} admissible packages", n=p.admissible)
    )
    overlap = t_n(
        "{overlap} of {n} issue with overlap",
        "{overlap} of {n} issues with overlap",
        n=p.issues,
        overlap=p.overlap,
    )
    return t_(
        "round {round}: {overlap}, {admissible}",
        round=p.round_number,
        overlap=overlap,
        admissible=admissible,
    )


def convergence_svg(points: Sequence[ConvergencePoint], *, render: Render) -> str:
    """Per evaluation: the issues with overlap (bars, out of the agenda) and the number of
    admissible packages (written above each bar)."""
    left, width, height, top = 48, 460, 220, 24
    span_y = height - top - 40
    most = max((p.issues for p in points), default=1) or 1
    slot = (width - left - 10) / max(len(points), 1)
    desc = "; ".join(render(_round_in_words(p)) for p in points)
    title = render(t_("Convergence across rounds"))
    parts = [_open(width, height, "convergence", title, desc)]
    parts.append(
        f'<line x1="{left}" y1="{top + span_y}" x2="{width - 10}" y2="{top + span_y}" '
        'class="tick"/>'
    )
    for k, p in enumerate(points):
        x = left + k * slot + slot * 0.2
        h = span_y * p.overlap / most
        share = escape(render(t_("{overlap} of {issues}", overlap=p.overlap, issues=p.issues)))
        parts.append(
            f'<rect x="{x:.1f}" y="{top + span_y - h:.1f}" width="{slot * 0.6:.1f}" '
            f'height="{h:.1f}" class="bar series-0"><title>{share}</title></rect>'
        )
        admissible = "?" if p.admissible is None else str(p.admissible)
        parts.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{top + span_y - h - 5:.1f}" class="label" '
            f'text-anchor="middle">{admissible}</text>'
        )
        short = escape(render(t_("R{round}", round=p.round_number)))
        parts.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{top + span_y + 14}" class="label" '
            f'text-anchor="middle">{short}</text>'
        )
    key = escape(render(t_("bars: issues with overlap · numbers: admissible packages")))
    parts.append(f'<text x="{left}" y="{height - 6}" class="axis">{key}</text>')
    parts.append("</svg>")
    return "".join(parts)


def released_map_svg(
    agenda: Sequence[tuple[str, Sequence[str]]],
    overlaps: dict[str, bool],
    packaged: dict[str, set[str]],
    *,
    render: Render,
) -> str:
    """The red-line map as an audience knows it from its releases: one row per issue,
    one cell per option (shaded when a released package holds it), and the issue's
    overlap as released (yes, no, or not released). Nothing here comes from a side's
    private inputs: only the agenda and the released findings."""
    widest = max((len(options) for _, options in agenda), default=2)
    left, right, width, row = 150, 110, 640, 24
    cell = (width - left - right - 10) / max(widest, 2)
    height = row * len(agenda) + 36
    told = sum(name in overlaps for name, _ in agenda)
    desc = t_(
        "{issues}; overlap released for {told}; the options of released packages are shaded",
        issues=t_n("{n} issue", "{n} issues", n=len(agenda)),
        told=told,
    )
    answers = {True: render(t_("overlap: yes")), False: render(t_("overlap: no"))}
    unknown = render(t_("not released"))
    parts = [_open(width, height, "released-map", render(t_("Red-line map")), render(desc))]
    for r, (name, options) in enumerate(agenda):
        y = 6 + r * row
        parts.append(
            f'<text x="{left - 8}" y="{y + 16}" class="label" text-anchor="end">'
            f"{escape(_fit(name, left - 12))}</text>"
        )
        for c, option in enumerate(options):
            kind = "viable" if option in packaged.get(name, set()) else "open"
            x = left + c * cell
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{cell - 2:.1f}" height="{row - 4}" '
                f'class="{kind}-cell"><title>{escape(name)}: {escape(option)}</title></rect>'
            )
            parts.append(
                f'<text x="{x + 3:.1f}" y="{y + 14}" class="cell-label">'
                f"{escape(_fit(option, cell - 6))}</text>"
            )
        said = answers.get(overlaps[name]) if name in overlaps else unknown
        parts.append(
            f'<text x="{width - right + 4}" y="{y + 16}" class="label">'
            f"{escape(_fit(said or unknown, right - 6))}</text>"
        )
    legend = height - 12
    words = (("viable", t_("in a released package")), ("open", t_("no package released")))
    for k, (kind, word) in enumerate(words):
        x = left + k * 200
        parts.append(f'<rect x="{x}" y="{legend - 9}" width="12" height="12" class="{kind}-cell"/>')
        parts.append(
            f'<text x="{x + 16}" y="{legend + 1}" class="label">{escape(render(word))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
