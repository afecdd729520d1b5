"""The light formatting of a clause: paragraphs, lists and emphasis, and nothing else.

Everything is escaped first; then a blank line starts a paragraph, a run of lines that
start with ``- `` is a list, and ``*words*`` (on one line) are emphasised. No raw HTML
ever passes: the only tags in the output are the ones written here.
"""

from __future__ import annotations

import re

from markupsafe import Markup

_EMPHASIS = re.compile(r"\*([^*\n]+)\*")
_ITEM = "- "


def _inline(line: str) -> Markup:
    """One line, escaped, with ``*words*`` emphasised."""
    out = Markup("")
    done = 0
    for found in _EMPHASIS.finditer(line):
        out += line[done : found.start()]  # a str added to Markup is escaped
        out += Markup("<em>{}</em>").format(found.group(1))
        done = found.end()
    return out + line[done:]


def _block(lines: list[str]) -> Markup:
    """One paragraph's lines: runs of ``- `` items as lists, other runs as paragraphs."""
    out: list[Markup] = []
    items: list[str] = []
    text: list[str] = []

    def flush_text() -> None:
        if text:
            out.append(Markup("<p>{}</p>").format(Markup("<br>").join(map(_inline, text))))
            text.clear()

    def flush_items() -> None:
        if items:
            listed = Markup("").join(Markup("<li>{}</li>").format(_inline(i)) for i in items)
            out.append(Markup("<ul>{}</ul>").format(listed))
            items.clear()

    for line in lines:
        if line.startswith(_ITEM):
            flush_text()
            items.append(line[len(_ITEM) :])
        else:
            flush_items()
            text.append(line)
    flush_text()
    flush_items()
    return Markup("").join(out)


def light(text: str) -> Markup:
    """``text`` as safe HTML with its light formatting applied.

    Parameters
    ----------
    text:
        A clause's wording as typed (any characters; ``<`` and ``&`` stay text).

    Returns
    -------
    Markup
        Paragraphs (``<p>``), lists (``<ul><li>``) and emphasis (``<em>``) only.
    """
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    return Markup("").join(_block(p.split("\n")) for p in paragraphs if p.strip())
