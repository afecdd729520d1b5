"""Genius / GeniusWeb negotiation domains as Backchannel cases.

A Genius *domain folder* holds one domain file and one profile per party; it becomes
one :class:`~backchannel.model.case.Case` whose weights are used as written
(``weighting: as_written``), so that every package gets exactly the utility Genius
10.4 gives it. File roles are found from the content, never from the names:

* XML whose root is ``<negotiation_template>``: the domain
  (:mod:`backchannel.formats.genius.xml_domain`);
* XML whose root is ``<utility_space>``: a profile, additive or ``type="nonlinear"``
  (:mod:`backchannel.formats.genius.rectangles`); ``type="constraint"`` is refused;
* JSON with ``issuesValues``: a GeniusWeb domain; JSON with one
  ``LinearAdditiveUtilitySpace`` key: a GeniusWeb profile
  (:mod:`backchannel.formats.genius.geniusweb`);
* text whose lines are comma-separated numbers (Genius' ``pareto.xml``): the
  precomputed Pareto frontier, kept in ``metadata["reference_frontier"]``;
* anything else is ignored (and listed in ``metadata["ignored_files"]``).

Parties are named after their profile's file stem, in file-name order. Export back to
Genius XML is :func:`export_genius` (:mod:`backchannel.formats.genius.export`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backchannel.errors import CaseFileError, CaseFileErrors, InputError, listing
from backchannel.formats.dispatch import FileKind, file_kind
from backchannel.formats.documents import parse_document
from backchannel.formats.files import BOM, MAX_FILE_BYTES, decode_text, read_bytes
from backchannel.formats.genius.additive import read_additive_profile
from backchannel.formats.genius.common import GeniusIssue, ImportedProfile, Reporter, parse_number
from backchannel.formats.genius.geniusweb import is_domain, profile_type
from backchannel.formats.genius.geniusweb import read_domain as read_web_domain
from backchannel.formats.genius.geniusweb import read_profile as read_web_profile
from backchannel.formats.genius.rectangles import read_nonlinear_profile
from backchannel.formats.genius.xml_domain import (
    XmlDocument,
    declared_encoding,
    parse_xml,
    read_domain,
)
from backchannel.messages import t_
from backchannel.model.case import Case, Issue, Weighting

__all__ = [
    "MAX_FOLDER_FILES",
    "domain_file_issues",
    "is_genius_folder",
    "load_genius_file",
    "load_genius_folder",
]

MAX_FOLDER_FILES = 1_000
"""The most files a domain folder may hold; together they hold at most
:data:`~backchannel.formats.files.MAX_FILE_BYTES`, as one file may."""

ADDITIVE_TYPES = ("", "linear", "additive")


@dataclass
class _File:
    path: Path
    role: str  # xml-domain, xml-profile, web-domain, web-profile, frontier, other
    content: Any = None


@dataclass
class _Folder:
    files: list[_File] = field(default_factory=list)

    def role(self, *roles: str) -> list[_File]:
        return [f for f in self.files if f.role in roles]


def _frontier(text: str, source: str) -> list[list[float]] | None:
    rows = [(k + 1, line) for k, line in enumerate(text.splitlines()) if line.strip()]
    if not rows:
        return None
    pairs: list[list[float]] = []
    for number, line in rows:
        values = [parse_number(cell) for cell in line.split(",")]
        if len(values) < 2 or any(v is None for v in values):
            if not pairs:
                return None  # not a frontier file at all
            Reporter(source).fail(
                ("frontier", len(pairs)),
                f"line {line.strip()!r} is not a list of numbers",
                "write one point per line: u1, u2",
                line=number,
            )
        pairs.append([float(v) for v in values if v is not None])
    return pairs


def _text(data: bytes, source: str, encoding: str = "utf-8") -> str:
    try:
        return decode_text(data, source, encoding=encoding)
    except CaseFileError as error:
        raise CaseFileErrors([error]) from None


def _classify(path: Path) -> _File:
    data = read_bytes(path)
    head = data.removeprefix(BOM).lstrip(b" \t\r\n")
    source = str(path)
    if head.startswith(b"<"):
        doc = parse_xml(_text(data, source, declared_encoding(data)), source)
        tag = doc.root.tag
        role = {"negotiation_template": "xml-domain", "utility_space": "xml-profile"}.get(
            tag, "other"
        )
        return _File(path, role, doc)
    if head.startswith(b"{"):
        obj, _ = parse_document(_text(data, source), source, json_syntax=True)
        if is_domain(obj):
            return _File(path, "web-domain", obj)
        return _File(path, "web-profile" if profile_type(obj) else "other", obj)
    try:
        text = decode_text(data, source)
    except CaseFileError:
        return _File(path, "other")  # not text: neither a domain, a profile nor a frontier
    pairs = _frontier(text, source)
    return _File(path, "frontier", pairs) if pairs is not None else _File(path, "other")


def _scan(folder: Path) -> _Folder:
    if not folder.is_dir():
        raise InputError(
            f"{folder}: not a folder", hint="give the folder that holds the domain and profiles"
        )
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    hint = "give the folder that holds only the domain, its profiles and a frontier"
    if len(files) > MAX_FOLDER_FILES:
        raise InputError(
            f"{folder}: {len(files):,} files, more than {MAX_FOLDER_FILES:,}", hint=hint
        )
    total = sum(p.stat().st_size for p in files)
    if total > MAX_FILE_BYTES:
        raise InputError(
            f"{folder}: its files hold {total:,} bytes, more than {MAX_FILE_BYTES:,}", hint=hint
        )
    return _Folder([_classify(p) for p in files])


def _xml_profile(doc: XmlDocument, party: str, domain: tuple[GeniusIssue, ...]) -> ImportedProfile:
    kind = (doc.root.get("type") or "").strip().lower()
    if kind in ADDITIVE_TYPES:
        return read_additive_profile(doc, party, domain)
    if kind == "nonlinear":
        return read_nonlinear_profile(doc, party, domain)
    if kind == "constraint":
        raise InputError(
            f"{doc.source}: constraint profiles (<utility_space type='constraint'>) "
            "are not supported yet",
            hint="state such constraints as red lines in a Backchannel case file",
        )
    Reporter(doc.source).fail(
        ("type",), f"unknown profile type {kind!r}", "use an additive or nonlinear profile"
    )


def _case(
    title: str,
    issues: tuple[GeniusIssue, ...],
    profiles: list[tuple[Path, ImportedProfile]],
    metadata: dict[str, Any],
) -> Case:
    names = [profile.party.name for _, profile in profiles]
    for name in names:
        if names.count(name) > 1:
            clash = [p.name for p, prof in profiles if prof.party.name == name]
            raise InputError(
                f"two profiles give the party name {name!r}: {listing(clash)}",
                hint="rename one of the files",
            )
    metadata["profile_files"] = {prof.party.name: path.name for path, prof in profiles}
    discounts = {
        prof.party.name: prof.discount for _, prof in profiles if prof.discount is not None
    }
    if discounts:
        metadata["discount"] = discounts
    for key in sorted({k for _, prof in profiles for k in prof.extra}):
        metadata[key] = {
            prof.party.name: prof.extra[key] for _, prof in profiles if key in prof.extra
        }
    return Case(
        title=title,
        description=f"Imported from {metadata['format']} ({metadata['domain_file']}).",
        sources=[metadata["domain_file"], *metadata["profile_files"].values()],
        weighting=Weighting.AS_WRITTEN,
        issues=[issue.to_case_issue() for issue in issues],
        parties=[prof.party for _, prof in profiles],
        metadata=metadata,
    )


def load_genius_folder(path: Path) -> Case:
    """Load a Genius XML or GeniusWeb JSON domain folder as one case.

    Parameters
    ----------
    path:
        The folder holding the domain file and every party's profile.

    Returns
    -------
    Case
        One issue per domain issue, one delegation per profile (named after the file
        stem, in file-name order), ``weighting: as_written``; ``metadata`` holds the
        format, file names, Genius issue IDs, discount factors and the reference
        frontier when the folder has one.

    Raises
    ------
    InputError
        Not a folder, no domain or several, no profile, an unsupported profile type;
        :class:`~backchannel.errors.CaseFileErrors` (located) for bad file content.
    """
    folder = _scan(Path(path))
    domains = folder.role("xml-domain", "web-domain")
    if len(domains) > 1:
        raise InputError(
            f"{path}: several domain files: {listing(f.path.name for f in domains)}",
            hint="keep one domain per folder",
        )
    xml_profiles, web_profiles = folder.role("xml-profile"), folder.role("web-profile")
    if not xml_profiles and not web_profiles:
        raise InputError(
            f"{path}: no Genius profile found",
            hint="a profile is an XML <utility_space> or a GeniusWeb LinearAdditiveUtilitySpace",
        )
    metadata: dict[str, Any] = {}
    frontiers = folder.role("frontier")
    if len(frontiers) > 1:
        raise InputError(
            f"{path}: several frontier files: {listing(f.path.name for f in frontiers)}"
        )
    if frontiers:
        metadata["reference_frontier"] = frontiers[0].content
        metadata["reference_frontier_file"] = frontiers[0].path.name
    ignored = [f.path.name for f in folder.role("other")]
    if ignored:
        metadata["ignored_files"] = ignored
    if (domains and domains[0].role == "xml-domain") or (not domains and not web_profiles):
        if not domains:
            raise InputError(
                f"{path}: no Genius domain file (<negotiation_template>) found",
                hint="add the domain XML file next to the profiles",
            )
        if web_profiles:
            raise InputError(
                f"{web_profiles[0].path}: a GeniusWeb profile next to a Genius XML domain",
                hint="keep one format per folder",
            )
        doc: XmlDocument = domains[0].content
        issues = read_domain(doc)
        metadata.update(
            format="Genius XML",
            domain_file=domains[0].path.name,
            issue_ids={i.name: i.key for i in issues},
        )
        profiles = [(f.path, _xml_profile(f.content, f.path.stem, issues)) for f in xml_profiles]
        return _case(Path(path).resolve().name, issues, profiles, metadata)
    if xml_profiles:
        raise InputError(
            f"{xml_profiles[0].path}: a Genius XML profile next to a GeniusWeb domain",
            hint="keep one format per folder",
        )
    domain: tuple[GeniusIssue, ...] | None = None
    title = Path(path).resolve().name
    if domains:
        domain = read_web_domain(domains[0].content, Reporter(str(domains[0].path)))
        title = str(domains[0].content.get("name") or title)
        metadata.update(domain_file=domains[0].path.name)
    web: list[tuple[Path, ImportedProfile]] = []
    for f in web_profiles:
        profile, embedded = read_web_profile(f.content, str(f.path), f.path.stem, domain)
        domain = domain or embedded
        web.append((f.path, profile))
    assert domain is not None
    metadata.setdefault("domain_file", web_profiles[0].path.name)
    metadata["format"] = "GeniusWeb JSON"
    return _case(title, domain, web, metadata)


def load_genius_file(path: Path) -> Case:
    """Load a single Genius file: a GeniusWeb profile, which embeds its domain.

    A domain file alone (Genius XML or GeniusWeb) has no parties, and a Genius XML
    profile needs its domain file: both are refused with a hint to pass the folder.

    Raises
    ------
    InputError
        The file is a domain, a Genius XML profile, or not a Genius file.
    """
    path = Path(path)
    if path.is_dir():
        return load_genius_folder(path)
    found = _classify(path)
    if found.role in ("xml-domain", "web-domain"):
        raise InputError(
            t_("{path}: this is a domain file with no profiles", path=str(path)),
            hint=t_(
                "pass the folder that holds it and its profiles: {folder}", folder=str(path.parent)
            ),
        )
    if found.role == "xml-profile":
        raise InputError(
            t_("{path}: a Genius XML profile needs its domain file", path=str(path)),
            hint=t_("pass the folder that holds both: {folder}", folder=str(path.parent)),
        )
    if found.role != "web-profile":
        raise InputError(
            t_("{path}: not a Genius or GeniusWeb file", path=str(path)),
            hint=t_("give a domain folder, or a GeniusWeb profile JSON"),
        )
    profile, domain = read_web_profile(found.content, str(path), path.stem, None)
    metadata: dict[str, Any] = {"format": "GeniusWeb JSON", "domain_file": path.name}
    return _case(path.stem, domain, [(path, profile)], metadata)


def domain_file_issues(path: Path) -> list[Issue] | None:
    """The issues of a single Genius domain file (XML or GeniusWeb JSON), in file order;
    None when the file is not a domain file. Only the agenda: a domain has no parties.

    Raises
    ------
    CaseFileErrors
        The file looks like a domain but its issues cannot be read (located).
    """
    found = _classify(Path(path))
    if found.role == "xml-domain":
        issues = read_domain(found.content)
    elif found.role == "web-domain":
        out = Reporter(str(path))
        issues = read_web_domain(found.content, out)
        out.check()
    else:
        return None
    return [i.to_case_issue() for i in issues]


def is_genius_folder(path: Path) -> bool:
    """Whether ``path`` is a folder holding a Genius XML or GeniusWeb domain file.

    Never raises: unreadable or malformed files count as "not a domain file".
    """
    folder = Path(path)
    if not folder.is_dir():
        return False
    for candidate in sorted(folder.iterdir()):
        if not candidate.is_file() or file_kind(candidate) not in (FileKind.XML, FileKind.JSON):
            continue
        try:
            if _classify(candidate).role in ("xml-domain", "web-domain"):
                return True
        except InputError:
            continue
    return False
