"""A readout as HTML: one self-contained page (style and charts inline, nothing fetched).

:func:`body` is the readout's article (the facilitator's review page shows it as it will
be issued); :func:`document` wraps it in a whole page laid out for A4 or Letter, whose
print rules give the same pages in a browser and in the PDF (:mod:`.pdf`). Both are
pure functions of the :class:`~backchannel.model.readout.ReadoutContent` and the reader's
language: the same content gives the same bytes (no clock, no random identifier; the
only time is the content's issue time). Every text is escaped here.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from backchannel import i18n
from backchannel.messages import Message, Render, t_, verbatim
from backchannel.model.changes import ConvergencePoint
from backchannel.model.disclosure import Kind, words
from backchannel.model.readout import ALL, OBSERVERS, Page, ReadoutContent
from backchannel.model.text import ClauseState
from backchannel.reports.charts import convergence_svg, frontier_svg, released_map_svg, rule_name

CLAUSE_STATES: dict[str, Message] = {
    ClauseState.AGREED.value: t_("agreed"),
    ClauseState.AD_REFERENDUM.value: t_("agreed ad referendum"),
    ClauseState.BRACKETED.value: t_("bracketed"),
    ClauseState.REJECTED.value: t_("rejected"),
    ClauseState.NO_ANSWER.value: t_("no answer"),
}
"""The name of each state of a clause (the text pages use the same)."""

MEETING_FORMATS: dict[str, Message] = {
    "plenary": t_("plenary"),
    "caucus": t_("caucus"),
    "bilateral": t_("bilateral"),
}

PAPER = {Page.A4: "A4", Page.LETTER: "letter"}
"""The CSS ``@page`` size of each paper."""

STYLE = """
@page { size: %(paper)s; margin: 18mm 16mm 20mm; }
html { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10.5pt;
  color: #111; background: #fff; }
body { margin: 0 auto; max-width: 46rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 0.3rem; }
h2 { font-size: 1.2rem; margin: 1.4rem 0 0.4rem; border-bottom: 1px solid #999;
  break-after: avoid; }
h3 { font-size: 1.05rem; margin: 1rem 0 0.3rem; break-after: avoid; }
p.meta, p.note, footer { color: #444; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 0.3rem 0 0.6rem; }
th, td { border: 1px solid #bbb; padding: 0.15rem 0.4rem; text-align: left;
  vertical-align: top; }
li { margin: 0.2rem 0; }
.state { font-weight: 600; }
.finding, .meeting, .clause { break-inside: avoid; }
blockquote { margin: 0.3rem 0 0.6rem 1rem; padding-left: 0.6rem; border-left: 3px solid #999; }
svg.chart { display: block; width: 100%%; max-width: 40rem; height: auto; margin: 0.4rem 0;
  break-inside: avoid; }
footer { margin-top: 1.6rem; border-top: 1px solid #999; padding-top: 0.4rem; }
"""


CHART_STYLE = (
    "svg.chart .frame,svg.chart .open-cell{fill:#fff;stroke:#555}"
    "svg.chart .label,svg.chart .axis,svg.chart .cell-label"
    "{font-size:11px;fill:#000;font-family:'DejaVu Sans',sans-serif}"
    "svg.chart .cell-label{font-size:10px}svg.chart .tick{stroke:#555}"
    "svg.chart .viable-cell{fill:#bbb;stroke:#000}svg.chart .bar{fill:#888;stroke:#000}"
    "svg.chart .front{fill:none;stroke:#000;stroke-width:1.5}svg.chart .point{fill:#555}"
    "svg.chart .mark{fill:none;stroke:#000;stroke-width:2}"
    "svg.chart .mark-label{font-size:10px;fill:#000;font-family:'DejaVu Sans',sans-serif}"
)
"""The charts' own style, inside each chart (a PDF renderer styles an SVG from within it);
scoped to the charts, so that a page showing the readout keeps its own style elsewhere."""


def _styled(svg: str) -> str:
    """``svg`` with :data:`CHART_STYLE` as its first child."""
    opened = svg.index(">") + 1
    return f"{svg[:opened]}<style>{CHART_STYLE}</style>{svg[opened:]}"


def audience_title(content: ReadoutContent) -> Message:
    """Whom the readout is for, in words."""
    if content.audience == ALL:
        return t_("every delegation and the observers")
    if content.audience == OBSERVERS:
        return t_("the observers")
    return t_("the delegation {name}", name=content.audience_name)


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line.strip())


def _findings(content: ReadoutContent, say: Render) -> str:
    if not content.findings:
        return _note(say(t_("Nothing has been released yet.")))
    parts = []
    for finding in content.findings:
        round_name = escape(say(t_("Round {n}", n=finding.round_number)))
        parts.append(
            f'<div class="finding"><p><span class="meta">{round_name}</span> · '
            f"{escape(say(words(finding.told)))}</p>"
        )
        if finding.package:
            rows = "".join(
                f'<tr><th scope="row">{escape(issue)}</th><td>{escape(option)}</td></tr>'
                for issue, option in finding.package
            )
            parts.append(f"<table><tbody>{rows}</tbody></table>")
        parts.append("</div>")
    return "".join(parts)


def _overlaps(content: ReadoutContent) -> dict[str, bool]:
    """Each issue's overlap as last released to the audience (by issue name)."""
    found: dict[str, bool] = {}
    for finding in content.findings:
        facts = finding.told.facts
        if facts is None or facts.kind is not Kind.OVERLAP:
            continue
        if facts.issue is not None and facts.answer is not None:
            found[facts.issue] = facts.answer
    return found


def _packaged(content: ReadoutContent) -> dict[str, set[str]]:
    """The options of each issue found in a package released to the audience."""
    found: dict[str, set[str]] = {}
    for finding in content.findings:
        for issue, option in finding.package:
            found.setdefault(issue, set()).add(option)
    return found


def convergence_points(content: ReadoutContent) -> list[ConvergencePoint]:
    """Per round with a released overlap or zone finding: the issues released with
    overlap (the admissible packages are never released: unknown)."""
    rounds: dict[int, dict[str, bool]] = {}
    zones: dict[int, bool | None] = {}
    for finding in content.findings:
        facts = finding.told.facts
        if facts is None:
            continue
        if facts.kind is Kind.OVERLAP and facts.issue is not None:
            rounds.setdefault(finding.round_number, {})[facts.issue] = bool(facts.answer)
        elif facts.kind is Kind.ZONE:
            zones[finding.round_number] = facts.answer
            rounds.setdefault(finding.round_number, {})
    return [
        ConvergencePoint(
            number,
            zones.get(number),
            None,
            sum(rounds[number].values()),
            len(content.agenda),
        )
        for number in sorted(rounds)
    ]


def _charts(content: ReadoutContent, say: Render) -> str:
    parts = []
    if content.agenda:
        chart = released_map_svg(
            [(i.name, i.options) for i in content.agenda],
            _overlaps(content),
            _packaged(content),
            render=say,
        )
        parts.append(_styled(chart))
    points = convergence_points(content)
    if points:
        parts.append(_styled(convergence_svg(points, render=say)))
    else:
        text = t_("No finding about overlap has been released yet: nothing to chart across rounds.")
        parts.append(f'<p class="note">{escape(say(text))}</p>')
    parts.append(_frontier(content, say))
    return "".join(parts)


def _frontier(content: ReadoutContent, say: Render) -> str:
    """The Pareto frontier last released to the audience, drawn; else a note that says it
    was not released to it."""
    released = [f.told.frontier for f in content.findings if f.told.frontier is not None]
    if not released:
        text = t_(
            "The Pareto frontier is shown only where the facilitator released it; it was "
            "not released to this audience."
        )
        return _note(say(text))
    last = released[-1]
    marks = {rule_name(rule, say): point for rule, point in last.marks.items()}
    return _styled(frontier_svg(last.points, last.sides, marks, last.total, render=say))


def _meetings(content: ReadoutContent, say: Render) -> str:
    if not content.meetings:
        return _note(say(t_("No meeting has been held yet.")))
    parts = []
    for m in content.meetings:
        kind = escape(say(MEETING_FORMATS.get(m.format, verbatim(m.format))))
        where = escape(say(t_("online")) if m.online else m.place)
        parts.append(
            f'<div class="meeting"><h3>{escape(m.local)} ({escape(m.zone)}) · {kind}'
            f"{' · ' + where if where else ''}</h3>"
        )
        if m.issues:
            issues = ", ".join(m.issues)
            agenda = say(t_("On the agenda: {issues}", issues=issues))
            parts.append(f"<p>{escape(agenda)}</p>")
        if m.record is None:
            parts.append(_note(say(t_("No agreed record."))))
        else:
            label = escape(say(t_("Agreed record (not attributed):")))
            parts.append(f"<p>{label}</p><blockquote>{_paragraphs(m.record)}</blockquote>")
        parts.append("</div>")
    return "".join(parts)


def _texts(content: ReadoutContent, say: Render) -> str:
    if not content.texts:
        return _note(say(t_("There is no negotiating text yet.")))
    parts = []
    for text in content.texts:
        whole = t_("agreed as a whole") if text.agreed else t_("not yet agreed as a whole")
        version = say(t_("version {n}", n=text.version))
        parts.append(f"<h3>{escape(text.title)} · {escape(version)} · {escape(say(whole))}</h3>")
        parts.append("<ol>")
        for clause in text.clauses:
            state = escape(say(CLAUSE_STATES.get(clause.state, verbatim(clause.state))))
            issue = "" if clause.issue is None else f" <em>({escape(clause.issue)})</em>"
            parts.append(
                f'<li class="clause" value="{clause.number}"><span class="state">[{state}]'
                f"</span>{issue} {escape(clause.body)}</li>"
            )
        parts.append("</ol>")
    return "".join(parts)


VERIFY = "backchannel readout verify FILE --key KEY"
"""The command that checks a readout's signature, as the readout quotes it (in code)."""
COMMAND = "\u2063command\u2063"
"""Where the verify sentence puts :data:`VERIFY` (a mark no translation contains)."""


def body(content: ReadoutContent, say: Render) -> str:
    """The readout's article: every section, in the reader's language."""
    title = t_("Readout: {dialogue}", dialogue=content.dialogue)
    issued = datetime.fromisoformat(content.issued_at) if content.issued_at else None
    meta = t_(
        "For {audience} · issued {when} UTC",
        audience=audience_title(content),
        when="…" if issued is None else i18n.moment_text(issued, content.language),
    )
    rule = t_(
        "Under the Chatham House rule: what was said is reported, never who said it. Only "
        "what this audience may see is in it."
    )
    verify = t_(
        "This readout is signed by the server. Check that it is unaltered with {command}, "
        "and compare the fingerprint with the one the facilitator gives.",
        command=COMMAND,
    )
    sections = (
        (t_("Findings released"), _findings(content, say)),
        (t_("Charts"), _charts(content, say)),
        (t_("Meetings held"), _meetings(content, say)),
        (t_("The negotiating text"), _texts(content, say)),
    )
    parts = [
        '<article class="readout">',
        f"<h1>{escape(say(title))}</h1>",
        f'<p class="meta">{escape(say(meta))}</p>',
        f'<p class="note">{escape(say(rule))}</p>',
    ]
    for heading, html in sections:
        parts.append(f"<section><h2>{escape(say(heading))}</h2>{html}</section>")
    before, _, after = say(verify).partition(COMMAND)
    command = f"<code>{escape(VERIFY)}</code>"
    parts.append(f"<footer><p>{escape(before)}{command}{escape(after)}</p></footer></article>")
    return "\n".join(parts)


def document(content: ReadoutContent, say: Render, page: Page) -> bytes:
    """The whole readout page as UTF-8 bytes, laid out for ``page``.

    The issue time is also the document's creation and modification time (``dcterms``
    metadata, which the PDF takes over), so nothing in the file comes from the clock.
    """
    title = escape(say(t_("Readout: {dialogue}", dialogue=content.dialogue)))
    when = escape(content.issued_at)
    head = (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(content.language)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n"
        '<meta name="generator" content="Backchannel">\n'
        f'<meta name="dcterms.created" content="{when}">\n'
        f'<meta name="dcterms.modified" content="{when}">\n'
        f"<style>{STYLE % {'paper': PAPER[page]}}</style>\n</head>\n<body>\n"
    )
    return (head + body(content, say) + "\n</body>\n</html>\n").encode("utf-8")
