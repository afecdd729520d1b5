"""The bitmap container of a conflict analysis: a NumPy ``.npz`` file (a ZIP of ``.npy``
arrays, no pickled objects), described in ``docs/reference/bitmap.md``.

The arrays themselves are assembled by :mod:`backchannel.conflict.bitmaps`; this module
only writes them, atomically. Read one with ``numpy.load(path, allow_pickle=False)``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from backchannel.formats.dispatch import FileKind, kind_of
from backchannel.formats.files import write_atomically


def write_bitmaps(
    path: Path, arrays: Mapping[str, NDArray[np.generic]], *, replace: bool = False
) -> int:
    """Write ``arrays`` as an uncompressed ``.npz`` file, whole or not at all.

    Returns the number of bytes written. An existing file is replaced only with
    ``replace``.

    Raises
    ------
    CaseFileError
        ``path`` does not end in ``.npz``.
    InputError
        The file exists and may not be replaced, or cannot be written.
    """
    kind_of(path, (FileKind.NPZ,))
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    data = buffer.getvalue()
    write_atomically(path, data, replace=replace)
    return len(data)
