"""The state graph of a conflict as a standalone SVG picture.

Nodes are feasible states (labelled with their Y/N strings, and with the names given to
them, if any), laid out in columns by the number of options taken; edges are the
decision makers' unilateral moves (Kilgour, Hipel & Fang 1987: decision maker ``i``
moves from ``s`` to ``t`` when the states differ only in ``i``'s options, within the
options' permitted directions and outside ``i``'s misperceived states), coloured by
decision maker. Equilibria and the status quo are marked. The picture has no scripts,
fonts or links to fetch: it is built as plain XML text and is safe to embed in an
offline report.

Every word drawn is a :class:`~backchannel.messages.Message`, shown through the ``render``
given (a page's language; English by default, as the CLI draws it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from backchannel.conflict.compiled_conflict import CompiledConflict, Reversibility
from backchannel.messages import Message, Render, t_

__all__ = ["MAX_FULL_STATES", "render_svg", "unilateral_moves"]

MAX_FULL_STATES = 64
_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#6F6F6F")
_SANS = "DejaVu Sans, Helvetica, Arial, sans-serif"
_MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
_CHAR_W = 8.0  # width of one monospace character at 13px
_ROW_GAP = 16.0
_COL_GAP = 110.0
_MARGIN = 24.0


def _can_move(conflict: CompiledConflict, dm: int, a: int, b: int) -> bool:
    """Whether ``dm`` may move from state index ``a`` to ``b`` (unilateral move)."""
    code_a, code_b = int(conflict.states[a]), int(conflict.states[b])
    mask = sum(1 << j for j in conflict.dm_options[dm])
    if code_a == code_b or (code_a ^ code_b) & ~mask:
        return False
    if dm < len(conflict.misperceived):
        seen = conflict.misperceived[dm]
        if seen is not None and (seen[a] or seen[b]):
            return False
    for j in conflict.dm_options[dm]:
        before, after = code_a >> j & 1, code_b >> j & 1
        direction = conflict.reversibility[j]
        if after > before and direction is Reversibility.BACKWARD_ONLY:
            return False
        if after < before and direction is Reversibility.FORWARD_ONLY:
            return False
    return True


def unilateral_moves(
    conflict: CompiledConflict, shown: Sequence[int]
) -> list[tuple[int, int, int, bool]]:
    """Moves among ``shown`` states, as ``(dm, a, b, both_ways)``.

    A one-way move goes from ``a`` to ``b``; a two-way move is listed once.
    """
    moves: list[tuple[int, int, int, bool]] = []
    for dm in range(len(conflict.dm_ids)):
        for x, a in enumerate(shown):
            for b in shown[x + 1 :]:
                forward, backward = _can_move(conflict, dm, a, b), _can_move(conflict, dm, b, a)
                if forward and backward:
                    moves.append((dm, a, b, True))
                elif forward:
                    moves.append((dm, a, b, False))
                elif backward:
                    moves.append((dm, b, a, False))
    return moves


def _neighbours(conflict: CompiledConflict, index: int) -> list[int]:
    code = int(conflict.states[index])
    found: list[int] = []
    for dm, options in enumerate(conflict.dm_options):
        keep = ~np.uint64(sum(1 << j for j in options))
        block = np.flatnonzero((conflict.states & keep) == (np.uint64(code) & keep))
        found += [
            t
            for t in (int(x) for x in block)
            if t != index
            and (_can_move(conflict, dm, index, t) or _can_move(conflict, dm, t, index))
        ]
    return found


def _select(
    conflict: CompiledConflict, focus: list[int], limit: int
) -> tuple[list[int], Message | None]:
    if conflict.n_states <= limit:
        return list(range(conflict.n_states)), None
    if not focus:
        return list(range(limit)), t_(
            "Condensed view: the first {limit} of {n} states (no equilibrium or status quo given)",
            limit=limit,
            n=conflict.n_states,
        )
    focus = focus[:limit]
    chosen = dict.fromkeys(focus)
    for index in focus:
        for t in _neighbours(conflict, index):
            if len(chosen) >= limit:
                break
            chosen.setdefault(t)
    shown = sorted(chosen)
    return shown, t_(
        "Condensed view: {shown} of {n} states (status quo, equilibria and states one move "
        "away); only moves to or from the status quo and equilibria are drawn",
        shown=len(shown),
        n=conflict.n_states,
    )


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    w: float
    h: float

    def edge_point(self, dx: float, dy: float) -> tuple[float, float]:
        """Where a ray from the centre in direction (dx, dy) leaves the box."""
        hw, hh = self.w / 2 + 3, self.h / 2 + 3
        scale = min(hw / abs(dx) if dx else math.inf, hh / abs(dy) if dy else math.inf)
        return self.x + dx * scale, self.y + dy * scale


def _text(x: float, y: float, body: str, *, size: int = 12, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}"{extra}>{escape(body)}</text>'


def _wrap(words: list[str], width: int) -> list[str]:
    lines, line = [], ""
    for word in words:
        if line and len(line) + len(word) + 3 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} · {word}" if line else word
    return [*lines, line] if line else lines


def render_svg(
    conflict: CompiledConflict,
    *,
    equilibria: Sequence[int] = (),
    status_quo: int | None = None,
    title: str | None = None,
    state_names: Mapping[int, str] | None = None,
    max_states: int = MAX_FULL_STATES,
    render: Render | None = None,
) -> str:
    """Draw the state graph as a standalone SVG document.

    Parameters
    ----------
    conflict:
        The compiled conflict.
    equilibria:
        State indices to highlight.
    status_quo:
        State index to mark; defaults to ``conflict.status_quo``.
    title:
        Heading; defaults to ``conflict.title``.
    state_names:
        Optional short names shown under the Y/N labels.
    max_states:
        Above this many states, draw a condensed view (status quo, equilibria and
        their one-move neighbours) and say so in the picture.
    render:
        How a message is shown (default: English).

    Returns
    -------
    str
        An SVG document (UTF-8 text), no scripts and no external resources.
    """
    say: Render = render or (lambda message: message.render())
    names = dict(state_names or {})
    sq = conflict.status_quo if status_quo is None else status_quo
    eq = {int(i) for i in equilibria}
    focus = ([sq] if sq is not None else []) + [i for i in sorted(eq) if i != sq]
    shown, condensed = _select(conflict, focus, max_states)
    note = None if condensed is None else say(condensed)
    m = len(conflict.option_ids)
    label_w = max(m * _CHAR_W, max((len(names.get(i, "")) * 6.5 for i in shown), default=0))
    node_w = label_w + 20
    node_h = 40.0 if names else 28.0
    columns: dict[int, list[int]] = {}
    for index in shown:
        columns.setdefault(int(conflict.states[index]).bit_count(), []).append(index)
    layers = sorted(columns)
    tallest = max(len(column) for column in columns.values())
    graph_h = tallest * (node_h + _ROW_GAP)
    graph_w = len(layers) * (node_w + _COL_GAP) - _COL_GAP
    heading = title if title is not None else conflict.title
    option_lines = _wrap([f"{j + 1} {o}" for j, o in enumerate(conflict.option_ids)], 90)
    legend_top = 58.0 + (18.0 if note else 0.0)
    legend_h = 22.0 * (len(option_lines) + 2)
    top = legend_top + legend_h + 36.0
    width = max(graph_w + 2 * _MARGIN, 640.0)
    height = top + graph_h + _MARGIN + 20
    boxes: dict[int, _Box] = {}
    offset_x = (width - graph_w) / 2
    for c, layer in enumerate(layers):
        column = columns[layer]
        start = top + (graph_h - len(column) * (node_h + _ROW_GAP)) / 2
        for r, index in enumerate(column):
            x = offset_x + c * (node_w + _COL_GAP) + node_w / 2
            boxes[index] = _Box(x, start + r * (node_h + _ROW_GAP) + node_h / 2, node_w, node_h)
    colours = [_COLOURS[k % len(_COLOURS)] for k in range(len(conflict.dm_ids))]
    caption = say(t_("{title}: state graph", title=heading))
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-labelledby="graph-title" '
        f'font-family="{_SANS}">',
        f'<title id="graph-title">{escape(caption)}</title>',
        "<desc>"
        + escape(
            say(
                t_(
                    "Feasible states as boxes, unilateral moves as arrows coloured by "
                    "decision maker; equilibria outlined in gold, the status quo dashed."
                )
            )
        )
        + "</desc>",
        "<defs>",
    ]
    for k, colour in enumerate(colours):
        for end, path, ref in (
            ("end", "M0,0 L10,5 L0,10 z", 9),
            ("start", "M10,0 L0,5 L10,10 z", 1),
        ):
            out.append(
                f'<marker id="arrow-{end}-{k}" viewBox="0 0 10 10" refX="{ref}" refY="5" '
                f'markerWidth="7" markerHeight="7" orient="auto">'
                f'<path d="{path}" fill="{colour}"/></marker>'
            )
    out += ["</defs>", f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>']
    out.append(_text(_MARGIN, 30, heading, size=18, font_weight="600", fill="#1f2933"))
    sub = say(
        t_(
            "{states} feasible states · {dms} decision makers · arrows are unilateral moves",
            states=conflict.n_states,
            dms=len(conflict.dm_ids),
        )
    )
    out.append(_text(_MARGIN, 50, sub, size=12, fill="#52606d"))
    if note:
        out.append(_text(_MARGIN, 68, note, size=12, fill="#9a3412", font_style="italic"))
    out.append(_legend(conflict, colours, option_lines, legend_top, say))
    keep = set(focus) if note else set(shown)
    for dm, a, b, both in unilateral_moves(conflict, shown):
        if a not in keep and b not in keep:
            continue
        out.append(_edge(boxes[a], boxes[b], dm, colours[dm], both=both, dm_id=conflict.dm_ids[dm]))
    for index in shown:
        out.append(
            _node(
                conflict,
                index,
                boxes[index],
                names.get(index),
                eq=index in eq,
                sq=index == sq,
                say=say,
            )
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


_EQUILIBRIUM = t_("equilibrium")
_STATUS_QUO = t_("status quo")


def _legend(
    conflict: CompiledConflict,
    colours: list[str],
    option_lines: list[str],
    top: float,
    say: Render,
) -> str:
    parts = ['<g class="legend">']
    x = _MARGIN
    for k, dm in enumerate(conflict.dm_ids):
        y = top + 10
        parts.append(
            f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 26:.1f}" y2="{y:.1f}" '
            f'stroke="{colours[k]}" stroke-width="2.5" marker-end="url(#arrow-end-{k})"/>'
        )
        moves = say(t_("moves by {dm}", dm=dm))
        parts.append(_text(x + 32, y + 4, moves, size=12, fill="#1f2933"))
        x += 48 + 7 * len(moves)
    y = top + 24
    parts.append(
        f'<rect x="{x:.1f}" y="{top:.1f}" width="22" height="16" rx="4" fill="#fff7e0" '
        'stroke="#b7791f" stroke-width="3"/>'
    )
    equilibrium = say(_EQUILIBRIUM)
    parts.append(_text(x + 28, top + 13, equilibrium, size=12, fill="#1f2933"))
    x += max(110, 40 + 7 * len(equilibrium))
    parts.append(
        f'<rect x="{x:.1f}" y="{top:.1f}" width="22" height="16" rx="4" fill="#ffffff" '
        'stroke="#1f2933" stroke-width="1.5" stroke-dasharray="4 2"/>'
    )
    parts.append(_text(x + 28, top + 13, say(_STATUS_QUO), size=12, fill="#1f2933"))
    y = top + 40
    parts.append(
        _text(
            _MARGIN,
            y,
            say(t_("State labels: Y = option taken, N = not, in the order:")),
            size=12,
            fill="#52606d",
        )
    )
    for line in option_lines:
        y += 18
        parts.append(_text(_MARGIN + 12, y, line, size=12, fill="#52606d", font_family=_MONO))
    parts.append("</g>")
    return "\n".join(parts)


def _edge(a: _Box, b: _Box, dm: int, colour: str, *, both: bool, dm_id: str) -> str:
    dx, dy = b.x - a.x, b.y - a.y
    if abs(dx) < 1:  # same column: loop out to the right of the column
        cx = a.x + a.w / 2 + 18 + 0.25 * abs(dy)
        cy = (a.y + b.y) / 2
    else:
        cx = (a.x + b.x) / 2 - dy * 0.15
        cy = (a.y + b.y) / 2 + dx * 0.15
    x1, y1 = a.edge_point(cx - a.x, cy - a.y)
    x2, y2 = b.edge_point(cx - b.x, cy - b.y)
    start = f' marker-start="url(#arrow-start-{dm})"' if both else ""
    return (
        f'<path d="M{x1:.1f},{y1:.1f} Q{cx:.1f},{cy:.1f} {x2:.1f},{y2:.1f}" fill="none" '
        f'stroke="{colour}" stroke-width="1.6" stroke-opacity="0.75"{start} '
        f'marker-end="url(#arrow-end-{dm})"><title>{escape(dm_id)}</title></path>'
    )


def _node(
    conflict: CompiledConflict,
    index: int,
    box: _Box,
    name: str | None,
    *,
    eq: bool,
    sq: bool,
    say: Render,
) -> str:
    label = conflict.state_string(index)
    x0, y0 = box.x - box.w / 2, box.y - box.h / 2
    fill = "#fff7e0" if eq else "#f5f7fa"
    stroke, width, dash = ("#b7791f", 3.0, "") if eq else ("#52606d", 1.2, "")
    if sq:
        dash = ' stroke-dasharray="5 3"'
        stroke = "#1f2933" if not eq else stroke
        width = max(width, 1.8)
    kinds = [say(k) for k, flag in ((_EQUILIBRIUM, eq), (_STATUS_QUO, sq)) if flag]
    tooltip = say(t_("state {n}: {label}", n=index + 1, label=label)) + (
        f" · {name}" if name else ""
    )
    tooltip += f" ({', '.join(kinds)})" if kinds else ""
    parts = [
        f'<g class="state" data-state="{escape(label)}"><title>{escape(tooltip)}</title>',
        f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="6" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dash}/>',
    ]
    label_y = box.y + (-2 if name else 4.5)
    parts.append(
        _text(
            box.x, label_y, label, size=13, text_anchor="middle", font_family=_MONO, fill="#1f2933"
        )
    )
    if name:
        parts.append(_text(box.x, box.y + 13, name, size=10, text_anchor="middle", fill="#52606d"))
    if sq:
        parts.append(
            _text(x0, y0 - 4, say(_STATUS_QUO), size=10, fill="#1f2933", font_weight="600")
        )
    parts.append("</g>")
    return "\n".join(parts)
