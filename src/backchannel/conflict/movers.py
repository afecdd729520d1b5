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

from backchannel.conflict.compiled_conflict import CompiledConflict, Reversibility
from backchannel.conflict.segments import MoveIndex
from backchannel.errors import InputError

PreferenceMode = Literal["given", "robust", "possible"]
"""How :func:`~backchannel.conflict.analysis.analyze` reads unranked pairs: ignored
(payoffs as given), or robust / possible stability as described in
:mod:`backchannel.conflict.uncertainty`."""

Reading = Literal["given", "tie", "robust", "optimistic"]
"""How a :class:`~backchannel.conflict.reachability.Game` reads unranked pairs.

* ``"given"``: ignored (the payoffs decide every pair);
* ``"tie"``: no unranked pair is an improvement, for any mover (one completion);
* ``"robust"``: an unranked pair improves both ways for the focal mover and is a tie for
  every other mover (the least favourable reading for the focal mover's stability);
* ``"optimistic"``: a tie for the focal mover and an improvement both ways for every
  other mover (every mover when there is no focal mover): the most favourable reading,
  an upper bound for possible stability.

The last two are not completions (a completion orients a pair one way); see
:mod:`backchannel.conflict.uncertainty` for how they are used.
"""

Completion = tuple[NDArray[np.int64] | None, ...]
"""An explicit completion of the unranked pairs: per decision maker, rows ``(t, s)``
meaning "t is better than s"; each row must be one of that decision maker's unranked
pairs, and every unranked pair not listed either way is a tie."""


@dataclass(frozen=True)
class Preference:
    """A mover's strict preference "t is better than s" over states.

    Attributes
    ----------
    ranks:
        ``(members, S)`` dense payoff ranks of the members (higher is better).
    unknown:
        Per member, sorted codes ``t * S + s`` of the unranked ordered pairs (both
        orders of every pair), or ``None``.
    unknown_better:
        Per member, aligned with ``unknown``: whether that member counts ``t`` better
        than ``s`` for the code ``t * S + s`` (instead of comparing payoffs).
    """

    ranks: NDArray[np.int64]
    unknown: tuple[NDArray[np.int64] | None, ...]
    unknown_better: tuple[NDArray[np.bool_] | None, ...]

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
            values = self.unknown_better[member]
            if unknown is not None and values is not None:
                codes = t * n_states + s
                pos = np.searchsorted(unknown, codes)
                pos[pos == unknown.size] = 0
                hit = unknown[pos] == codes
                gain = np.where(hit, values[pos], gain)
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


def has_unranked(conflict: CompiledConflict) -> bool:
    """Whether some decision maker leaves a pair of states unranked."""
    return any(pairs is not None and np.size(pairs) > 0 for pairs in conflict.unranked)


def unranked_pairs(conflict: CompiledConflict, dm: int) -> NDArray[np.int64]:
    """The distinct unranked pairs of ``dm`` as rows ``(a, b)`` with ``a < b``.

    Raises
    ------
    InputError
        If a pair names no feasible state or the same state twice.
    """
    if dm >= len(conflict.unranked) or conflict.unranked[dm] is None:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.asarray(conflict.unranked[dm], dtype=np.int64).reshape(-1, 2)
    if pairs.size == 0:
        return pairs
    if pairs.min() < 0 or pairs.max() >= conflict.n_states:
        raise InputError(f"unranked pair of {conflict.dm_ids[dm]!r} names no feasible state")
    if (pairs[:, 0] == pairs[:, 1]).any():
        raise InputError(f"unranked pair of {conflict.dm_ids[dm]!r} names one state twice")
    return np.unique(np.sort(pairs, axis=1), axis=0)


def _unknown(
    conflict: CompiledConflict,
    dm: int,
    improves: bool,
    completion: Completion | None,
) -> tuple[NDArray[np.int64] | None, NDArray[np.bool_] | None]:
    pairs = unranked_pairs(conflict, dm)
    n_states = conflict.n_states
    codes = np.sort(
        np.concatenate([pairs[:, 0] * n_states + pairs[:, 1], pairs[:, 1] * n_states + pairs[:, 0]])
    )
    values = np.full(codes.size, improves and completion is None)
    rows = None if completion is None or dm >= len(completion) else completion[dm]
    if rows is not None and np.size(rows):
        rows = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
        chosen = rows[:, 0] * n_states + rows[:, 1]
        pos = np.minimum(np.searchsorted(codes, chosen), max(codes.size - 1, 0))
        if codes.size == 0 or (codes[pos] != chosen).any():
            raise InputError(
                f"the completion orients a pair that {conflict.dm_ids[dm]!r} did not leave unranked"
            )
        if np.isin(rows[:, 1] * n_states + rows[:, 0], chosen).any():
            raise InputError(f"the completion orients a pair of {conflict.dm_ids[dm]!r} both ways")
        values[pos] = True
    if codes.size == 0:
        return None, None
    return codes, values


def build_movers(
    conflict: CompiledConflict,
    reading: Reading = "given",
    focal: int | None = None,
    completion: Completion | None = None,
) -> list[Mover]:
    """Compile the movers of ``conflict``.

    Parameters
    ----------
    conflict:
        The compiled conflict.
    reading:
        How unranked pairs are read (see :data:`Reading`).
    focal:
        The focal mover for ``"robust"`` and ``"optimistic"``.
    completion:
        An explicit completion (see :data:`Completion`); when given, every decision
        maker reads its unranked pairs by it and ``reading`` is ignored.
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
        improves = (reading == "robust" and index == focal) or (
            reading == "optimistic" and index != focal
        )
        if reading == "given" and completion is None:
            read: list[tuple[NDArray[np.int64] | None, NDArray[np.bool_] | None]]
            read = [(None, None)] * len(group)
        else:
            read = [_unknown(conflict, dm, improves, completion) for dm in group]
        member_ranks = ranks[list(group)] if len(group) > 1 else ranks[group[0]][None, :]
        preference = Preference(
            ranks=member_ranks,
            unknown=tuple(codes for codes, _ in read),
            unknown_better=tuple(values for _, values in read),
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
