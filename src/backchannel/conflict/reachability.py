"""Reachability: unilateral moves (UM), unilateral improvements (UI) and the sets
reachable by the other movers' legal sequences.

Definitions (Fang, Hipel & Kilgour 1993, *Interactive Decision Making*, ch. 3-4, with
the n-decision-maker sets of Kilgour, Hipel & Fang 1987):

* ``R_i(s)``: the states mover ``i`` can reach from ``s`` in one move (see
  :mod:`backchannel.conflict.segments`); ``R+_i(s)``: those that ``i`` prefers to ``s``.
* ``R_{N-i}(s)``: the states reachable from ``s`` by a *legal sequence* of unilateral
  moves of the other movers, in which no mover moves twice in a row; ``R+_{N-i}(s)`` the
  same with unilateral improvements. Because a mover's consecutive moves compose into one
  move (or a return), these are exactly the states reachable in the union of the other
  movers' move graphs when a mover's relation is transitive; the closure below tracks
  the last mover anyway, so it is exact for non-transitive relations too. The
  aggregates include ``s`` itself; every use is insensitive to that (``s`` is an
  improvement of the focal mover, never a sanction).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict.compiled_conflict import CompiledConflict
from backchannel.conflict.movers import Completion, Mover, Reading, build_movers
from backchannel.conflict.segments import INT64_MAX
from backchannel.errors import AnalysisError

MAX_MOVE_PAIRS = 10_000_000
"""The most moves of one mover that are ever listed as pairs (about 60 bytes each)."""

PAIR_BYTES = 60
"""The memory one listed move takes while the list is built, about (measured: 57 bytes)."""


class Game:
    """The movers of a conflict with cached move and improvement relations.

    Parameters
    ----------
    conflict:
        The compiled conflict.
    reading:
        How unranked pairs are read (see :data:`~backchannel.conflict.movers.Reading`).
    focal:
        The focal mover for the ``"robust"`` and ``"optimistic"`` readings.
    completion:
        An explicit completion of the unranked pairs (overrides ``reading``).
    """

    def __init__(
        self,
        conflict: CompiledConflict,
        reading: Reading = "given",
        focal: int | None = None,
        completion: Completion | None = None,
    ) -> None:
        self.conflict = conflict
        self.n_states = conflict.n_states
        self.movers: list[Mover] = build_movers(conflict, reading, focal, completion)
        self._pairs: dict[int, tuple[NDArray[np.int64], NDArray[np.int64]]] = {}
        self._improvements: dict[int, tuple[NDArray[np.int64], NDArray[np.int64]]] = {}

    def check_pairs(self, movers: list[int] | None = None) -> None:
        """Refuse, before listing them, the moves of a mover that has too many.

        Parameters
        ----------
        movers:
            The movers whose moves will be listed (default: all).

        Raises
        ------
        AnalysisError
            A mover has more than :data:`MAX_MOVE_PAIRS` moves; the message gives the
            count and the memory the list would take.
        """
        for mover in range(len(self.movers)) if movers is None else movers:
            if mover in self._pairs:
                continue
            count = self.movers[mover].moves.pair_count()
            if count > MAX_MOVE_PAIRS:
                raise AnalysisError(
                    f"{self.movers[mover].name} has {count:,} moves between the "
                    f"{self.n_states:,} states, too many to list (about "
                    f"{count * PAIR_BYTES / 2**30:,.1f} GiB; at most {MAX_MOVE_PAIRS:,})",
                    hint="give each decision maker fewer options, or use a concept that "
                    "scans the states instead: nash, gmr, smr or seq",
                )

    def move_pairs(self, mover: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Every unilateral move ``(source, target)`` of ``mover`` (see :meth:`check_pairs`)."""
        if mover not in self._pairs:
            self.check_pairs([mover])
            self._pairs[mover] = self.movers[mover].moves.pairs()
        return self._pairs[mover]

    def improvement_pairs(self, mover: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Every unilateral improvement ``(source, target)`` of ``mover``."""
        if mover not in self._improvements:
            source, target = self.move_pairs(mover)
            keep = self.movers[mover].preference.better(target, source)
            self._improvements[mover] = (source[keep], target[keep])
        return self._improvements[mover]

    def improvements_from(self, mover: int, state: int) -> NDArray[np.int64]:
        """``R+_i(state)``: the unilateral improvements of ``mover`` from ``state``."""
        targets = self.movers[mover].moves.targets(state)
        keep = self.movers[mover].preference.better(targets, np.full_like(targets, state))
        return targets[keep]

    def improving_min(self, mover: int, values: NDArray[np.int64]) -> NDArray[np.int64]:
        """``min(values[t])`` over ``t`` in ``R+_i(s)``; ``INT64_MAX`` where empty."""
        current = self.movers[mover]
        if current.preference.scalar:
            return current.moves.min_above(values)
        source, target = self.improvement_pairs(mover)
        out = np.full(self.n_states, INT64_MAX, dtype=np.int64)
        np.minimum.at(out, source, values[target])
        return out

    def improving_max(self, mover: int, values: NDArray[np.int64]) -> NDArray[np.int64]:
        """``max(values[t])`` over ``t`` in ``R+_i(s)``; ``-INT64_MAX`` where empty."""
        return -self.improving_min(mover, -values)

    def has_improvement(self, mover: int) -> NDArray[np.bool_]:
        """Whether ``R+_i(s)`` is non-empty, for every state ``s``."""
        found: NDArray[np.bool_] = self.improving_min(mover, np.zeros(self.n_states, np.int64)) == 0
        return found

    def opponents(self, mover: int) -> list[int]:
        """The other movers."""
        return [other for other in range(len(self.movers)) if other != mover]

    def closure_min(
        self, focal: int, values: NDArray[np.int64], improving: bool
    ) -> NDArray[np.int64]:
        """``min(values[t])`` over ``t`` in ``{s} | R_{N-i}(s)`` (or ``R+_{N-i}(s)``).

        ``after[k][s]`` is the minimum over ``s`` and the states reachable from ``s`` by
        a legal sequence whose first mover is not ``k`` (``k`` moved last). A fixpoint
        of one-step relaxations, each one segmented scan (scalar mover) or one pair
        reduction; tracking the last mover keeps sequences legal even when a relation is
        not transitive (unranked pairs).
        """
        others = self.opponents(focal)
        after = {k: values.copy() for k in others}
        quiet = 0
        while quiet < len(others):
            for k in others:
                if improving:
                    reached = self.improving_min(k, after[k])
                else:
                    reached = self.movers[k].moves.reach_min(after[k])
                changed = False
                for j in others:
                    if j != k:
                        lowered = np.minimum(after[j], reached)
                        if not np.array_equal(lowered, after[j]):
                            after[j] = lowered
                            changed = True
                quiet = 0 if changed else quiet + 1
                if quiet >= len(others):
                    break
        result = values.copy()
        for k in others:
            if improving:
                result = np.minimum(result, self.improving_min(k, after[k]))
            else:
                result = np.minimum(result, self.movers[k].moves.reach_min(after[k]))
        return result

    def closure_any(
        self, focal: int, mask: NDArray[np.bool_], improving: bool
    ) -> NDArray[np.bool_]:
        """Whether some ``t`` in ``{s} | R_{N-i}(s)`` (or the UI version) has ``mask[t]``."""
        found: NDArray[np.bool_] = self.closure_min(focal, (~mask).astype(np.int64), improving) == 0
        return found
