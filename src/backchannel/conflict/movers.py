"""Movers: the decision makers or coalitions that act in a stability analysis.

Without coalitions every decision maker is a mover. With coalitions (Inohara & Hipel
2008, "Coalition analysis in the graph model for conflict resolution", Systems
Engineering 11(4)) each coalition moves as one: it controls the union of its members'
options, it cannot move to or from a state that any member misperceives, and a move is
an improvement for it only if every member strictly gains. Decision makers outside every
coalition stay movers on their own.

A mover's preference is a :class:`Preference`. It is *scalar* when it is one decision
maker's complete ranking: then "better" is a comparison of integer ranks and the
segmented scans of :mod:`backchannel.conflict.segments` apply. Coalitions and decision
makers with unranked pairs (preference uncertainty, Li, Hipel, Kilgour & Fang 2004) have
a non-scalar preference, evaluated pair by pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict.compiled import CompiledConflict, Reversibility
from backchannel.conflict.segments import MoveIndex
from backchannel.errors import InputError

PreferenceMode = Literal["given", "robust", "possible"]
"""How unranked pairs are read: ignored (payoffs as given), or as described in
:mod:`backchannel.conflict.uncertainty`."""


@dataclass(frozen=True)
class Preference:
    """A mover's strict preference "t is better than s" over states.

    Attributes
    ----------
    ranks:
        ``(members, S)`` dense payoff ranks of the members (higher is better).
    unknown:
        Per member, sorted codes ``a * S + b`` of unranked ordered pairs, or ``None``.
    unknown_improves:
        Whether an unranked pair counts as an improvement (both ways) or as a tie.
    """

    ranks: NDArray[np.int64]
    unknown: tuple[NDArray[np.int64] | None, ...]
    unknown_improves: bool

    @property
    def scalar(self) -> bool:
        """True for one member with a complete ranking (no unranked pair)."""
        return self.ranks.shape[0] == 1 and self.unknown[0] is None

    @property
    def key(self) -> NDArray[np.int64]:
        """The rank array of a scalar preference."""
        key: NDArray[np.int64] = self.ranks[0]
        return key

    def better(self, t: NDArray[np.int64], s: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Elementwise: is state ``t[k]`` strictly better than ``s[k]`` for every member."""
        n_states = self.ranks.shape[1]
        result = np.ones(t.shape, dtype=bool)
        for member, unknown in enumerate(self.unknown):
            row = self.ranks[member]
            gain = row[t] > row[s]
            if unknown is not None:
                codes = t * n_states + s
                pos = np.searchsorted(unknown, codes)
                pos[pos == unknown.size] = 0
                hit = unknown[pos] == codes
                gain = np.where(hit, self.unknown_improves, gain)
            result &= gain
        return result


@dataclass(frozen=True)
class Mover:
    """One decision maker or coalition, with its moves and its preference."""

    name: str
    members: tuple[int, ...]
    moves: MoveIndex
    preference: Preference


def _dense_ranks(payoffs: NDArray[np.int64]) -> NDArray[np.int64]:
    return np.unique(payoffs, return_inverse=True)[1].astype(np.int64)


def mover_groups(conflict: CompiledConflict) -> list[tuple[int, ...]]:
    """The movers' member lists: the coalitions, then every other DM alone, in DM order.

    Raises
    ------
    InputError
        If a coalition names an unknown DM or two coalitions share a DM.
    """
    n_dms = len(conflict.dm_ids)
    seen: set[int] = set()
    for group in conflict.coalitions:
        for dm in group:
            if not 0 <= dm < n_dms:
                raise InputError(f"coalition {list(group)} names no decision maker {dm}")
            if dm in seen:
                raise InputError(f"decision maker {conflict.dm_ids[dm]!r} is in two coalitions")
            seen.add(dm)
    groups = [tuple(sorted(group)) for group in conflict.coalitions if group]
    groups += [(dm,) for dm in range(n_dms) if dm not in seen]
    return sorted(groups, key=lambda group: group[0])


def _unknown_codes(conflict: CompiledConflict, dm: int) -> NDArray[np.int64] | None:
    if dm >= len(conflict.unranked):
        return None
    pairs = conflict.unranked[dm]
    if pairs is None or pairs.size == 0:
        return None
    n_states = conflict.n_states
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if pairs.min() < 0 or pairs.max() >= n_states:
        raise InputError(f"unranked pair of {conflict.dm_ids[dm]!r} names no feasible state")
    codes = np.concatenate(
        [pairs[:, 0] * n_states + pairs[:, 1], pairs[:, 1] * n_states + pairs[:, 0]]
    )
    return np.unique(codes)


def build_movers(
    conflict: CompiledConflict, mode: PreferenceMode, focal: int | None
) -> list[Mover]:
    """Compile the movers of ``conflict``.

    Parameters
    ----------
    conflict:
        The compiled conflict.
    mode:
        ``"given"`` ignores unranked pairs; ``"possible"`` reads them as ties for every
        mover; ``"robust"`` reads them as improvements for the mover at index ``focal``
        and as ties for every other mover.
    focal:
        The focal mover for ``"robust"``.
    """
    n_states = conflict.n_states
    ranks = np.stack([_dense_ranks(row) for row in conflict.payoffs]).astype(np.int64)
    reversibility = conflict.reversibility
    movers: list[Mover] = []
    for index, group in enumerate(mover_groups(conflict)):
        option_mask = forward = backward = 0
        blocked = np.zeros(n_states, dtype=bool)
        for dm in group:
            for option in conflict.dm_options[dm]:
                option_mask |= 1 << option
                if reversibility[option] is Reversibility.FORWARD_ONLY:
                    forward |= 1 << option
                elif reversibility[option] is Reversibility.BACKWARD_ONLY:
                    backward |= 1 << option
            if dm < len(conflict.misperceived) and conflict.misperceived[dm] is not None:
                mask = np.asarray(conflict.misperceived[dm], dtype=bool)
                if mask.shape != (n_states,):
                    raise InputError(
                        f"misperception mask of {conflict.dm_ids[dm]!r} has wrong size"
                    )
                blocked |= mask
        unknown = tuple(None if mode == "given" else _unknown_codes(conflict, dm) for dm in group)
        member_ranks = ranks[list(group)] if len(group) > 1 else ranks[group[0]][None, :]
        preference = Preference(
            ranks=member_ranks,
            unknown=unknown,
            unknown_improves=mode == "robust" and index == focal,
        )
        movers.append(
            Mover(
                name="+".join(conflict.dm_ids[dm] for dm in group),
                members=group,
                moves=MoveIndex(
                    conflict.states,
                    option_mask,
                    forward,
                    backward,
                    blocked,
                    preference.key if preference.scalar else None,
                ),
                preference=preference,
            )
        )
    return movers
