"""States as Y/N text, many at once.

A state's Y/N string has character ``j`` equal to ``"Y"`` when option ``j`` is taken
(see :mod:`backchannel.conflict.compiled_conflict`). Writing millions of states one
Python call at a time costs more than the analysis that found them, so the letters
are built here for a whole block of states with NumPy, and a long list of states is
kept as a selection (:class:`StateList`) that turns into text only block by block as
it is printed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict.compiled_conflict import CompiledConflict

BLOCK = 1 << 16
"""States turned into text at a time (a few MB of letters)."""

_BYTE_LETTERS = np.where(
    (np.arange(256, dtype=np.uint16)[:, None] >> np.arange(8, dtype=np.uint16)) & 1,
    np.uint8(ord("Y")),
    np.uint8(ord("N")),
).astype(np.uint8)
"""The eight letters of every byte of a state code, lowest bit first: shape ``(256, 8)``."""


def state_letters(conflict: CompiledConflict, indices: NDArray[np.int64]) -> NDArray[np.uint8]:
    """The Y/N letters of the states at ``indices``, as ASCII codes of shape ``(k, m)``.

    Row ``r`` is the Y/N string of state ``indices[r]``: ``state_letters(c, i)[r].tobytes()``
    equals ``c.state_string(i[r])`` encoded as ASCII. Each byte of a code is looked up
    in a table of its eight letters.
    """
    width = len(conflict.option_ids)
    used = (width + 7) // 8
    codes = conflict.states[indices].astype("<u8")  # little-endian: byte b holds bits 8b..
    octets = codes.view(np.uint8).reshape(codes.size, 8)[:, :used]
    return _BYTE_LETTERS[octets].reshape(codes.size, used * 8)[:, :width]


def state_strings(
    conflict: CompiledConflict, indices: NDArray[np.int64] | Sequence[int]
) -> list[str]:
    """The Y/N strings of the states at ``indices``, in that order."""
    letters = state_letters(conflict, np.asarray(indices, dtype=np.int64))
    words = np.ascontiguousarray(letters).view(f"S{letters.shape[1]}").ravel()
    return [str(word) for word in words.astype(f"U{letters.shape[1]}").tolist()]


@dataclass(frozen=True)
class StateList:
    """A list of states, written as Y/N strings only when printed.

    Attributes
    ----------
    conflict:
        The conflict the states belong to.
    selection:
        Either sorted state indices (``int64``) or a ``bool`` mask over every state
        (shape ``(S,)``: the states where it is true, in index order).
    """

    conflict: CompiledConflict
    selection: NDArray[np.int64] | NDArray[np.bool_]

    @classmethod
    def every(cls, conflict: CompiledConflict) -> StateList:
        """Every state of ``conflict``, in index order."""
        return cls(conflict, np.ones(conflict.n_states, dtype=np.bool_))

    def __len__(self) -> int:
        if self.selection.dtype == np.bool_:
            return int(np.count_nonzero(self.selection))
        return int(self.selection.size)

    def blocks(self) -> Iterator[NDArray[np.int64]]:
        """The selected indices, at most :data:`BLOCK` states per block (mask: per span)."""
        if self.selection.dtype == np.bool_:
            for start in range(0, self.selection.size, BLOCK):
                found = np.flatnonzero(self.selection[start : start + BLOCK])
                if found.size:
                    yield found.astype(np.int64) + start
            return
        for start in range(0, self.selection.size, BLOCK):
            yield self.selection[start : start + BLOCK].astype(np.int64)

    def __iter__(self) -> Iterator[str]:
        for block in self.blocks():
            yield from state_strings(self.conflict, block)

    def json_chunks(self, level: int, step: str, ensure_ascii: bool) -> Iterator[str]:
        """This list as a JSON array, laid out as ``json.dumps(..., indent=step)`` would
        lay it out ``level`` levels deep (see :mod:`backchannel.formats.json_stream`);
        the states are ASCII either way."""
        if not len(self):
            yield "[]"
            return
        inner = ("\n" + step * (level + 1)).encode("ascii")
        width = len(self.conflict.option_ids)
        head = np.frombuffer(b"," + inner + b'"', dtype=np.uint8)
        first = True
        for block in self.blocks():
            rows = np.empty((block.size, head.size + width + 1), dtype=np.uint8)
            rows[:, : head.size] = head
            rows[:, head.size : head.size + width] = state_letters(self.conflict, block)
            rows[:, -1] = ord('"')
            text = rows.tobytes().decode("ascii")
            yield "[" + text[1:] if first else text
            first = False
        yield "\n" + step * level + "]"
