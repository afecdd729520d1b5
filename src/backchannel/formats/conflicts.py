"""Conflict files by path: YAML, JSON or GMCR+ ``.gmcr``, read and written.

The format is given by the path (:func:`~backchannel.formats.dispatch.kind_of`);
YAML and JSON are read and written by :mod:`backchannel.formats.conflict_file`,
``.gmcr`` by :mod:`backchannel.formats.gmcr`. Checking and compiling a conflict is the
conflict engine's work (:mod:`backchannel.conflict.compile`); the services combine the
two.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from backchannel.errors import AnalysisError, CaseFileError
from backchannel.formats.conflict_file import dump_conflict, read_conflict_text
from backchannel.formats.dispatch import FileKind, kind_of
from backchannel.formats.files import read_text, write_atomically
from backchannel.formats.gmcr import Enumerator, NotExpressible, read_gmcr_text, write_gmcr
from backchannel.model.conflict import ConflictFile

__all__ = ["CONFLICT_FILES", "conflict_kind", "read_conflict", "write_conflict"]

CONFLICT_FILES = (FileKind.YAML, FileKind.JSON, FileKind.GMCR)


def conflict_kind(path: Path) -> FileKind:
    """The format of a conflict file path.

    Raises
    ------
    CaseFileError
        The path is not a ``.yaml``, ``.yml``, ``.json`` or ``.gmcr`` file.
    """
    return kind_of(Path(path), CONFLICT_FILES)


def read_conflict(path: Path, *, enumerate_states: Enumerator) -> ConflictFile:
    """Read a conflict file (``.yaml``, ``.yml``, ``.json`` or GMCR+ ``.gmcr``).

    Parameters
    ----------
    path:
        The file; its suffix gives the format.
    enumerate_states:
        The feasible states of a conflict, which a ``.gmcr`` ranking numbers.

    Raises
    ------
    CaseFileError, CaseFileErrors
        An unknown suffix, a file that cannot be read or is not text, or problems in
        its content (located).
    """
    kind = conflict_kind(path)
    source = str(path)
    text = read_text(Path(path))
    if kind is FileKind.GMCR:
        try:
            return read_gmcr_text(text, source, enumerate_states)
        except AnalysisError as exc:
            raise CaseFileError(source, ("infeasibles",), exc.text) from None
    return read_conflict_text(text, source, "json" if kind is FileKind.JSON else "yaml")


def write_conflict(
    model: ConflictFile,
    path: Path,
    *,
    rankings: Sequence[Sequence[Sequence[int]]] | None = None,
    source: str = "(conflict)",
    replace: bool = False,
) -> None:
    """Write a conflict file, whole or not at all.

    Parameters
    ----------
    model:
        A checked conflict file model.
    path:
        The file to write; its suffix gives the format.
    rankings:
        For ``.gmcr`` only: the rankings to write as ``preferenceRanking`` (see
        :func:`~backchannel.formats.gmcr.write_gmcr`).
    source:
        Where the model was read from, named in its errors.
    replace:
        Whether an existing file at ``path`` may be replaced.

    Raises
    ------
    CaseFileError
        An unknown suffix, or a statement too large for ``.gmcr`` (located in
        ``source``).
    InputError
        The file exists and may not be replaced, or cannot be written.
    """
    kind = conflict_kind(path)
    if kind is FileKind.GMCR:
        try:
            text = write_gmcr(model, rankings)
        except NotExpressible as exc:
            raise CaseFileError(
                source,
                exc.path,
                str(exc),
                hint="split the statement into smaller ones",
                line=model.line_of(exc.path),
            ) from None
    else:
        text = dump_conflict(model, "json" if kind is FileKind.JSON else "yaml")
    write_atomically(Path(path), text, replace=replace)
