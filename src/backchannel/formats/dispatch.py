"""The one place that tells a file's format from its path.

A folder that exists is a :attr:`FileKind.FOLDER` (a Genius domain folder); a file's
kind is given by its suffix, whatever its case. What a kind means depends on what is
read: ``.yaml`` is a case file to :mod:`backchannel.formats.cases` and a conflict file
to :mod:`backchannel.formats.conflicts`. Contents are never guessed from names beyond
this; the Genius readers look inside the files (:mod:`backchannel.formats.genius`).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from pathlib import Path

from backchannel.errors import CaseFileError
from backchannel.messages import Message, t_

__all__ = ["FileKind", "file_kind", "kind_of"]


class FileKind(str, Enum):
    """The formats Backchannel reads or writes, as named by a path."""

    YAML = "yaml"
    JSON = "json"
    XML = "xml"
    GMCR = "gmcr"
    SVG = "svg"
    NPZ = "npz"
    FOLDER = "folder"


_SUFFIXES: dict[str, FileKind] = {
    ".yaml": FileKind.YAML,
    ".yml": FileKind.YAML,
    ".json": FileKind.JSON,
    ".xml": FileKind.XML,
    ".gmcr": FileKind.GMCR,
    ".svg": FileKind.SVG,
    ".npz": FileKind.NPZ,
}


def file_kind(path: Path) -> FileKind | None:
    """The kind a path names: an existing folder, else the file's suffix (``None``: unknown)."""
    if path.is_dir():
        return FileKind.FOLDER
    return _SUFFIXES.get(path.suffix.lower())


def _accepted(kinds: Sequence[FileKind]) -> Message:
    names = ", ".join(suffix for suffix, kind in _SUFFIXES.items() if kind in kinds)
    if FileKind.FOLDER in kinds:
        return t_("use {kinds}, a folder", kinds=names)
    return t_("use {kinds}", kinds=names)


def kind_of(
    path: Path, accepted: Sequence[FileKind], *, otherwise: FileKind | None = None
) -> FileKind:
    """The kind of ``path``, which must be one of ``accepted``.

    Parameters
    ----------
    path:
        A file or folder to read, or one to write.
    accepted:
        The kinds the caller can handle.
    otherwise:
        The kind to assume for any other path (for an output: a Genius folder).

    Raises
    ------
    CaseFileError
        The path is of none of the accepted kinds and there is no ``otherwise``.
    """
    kind = file_kind(path)
    if kind in accepted:
        assert kind is not None
        return kind
    if otherwise is not None:
        return otherwise
    if kind is None and not path.suffix and not path.exists():
        raise CaseFileError(str(path), (), t_("no such file or folder"), hint=t_("check the path"))
    problem = (
        t_("a folder, not a file")
        if kind is FileKind.FOLDER
        else t_("unknown file type {suffix}", suffix=repr(path.suffix or "(none)"))
    )
    raise CaseFileError(str(path), (), problem, hint=_accepted(accepted))
