"""Negotiation cases by path: every input a case can come from, every output it can go to.

Inputs (:func:`load_case`, :func:`load_problem`), by :func:`~backchannel.formats.dispatch.kind_of`:

* ``.yaml``/``.yml``/``.json``: a case file (read by
  :mod:`backchannel.formats.documents`, checked by :mod:`backchannel.formats.case_data`), or,
  when the document has none of a case's keys, a GeniusWeb profile;
* ``.xml``: a single Genius file, and a folder: a Genius XML or GeniusWeb domain folder
  (:mod:`backchannel.formats.genius`).

Outputs (:func:`save_case`): a ``.yaml``/``.yml``/``.json`` case file, or any other path
as a folder that receives a Genius XML domain and one profile per delegation.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from backchannel.errors import InputError
from backchannel.formats.case_data import parse_case
from backchannel.formats.case_file import dump_case
from backchannel.formats.dispatch import FileKind, kind_of
from backchannel.formats.documents import read_document
from backchannel.formats.files import write_atomically
from backchannel.formats.genius.export import export_genius
from backchannel.formats.genius.folder import (
    domain_file_issues,
    load_genius_file,
    load_genius_folder,
)
from backchannel.model.case import Case, Issue
from backchannel.model.compile import compile_case
from backchannel.model.conditions import Locator
from backchannel.model.problem import Problem

__all__ = ["AGENDA_INPUTS", "CASE_INPUTS", "load_agenda", "load_case", "load_problem", "save_case"]

CASE_INPUTS = (FileKind.YAML, FileKind.JSON, FileKind.XML, FileKind.FOLDER)
AGENDA_INPUTS = (FileKind.YAML, FileKind.JSON, FileKind.XML)
CASE_KEYS = frozenset({"title", "issues", "parties"})


def _read(path: Path) -> tuple[Case, Locator | None]:
    kind = kind_of(path, CASE_INPUTS)
    if kind is FileKind.FOLDER:
        return load_genius_folder(path), None
    if kind is FileKind.XML:
        return load_genius_file(path), None
    data, locate = read_document(path, json_syntax=kind is FileKind.JSON)
    if isinstance(data, Mapping) and not CASE_KEYS & set(data):
        return load_genius_file(path), None
    return parse_case(data, str(path), locate), locate


def load_case(path: Path) -> Case:
    """Load any supported input as a case: a case file, or a Genius/GeniusWeb domain.

    Raises
    ------
    CaseFileError, CaseFileErrors, InputError
        An unknown kind of path, a file that cannot be read, or problems in its
        content (located).
    """
    return _read(Path(path))[0]


def load_agenda(path: Path) -> list[Issue]:
    """The issues of a single file: a case file, a GeniusWeb profile or a Genius domain
    file (XML or GeniusWeb JSON, which has no parties). Nothing else of it is kept.

    Raises
    ------
    CaseFileError, CaseFileErrors, InputError
        As :func:`load_case`; a Genius XML profile, which needs its domain file, is refused.
    """
    path = Path(path)
    kind_of(path, AGENDA_INPUTS)
    found = domain_file_issues(path)
    return found if found is not None else list(load_case(path).issues)


def load_problem(path: Path) -> tuple[Case, Problem]:
    """Load an input and compile it; every error is located in the file.

    Raises
    ------
    CaseFileError, CaseFileErrors, InputError
        As :func:`load_case`, and every problem the compiler finds.
    """
    case, locate = _read(Path(path))
    return case, compile_case(case, str(path), locate)


def save_case(case: Case, target: Path, *, replace: bool = False) -> list[Path]:
    """Write a case as a case file (``.yaml``/``.yml``/``.json``) or a Genius XML folder.

    Parameters
    ----------
    case:
        A valid case.
    target:
        A case file name, or any other path: a folder for Genius XML (new or empty).
    replace:
        Whether an existing case file may be replaced (a folder must be new or empty).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    InputError
        The target exists and may not be replaced, cannot be written, or is a file
        where a folder is needed; see
        :func:`~backchannel.formats.genius.export.export_genius` for Genius XML.
    """
    target = Path(target)
    kind = kind_of(target, (FileKind.YAML, FileKind.JSON), otherwise=FileKind.FOLDER)
    if kind is FileKind.FOLDER:
        if target.exists() and not target.is_dir():
            raise InputError(
                f"{target}: exists and is not a folder",
                hint="give a .yaml/.json file name or a folder for Genius XML",
            )
        return export_genius(case, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"{target.parent}: cannot create the folder ({error.strerror})") from None
    write_atomically(target, dump_case(case, json_syntax=kind is FileKind.JSON), replace=replace)
    return [target]
