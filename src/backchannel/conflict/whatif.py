"""What-if variants of a compiled conflict: an option switched off, or made irreversible.

Both act on the compiled form, so they work whatever the preferences were written as
(statements or an explicit ranking): the preferences between the states that remain are
the original ones.

* **Switched off** (:func:`without_options`): the option can no longer be taken; every
  state in which it is taken is removed, as an infeasibility rule ``{option: true}`` would
  remove it (Fang, Hipel & Kilgour 1993, §2.3: infeasible states are left out of the
  graph). Payoffs, misperceptions and unranked pairs are restricted to the states left.
* **Irreversible** (:func:`made_irreversible`): the option may be taken but never given
  up (``forward_only``), as in the conflict file's ``reversibility``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict.compiled_conflict import CompiledConflict, Reversibility
from backchannel.errors import AnalysisError

__all__ = ["made_irreversible", "without_options"]


def _bits(conflict: CompiledConflict, options: Sequence[str]) -> list[int]:
    unknown = [o for o in options if o not in conflict.option_ids]
    if unknown:
        raise AnalysisError(f"unknown option {unknown[0]!r}")
    return [conflict.option_ids.index(o) for o in options]


def without_options(conflict: CompiledConflict, options: Sequence[str]) -> CompiledConflict:
    """The conflict with ``options`` never taken (their states removed).

    The status quo becomes ``None`` when it takes one of them.

    Raises
    ------
    AnalysisError
        An unknown option, or no state is left.
    """
    mask = 0
    for j in _bits(conflict, options):
        mask |= 1 << j
    keep = (conflict.states & np.uint64(mask)) == 0
    if not keep.any():
        raise AnalysisError("switching these options off leaves no feasible state")
    new_index = np.cumsum(keep) - 1  # old index -> new index (where kept)
    status_quo = conflict.status_quo
    if status_quo is not None:
        status_quo = int(new_index[status_quo]) if keep[status_quo] else None
    misperceived = tuple(None if m is None else m[keep] for m in conflict.misperceived)
    unranked: list[NDArray[np.int64] | None] = []
    for pairs in conflict.unranked:
        if pairs is None:
            unranked.append(None)
            continue
        both = keep[pairs[:, 0]] & keep[pairs[:, 1]]
        unranked.append(new_index[pairs[both]].astype(np.int64).reshape(-1, 2))
    return replace(
        conflict,
        states=conflict.states[keep],
        payoffs=conflict.payoffs[:, keep],
        status_quo=status_quo,
        misperceived=misperceived,
        unranked=tuple(unranked),
    )


def made_irreversible(conflict: CompiledConflict, options: Sequence[str]) -> CompiledConflict:
    """The conflict with ``options`` irreversible (taken, never given up).

    Raises
    ------
    AnalysisError
        An unknown option.
    """
    chosen = set(_bits(conflict, options))
    reversibility = tuple(
        Reversibility.FORWARD_ONLY if j in chosen else r
        for j, r in enumerate(conflict.reversibility)
    )
    return replace(conflict, reversibility=reversibility)
