"""The numeric form of a conflict that every GMCR analysis works on.

A conflict file (see :mod:`backchannel.model.conflict`) is compiled into one
:class:`CompiledConflict`. Analyses never see the file model: they see feasible
states as bit codes and preferences as integer payoffs.

Conventions
-----------
* Option ``j`` (0-based, in the file's option order) is bit ``j`` of a state code:
  bit set means the option is taken ("Y").
* A state's Y/N string has character ``j`` equal to ``"Y"`` when bit ``j`` is set.
* ``states`` holds the feasible states only, sorted ascending, so a state index is
  its position in that array.
* ``payoffs[k, s]`` is decision maker ``k``'s preference for state ``s``: higher is
  more preferred, equal means indifferent. Only the order matters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from numpy.typing import NDArray


class Reversibility(str, Enum):
    """Which way an option may be changed by its decision maker."""

    BOTH = "both"
    FORWARD_ONLY = "forward_only"  # may be taken (N -> Y) but never given up
    BACKWARD_ONLY = "backward_only"  # may be given up (Y -> N) but never taken


@dataclass(frozen=True)
class CompiledConflict:
    """A conflict ready for analysis.

    Attributes
    ----------
    title:
        Human title of the conflict.
    option_ids:
        The options, in file order (bit order).
    dm_ids:
        The decision makers, in file order.
    dm_options:
        For each decision maker, the indices of the options it controls. Every
        option belongs to exactly one decision maker.
    states:
        Feasible state codes, ``uint64``, sorted ascending, shape ``(S,)``.
    payoffs:
        ``int64`` array of shape ``(len(dm_ids), S)``; higher is more preferred.
    reversibility:
        One entry per option.
    status_quo:
        Index into ``states`` of the status quo, or ``None``.
    coalitions:
        Groups of decision-maker indices that move as one (may be empty).
    misperceived:
        Per decision maker, a ``bool`` mask of shape ``(S,)``: states that decision
        maker cannot move to or from. ``None`` means no misperception.
    unranked:
        Per decision maker, an ``int64`` array of shape ``(k, 2)`` of state-index
        pairs whose relative preference is unknown (preference uncertainty), or
        ``None`` when that decision maker's ranking is complete.
    """

    title: str
    option_ids: tuple[str, ...]
    dm_ids: tuple[str, ...]
    dm_options: tuple[tuple[int, ...], ...]
    states: NDArray[np.uint64]
    payoffs: NDArray[np.int64]
    reversibility: tuple[Reversibility, ...]
    status_quo: int | None = None
    coalitions: tuple[tuple[int, ...], ...] = ()
    misperceived: tuple[NDArray[np.bool_] | None, ...] = field(default=())
    unranked: tuple[NDArray[np.int64] | None, ...] = field(default=())

    @property
    def n_states(self) -> int:
        """Number of feasible states."""
        return int(self.states.shape[0])

    def state_string(self, index: int) -> str:
        """The Y/N string of the state at ``index``."""
        code = int(self.states[index])
        return "".join("Y" if code >> j & 1 else "N" for j in range(len(self.option_ids)))

    def state_index(self, text: str) -> int | None:
        """Index of the feasible state with this Y/N string, or ``None``."""
        code = 0
        for j, char in enumerate(text):
            if char == "Y":
                code |= 1 << j
        pos = int(np.searchsorted(self.states, np.uint64(code)))
        if pos < self.n_states and int(self.states[pos]) == code:
            return pos
        return None
