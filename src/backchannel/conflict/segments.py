"""Unilateral moves of one mover as segmented scans over blocks of states.

In option form (Fang, Hipel & Kilgour 1993, ch. 2) a mover changes only its own options.
Two states are in the same *block* of a mover when they agree on every other option:
the mover's moves never leave a block. Within a block, a move from ``s`` to ``t != s`` is
legal when

* neither ``s`` nor ``t`` is misperceived by the mover (it cannot move to or from them),
* every irreversible option of the mover changes in its permitted direction only, i.e.
  ``t`` keeps each forward-only option ``s`` has taken and takes no backward-only option
  ``s`` has not taken.

Write an irreversible option's bit *flipped* for backward-only options; the second rule
then says that the irreversible pattern of ``t`` is a superset of that of ``s``. Moves
compose (``a -> b -> c`` by one mover is the legal move ``a -> c`` or a return to
``a``), which is why aggregates over moves need one step per mover.

Every aggregate below groups the legal targets by their irreversible pattern ``p``, and
for each ``p`` sorts them by (block, key) once; a query is then one searchsorted position
into a segmented suffix-minimum. No ``S x S`` structure is built: time is
``O(2^r * S log S)`` to plan and ``O(2^r * S)`` per aggregate, with ``r`` the number of
irreversible options of the mover (``r = 0`` in the common case).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class _Plan:
    data: NDArray[np.int64]  # data states, sorted by (block, key)
    segment: NDArray[np.int64]  # block rank of each sorted data state (non-decreasing)
    query: NDArray[np.int64]  # query states answered by this pattern group
    position: NDArray[np.int64]  # first sorted data position of each query's range
    starts: NDArray[np.int64] | None  # unkeyed plans: first position of each block
    group: NDArray[np.int64] | None  # unkeyed plans: each query's block among ``starts``


class MoveIndex:
    """The unilateral-move relation of one mover over the feasible states.

    Parameters
    ----------
    states:
        Sorted feasible state codes.
    option_mask, forward_mask, backward_mask:
        Bit masks of the mover's options, and of those that are forward-only or
        backward-only.
    blocked:
        States the mover cannot move to or from (misperceived).
    key:
        The mover's payoff ranks when its preference is scalar (for improvement
        scans), else ``None``.
    """

    def __init__(
        self,
        states: NDArray[np.uint64],
        option_mask: int,
        forward_mask: int,
        backward_mask: int,
        blocked: NDArray[np.bool_],
        key: NDArray[np.int64] | None,
    ) -> None:
        self.n_states = int(states.shape[0])
        others = states & np.uint64(~option_mask & (2**64 - 1))
        self.block = np.unique(others, return_inverse=True)[1].astype(np.int64)
        self.n_blocks = int(self.block.max()) + 1 if self.n_states else 0
        flipped = states ^ np.uint64(backward_mask)
        pattern = np.zeros(self.n_states, dtype=np.int64)
        irreversible = [bit for bit in range(64) if (forward_mask | backward_mask) >> bit & 1]
        for k, bit in enumerate(irreversible):
            pattern |= ((flipped >> np.uint64(bit)) & np.uint64(1)).astype(np.int64) << k
        self.pattern = pattern
        self.ok = ~np.asarray(blocked, dtype=bool)
        self.key = key
        self._plans: dict[tuple[bool, bool], list[_Plan]] = {}

    def _plan(self, keyed: bool, reverse: bool) -> list[_Plan]:
        if (keyed, reverse) in self._plans:
            return self._plans[keyed, reverse]
        key = self.key if keyed else None
        if keyed and key is None:
            raise ValueError("improvement scans need a scalar preference")
        span = 1 if key is None else int(key.max()) + 1
        ranked = np.zeros(self.n_states, np.int64) if key is None else key
        if reverse:  # data are sources with key below the query's: flip the key
            ranked = span - 1 - ranked
        plans: list[_Plan] = []
        legal = np.flatnonzero(self.ok)
        for data_pattern in np.unique(self.pattern[legal]):
            data = legal[self.pattern[legal] == data_pattern]
            if reverse:  # query t: sources s with pattern(s) subset of pattern(t)
                query = legal[(data_pattern & ~self.pattern[legal]) == 0]
            else:  # query s: targets t with pattern(t) superset of pattern(s)
                query = legal[(self.pattern[legal] & ~data_pattern) == 0]
            composite = self.block[data] * span + ranked[data]
            order = np.argsort(composite)
            data, composite = data[order], composite[order]
            if key is None:
                position = np.searchsorted(composite, self.block[query] * span, "left")
            else:
                target = self.block[query] * span + ranked[query]
                position = np.searchsorted(composite, target, "right")
            inside = position < data.size
            inside[inside] = self.block[data[position[inside]]] == self.block[query[inside]]
            segment = self.block[data]
            query, position = query[inside], position[inside]
            starts = group = None
            if key is None:  # a block minimum: one reduceat per aggregate
                starts = np.flatnonzero(np.r_[True, segment[1:] != segment[:-1]])
                group = np.searchsorted(starts, position)
            plans.append(_Plan(data, segment, query, position, starts, group))
        self._plans[keyed, reverse] = plans
        return plans

    def _min(self, plans: list[_Plan], values: NDArray[np.int64]) -> NDArray[np.int64]:
        out = np.full(self.n_states, INT64_MAX, dtype=np.int64)
        if not plans or values.size == 0:
            return out
        low = int(values.min())
        span = int(values.max()) - low + 1
        for plan in plans:
            if plan.starts is not None and plan.group is not None:
                found = np.minimum.reduceat(values[plan.data], plan.starts)[plan.group]
            else:
                shifted = values[plan.data] - low + plan.segment * span
                suffix = np.minimum.accumulate(shifted[::-1])[::-1]
                found = suffix[plan.position] - plan.segment[plan.position] * span + low
            if len(plans) == 1:
                out[plan.query] = found
            else:
                out[plan.query] = np.minimum(out[plan.query], found)
        return out

    def reach_min(self, values: NDArray[np.int64]) -> NDArray[np.int64]:
        """``min(values[t])`` over ``t`` in ``{s}`` and the mover's moves from ``s``."""
        return np.minimum(values, self._min(self._plan(False, False), values))

    def reach_max(self, values: NDArray[np.int64]) -> NDArray[np.int64]:
        """``max(values[t])`` over ``t`` in ``{s}`` and the mover's moves from ``s``."""
        return -self.reach_min(-values)

    def min_above(self, values: NDArray[np.int64]) -> NDArray[np.int64]:
        """``min(values[t])`` over improving moves ``s -> t`` (``key[t] > key[s]``).

        ``INT64_MAX`` where the mover has no improvement from ``s``.
        """
        return self._min(self._plan(True, False), values)

    def predecessor(self, frontier: NDArray[np.bool_], improving: bool) -> NDArray[np.int64]:
        """For each state ``t`` outside ``frontier``, the smallest ``s`` in ``frontier``
        with a move ``s -> t`` (an improving one when ``improving``); ``-1`` if none."""
        n = self.n_states
        values = np.where(frontier, np.arange(n, dtype=np.int64), n)
        found = self._min(self._plan(improving, True), values)
        return np.where(found < n, found, -1)

    def targets(self, state: int) -> NDArray[np.int64]:
        """The states the mover can move to from ``state`` (sorted, excluding it)."""
        if not self.ok[state]:
            return np.zeros(0, dtype=np.int64)
        same = (self.block == self.block[state]) & self.ok
        same &= (self.pattern[state] & ~self.pattern) == 0
        same[state] = False
        return np.flatnonzero(same).astype(np.int64)

    def pair_count(self) -> int:
        """How many moves :meth:`pairs` lists at most: the sum of squared block sizes.

        ``O(S)``, without listing them (irreversible options can only remove moves).
        """
        legal = np.flatnonzero(self.ok)
        sizes = np.bincount(self.block[legal]).astype(np.int64)
        return int((sizes * sizes).sum()) - int(legal.size)

    def pairs(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """All moves as arrays ``(source, target)``, sorted by source.

        Costs the sum of squared block sizes (:meth:`pair_count`); used for coalitions,
        uncertainty, SIM, limited-move analysis and explanations, not for the scalar
        scans.
        """
        legal = np.flatnonzero(self.ok)
        legal = legal[np.argsort(self.block[legal], kind="stable")]
        block = self.block[legal]
        starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
        sizes = np.diff(np.r_[starts, legal.size])
        group = np.repeat(np.arange(starts.size), sizes)
        repeat = sizes[group]
        source = np.repeat(legal, repeat)
        offset = np.arange(source.size) - np.repeat(np.cumsum(repeat) - repeat, repeat)
        target = legal[np.repeat(starts[group], repeat) + offset]
        keep = (source != target) & ((self.pattern[source] & ~self.pattern[target]) == 0)
        source, target = source[keep], target[keep]
        order = np.lexsort((target, source))
        return source[order].astype(np.int64), target[order].astype(np.int64)
