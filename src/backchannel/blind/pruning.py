"""Public pruning: the options no admissible package can take, known to every party.

An absent stakeholder's stated red lines travel in the session document to every node: an
option one of its single-issue red lines forbids is in no admissible package, so the
findings that enumerate the packages of the whole agenda (``exists``, ``nash``, ``random``)
enumerate only the options left. Every node, and the coordinating server before it asks
them, derives the same options from the same public agenda.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backchannel.blind.plan import Kept
from backchannel.model.case import Case
from backchannel.model.compile import compile_absent_red_lines, compile_agenda
from backchannel.solvers.scoring import constraint_masks


def pruning(sizes: tuple[int, ...], allowed: list[NDArray[np.bool_]]) -> Kept:
    """The options to enumerate, per issue, given those public red lines leave ``allowed``.

    Empty (no pruning) when nothing is pruned, or when an issue would keep no option (no
    package is admissible then, which the computation finds as it would have).
    """
    kept = tuple(tuple(int(o) for o in np.flatnonzero(mask)) for mask in allowed)
    if all(len(k) == size for k, size in zip(kept, sizes, strict=True)) or not all(kept):
        return ()
    return kept


def public_pruning(case: Case, source: str = "<case>") -> Kept:
    """The options to enumerate, per issue, after the red lines that every side knows: the
    stated single-issue red lines of the case's absent stakeholders (:func:`pruning`)."""
    sizes = tuple(issue.size for issue in compile_agenda(case, source))
    return pruning(sizes, constraint_masks(sizes, compile_absent_red_lines(case, source)))
