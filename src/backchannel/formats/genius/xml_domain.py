"""Read Genius XML files: safe parsing with line numbers, domains, profile headers.

A domain file has the root ``<negotiation_template>``, with ``<issue>`` elements inside
``<utility_space><objective>``: ``type="discrete"`` (or no type) with ``<item value>``
children, ``type="integer"`` with ``lowerbound``/``upperbound`` (attributes or a
``<range>`` child), or ``type="real"`` with a ``<range>``. A real issue becomes a
numeric issue of 11 values: both ends of its range and 9 equally spaced values
between them (:data:`~backchannel.formats.genius.common.REAL_STEPS`).

An issue's ``index`` is an ID that profiles use to refer to it; it need not start at
1 or be contiguous.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # only for TreeBuilder, ParseError and Element types
from dataclasses import dataclass
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeET

from backchannel.errors import listing
from backchannel.formats.files import BOM
from backchannel.formats.genius.common import (
    REAL_STEPS,
    GeniusIssue,
    IssueType,
    Reporter,
    Where,
    numeric_issue,
    parse_number,
    validate_discount,
)
from backchannel.messages import t_

_DECLARED_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


class _LineBuilder(ET.TreeBuilder):
    """A tree builder that remembers the line each element starts on."""

    def __init__(self) -> None:
        super().__init__()
        self.parser: Any = None
        self.lines: dict[int, int] = {}

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        element = super().start(tag, attrs)
        self.lines[id(element)] = int(self.parser.parser.CurrentLineNumber)
        return element


@dataclass
class XmlDocument:
    """A parsed XML file and the line of each of its elements."""

    source: str
    root: ET.Element
    lines: dict[int, int]

    def line(self, element: ET.Element) -> int | None:
        """The 1-based line an element starts on."""
        return self.lines.get(id(element))

    def reporter(self) -> Reporter:
        """A reporter for this file."""
        return Reporter(self.source)


def declared_encoding(data: bytes) -> str:
    """The encoding an XML declaration names (``utf-8`` when there is none)."""
    found = _DECLARED_ENCODING.match(data.removeprefix(BOM))
    return found.group(1).decode("ascii") if found else "utf-8"


def parse_xml(text: str, source: str) -> XmlDocument:
    """Parse untrusted XML text safely (no DTD entities, no external references).

    The text is what :func:`~backchannel.formats.files.decode_text` made of the file's
    bytes (in the encoding of :func:`declared_encoding`), so its encoding declaration
    no longer applies.

    Raises
    ------
    CaseFileErrors
        The file is not well-formed XML, or it declares entities.
    """
    builder = _LineBuilder()
    parser = SafeET.XMLParser(target=builder)
    builder.parser = parser
    out = Reporter(source)
    try:
        parser.feed(text)
        root = parser.close()
    except ET.ParseError as exc:
        line, column = exc.position
        out.fail(
            (),
            t_(
                "not well-formed XML ({problem})",
                problem=exc.msg if hasattr(exc, "msg") else str(exc),
            ),
            t_("fix the XML near line {line}, column {column}", line=line, column=column + 1),
            line=line,
        )
    except defusedxml.DefusedXmlException as exc:
        out.fail(
            (),
            t_(
                "refused to read XML with entity or DTD declarations ({kind})",
                kind=type(exc).__name__,
            ),
            t_("remove the <!DOCTYPE> and <!ENTITY> declarations"),
        )
    return XmlDocument(source, root, builder.lines)


def issue_where(element: ET.Element, base: Where) -> Where:
    """The place of an ``<issue>`` element, named by its index: ``issue[index=3]``."""
    return (*base, f"issue[index={element.get('index', '?')}]")


def attr_number(
    doc: XmlDocument,
    out: Reporter,
    element: ET.Element,
    name: str,
    where: Where,
    *,
    default: float | None = None,
) -> float | None:
    """The number in attribute ``name``; ``default`` when it is absent (``None``: an error).

    A missing attribute without a default, or one that is not a finite number, is
    reported to ``out`` (and gives ``None``).
    """
    raw = element.get(name)
    if raw is None:
        if default is None:
            missing = t_("missing attribute {name}", name=repr(name))
            out.add(where, missing, t_('add {name}="..."', name=name), doc.line(element))
        return default
    value = parse_number(raw)
    if value is None:
        out.add(
            (*where, name),
            t_("{value} is not a number", value=repr(raw)),
            t_("write a plain number"),
            doc.line(element),
        )
    return value


def integral(value: float | None) -> int | None:
    """``value`` as an int when it is a whole number, else ``None``."""
    return int(value) if value is not None and float(value).is_integer() else None


def _bounds(
    doc: XmlDocument, out: Reporter, element: ET.Element, where: Where
) -> tuple[float, float] | None:
    holder = element
    if element.get("lowerbound") is None and element.find("range") is not None:
        holder = element.find("range")  # type: ignore[assignment]
        where = (*where, "range")
    low = attr_number(doc, out, holder, "lowerbound", where)
    high = attr_number(doc, out, holder, "upperbound", where)
    return None if low is None or high is None else (low, high)


def issue_type(element: ET.Element) -> str:
    """An issue's ``type`` (or older ``etype``), lower case; ``discrete`` when absent."""
    return (element.get("type") or element.get("etype") or "discrete").strip().lower()


def _discrete_issue(
    element: ET.Element, ident: int, name: str, *, where: Where, line: int | None, out: Reporter
) -> GeniusIssue | None:
    labels = [item.get("value") for item in element.findall("item")]
    for k, label in enumerate(labels):
        if label is None:
            out.add(
                (*where, "item", k),
                t_("the item has no 'value' attribute"),
                t_('add value="..."'),
                line,
            )
    present = [label for label in labels if label is not None]
    if not present:
        out.add(
            where,
            t_("discrete issue {name} has no <item>", name=repr(name)),
            t_("list its values as <item value=...>"),
            line,
        )
        return None
    if len(set(present)) != len(present):
        twice = t_("issue {name} lists a value twice", name=repr(name))
        out.add(where, twice, t_("remove the duplicate <item>"), line)
        return None
    return GeniusIssue(ident, name, "discrete", labels=tuple(present))


def _numeric_issue(
    doc: XmlDocument,
    element: ET.Element,
    ident: int,
    name: str,
    *,
    integer: bool,
    where: Where,
    out: Reporter,
) -> GeniusIssue | None:
    bounds = _bounds(doc, out, element, where)
    if bounds is None:
        return None
    low, high = bounds
    if integer and (integral(low) is None or integral(high) is None):
        out.add(
            where,
            t_("integer bounds must be whole numbers"),
            t_("fix lowerbound/upperbound"),
            doc.line(element),
        )
        return None
    step = 1.0 if integer or high <= low else (high - low) / REAL_STEPS
    kind: IssueType = "integer" if integer else "real"
    return numeric_issue(ident, name, kind, low, high, step=step, out=out, where=where)


def _identity(
    element: ET.Element,
    where: Where,
    *,
    seen: dict[str, set[object]],
    out: Reporter,
    line: int | None,
) -> tuple[int, str] | None:
    """An issue's index and name, each checked to be there and not used before."""
    ident = integral(parse_number(element.get("index")))
    name = (element.get("name") or "").strip()
    if ident is None:
        out.add(where, t_("the issue has no integer 'index' attribute"), t_('add index="N"'), line)
        return None
    if ident in seen["ids"]:
        twice = t_("issue index {index} is used twice", index=ident)
        out.add(where, twice, t_("give each issue its own index"), line)
        return None
    if not name or name in seen["names"]:
        out.add(
            where,
            t_("the issue has no name")
            if not name
            else t_("issue name {name} is used twice", name=repr(name)),
            t_("give each issue its own name"),
            line,
        )
        return None
    seen["ids"].add(ident)
    seen["names"].add(name)
    return ident, name


def read_domain(doc: XmlDocument) -> tuple[GeniusIssue, ...]:
    """The issues of a ``<negotiation_template>`` domain file, in file order.

    Raises
    ------
    CaseFileErrors
        Missing or duplicate issue indices or names, unknown issue types, bad bounds,
        discrete issues without items.
    """
    out = doc.reporter()
    objective = doc.root.find(".//objective")
    if objective is None:
        out.fail(
            ("utility_space",),
            t_("the domain has no <objective> element"),
            t_("put the <issue> elements inside <utility_space><objective>"),
        )
    base: Where = ("utility_space", "objective")
    issues: list[GeniusIssue] = []
    seen: dict[str, set[object]] = {"ids": set(), "names": set()}
    for element in objective.iter("issue"):
        where = issue_where(element, base)
        line = doc.line(element)
        identity = _identity(element, where, seen=seen, out=out, line=line)
        if identity is None:
            continue
        ident, name = identity
        kind = issue_type(element)
        issue: GeniusIssue | None = None
        if kind == "discrete":
            issue = _discrete_issue(element, ident, name, where=where, line=line, out=out)
        elif kind in ("integer", "real"):
            integer = kind == "integer"
            issue = _numeric_issue(doc, element, ident, name, integer=integer, where=where, out=out)
        else:
            out.add(
                (*where, "type"),
                t_("unknown issue type {kind}", kind=repr(kind)),
                t_("use discrete, integer or real"),
                line,
            )
        if issue is not None:
            issues.append(issue)
    if not issues and not out.errors:
        out.add(base, t_("the domain has no issues"), t_("add <issue> elements"))
    out.check()
    return tuple(issues)


def read_header(doc: XmlDocument, out: Reporter) -> tuple[float, float | None]:
    """The reservation value (absent: 0) and the discount factor (``None``: no discount)."""
    reservation = 0.0
    element = doc.root.find("reservation")
    if element is not None:
        value = attr_number(doc, out, element, "value", ("reservation",))
        reservation = value if value is not None else 0.0
    discount: float | None = None
    element = doc.root.find("discount_factor")
    if element is not None:
        value = attr_number(doc, out, element, "value", ("discount_factor",))
        discount = validate_discount(value) if value is not None else None
    return reservation, discount


def profile_objective(doc: XmlDocument, out: Reporter, contents: str) -> ET.Element:
    """The ``<objective>`` of a profile (``contents`` says what belongs inside it)."""
    objective = doc.root.find("objective")
    if objective is None:
        out.fail((), "the profile has no <objective> element", f"put {contents} inside <objective>")
    return objective


def match_issue(
    doc: XmlDocument,
    out: Reporter,
    element: ET.Element,
    where: Where,
    domain: dict[int, GeniusIssue],
) -> GeniusIssue | None:
    """The domain issue a profile's ``<issue>`` refers to, checked by index, name and type."""
    line = doc.line(element)
    ident = integral(parse_number(element.get("index")))
    issue = domain.get(ident) if ident is not None else None
    known = listing(f"{i.key} ({i.name})" for i in domain.values())
    if issue is None:
        out.add(
            where,
            f"no issue with index {element.get('index')!r} in the domain",
            f"this profile may belong to another domain; the domain's issues are {known}",
            line,
        )
        return None
    name = element.get("name")
    if name is not None and name.strip() != issue.name:
        out.add(
            (*where, "name"),
            f"issue {ident} is called {name!r} here but {issue.name!r} in the domain",
            "this profile may belong to another domain",
            line,
        )
        return None
    kind = issue_type(element)
    if kind != issue.kind:
        out.add(
            (*where, "type"),
            f"issue {issue.name!r} is {kind} here but {issue.kind} in the domain",
            "use the domain's issue type",
            line,
        )
        return None
    return issue
