"""Constraints on the orientations of unranked pairs around one state, and their
batched evaluation (the search of :mod:`backchannel.conflict.possible`).

A *literal* is a pair (by its column in the orientation array) and a bit: bit 1 means
"the state with the higher index is better" for the pair's decision maker. A move is an
improvement of its mover under an orientation when every member gains: by its payoffs
or, for a member whose pair the move is, by the literal. Arrays of literals have one
row per move (or candidate) and one column per member, padded with literals that always
hold. An orientation array has one row per orientation, one column per pair, and a last
column of ones for the padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

_BATCH = 1 << 21  # booleans per batch array

Int = NDArray[np.int64]
Bool = NDArray[np.bool_]


def ranges(lo: Int, hi: Int) -> Int:
    """The concatenation of ``range(lo[k], hi[k])``."""
    count = hi - lo
    total = int(count.sum())
    offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    joined: Int = np.repeat(lo, count) + offset
    return joined


def holds(orient: NDArray[np.int8], ids: Int, bits: Int) -> Bool:
    """``(B, n)``: whether each conjunction of literals holds under each orientation.

    ``orient`` has one column per local pair and a last column of ones, which padding
    literals (id ``-1`` mapped there, bit 1) always satisfy.
    """
    held: Bool = np.all(orient[:, ids] == bits, axis=-1)
    return held


@dataclass
class Graph:
    """The opponents' possible improvements around one focal mover's candidates (SEQ).

    Nodes are local state indices; ``good`` arrays are ``(B, nodes, movers)``: from the
    node, after a move of the mover in the last axis, a legal sequence of active moves
    reaches a safe node (the node itself counts).
    """

    safe: Bool
    seeds: Int
    src: Int
    dst: Int
    mover: Int
    ids: Int
    bits: Int
    movers: int
    focal: int
    init: Bool | None = None

    def sort(self, keep: Bool) -> Graph:
        """The graph with only the moves in ``keep``, sorted by (mover, source)."""
        order = np.flatnonzero(keep)
        order = order[np.lexsort((self.src[order], self.mover[order]))]
        return Graph(
            self.safe,
            self.seeds,
            self.src[order],
            self.dst[order],
            self.mover[order],
            self.ids[order],
            self.bits[order],
            self.movers,
            self.focal,
            self.init,
        )

    def good(self, active: Bool) -> Bool:
        """The fixpoint of ``good`` with the moves ``active[b]`` (sorted graph)."""
        batch, nodes = active.shape[0], self.safe.size
        good = np.broadcast_to(self.safe[None, :, None], (batch, nodes, self.movers)).copy()
        if self.init is not None:
            good |= self.init[None]
        if self.src.size == 0:
            return good
        key = self.mover * nodes + self.src
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        group_src, group_mover = self.src[starts], self.mover[starts]
        while True:
            hit = np.logical_or.reduceat(active & good[:, self.dst, self.mover], starts, axis=1)
            by = np.zeros_like(good)
            by[:, group_src, group_mover] = hit
            others = by.sum(axis=2, dtype=np.int64)[:, :, None] - by  # movers other than l
            grown = good | (others > 0)
            if np.array_equal(grown, good):
                return good
            good = grown


@dataclass
class Responses:
    """Simultaneous responses from the state (SIM): per opponent its possible
    improvements with their literals; per kept response the choice of every opponent
    (0 stays, ``k + 1`` takes move ``k``) and, per candidate, whether it is safe."""

    ids: list[Int]
    bits: list[Int]
    choice: Int
    safe: Bool


@dataclass
class OrientationConstraint:
    """What one focal mover needs at the state: every candidate whose literals hold
    (an improvement under the orientation) is deterred, by moves without literals
    (``fixed``), by a SEQ sanction in ``graph`` or by a SIM response in ``responses``."""

    ids: Int
    bits: Int
    fixed: Bool
    graph: Graph | None
    responses: Responses | None

    def stable(self, orient: NDArray[np.int8]) -> Bool:
        """Whether every active candidate is deterred, per orientation."""
        active = holds(orient, self.ids, self.bits)
        deterred = np.broadcast_to(self.fixed, active.shape).copy()
        if self.graph is not None:
            good = self.graph.good(holds(orient, self.graph.ids, self.graph.bits))
            deterred |= good[:, self.graph.seeds, self.graph.focal]
        if self.responses is not None:
            responses = self.responses
            chosen = np.ones((orient.shape[0], responses.choice.shape[1]), dtype=bool)
            for k, (ids, bits) in enumerate(zip(responses.ids, responses.bits, strict=True)):
                moves = np.ones((orient.shape[0], ids.shape[0] + 1), dtype=bool)
                moves[:, 1:] = holds(orient, ids, bits)  # column 0: the opponent stays
                chosen &= moves[:, responses.choice[k]]
            safe = responses.safe.T.astype(np.float64)
            deterred |= (chosen.astype(np.float64) @ safe) > 0
        held: Bool = np.all(~active | deterred, axis=1)
        return held

    def width(self) -> int:
        """Booleans per orientation that :meth:`stable` allocates, roughly."""
        candidates = int(self.ids.shape[0])
        size = candidates + 1
        if self.graph is not None:
            size += int(self.graph.safe.size) * self.graph.movers + int(self.graph.src.size)
        if self.responses is not None:
            size += int(self.responses.choice.shape[1]) * (1 + candidates)
        return size


@dataclass
class Draft:
    """One focal mover's structures with global pair ids, before the pairs that bear on
    the state are numbered; ``fixed`` and ``possible`` say whether each candidate is
    deterred under every orientation and under some (optimistically)."""

    ids: Int
    bits: Int
    fixed: Bool
    possible: Bool
    graph: Graph | None
    responses: Responses | None

    def used(self) -> Int:
        """Global ids of the pairs that the moves and responses can depend on."""
        found = [np.zeros(0, dtype=np.int64)]
        if self.graph is not None:
            found.append(self.graph.ids.reshape(-1))
        if self.responses is not None:
            for k, ids in enumerate(self.responses.ids):
                taken = np.unique(self.responses.choice[k])
                found.append(ids[taken[taken > 0] - 1].reshape(-1))
        every = np.concatenate(found)
        return np.unique(every[every >= 0])

    def finish(self, used: Int) -> OrientationConstraint | bool:
        """The focal constraint over ``used`` pairs; ``True`` if always met, ``False``
        if never."""
        alive = np.all((self.ids < 0) | np.isin(self.ids, used), axis=1)
        keep = alive & ~self.fixed
        if not keep.any():
            return True
        if ((self.ids[keep] < 0).all(axis=1) & ~self.possible[keep]).any():
            return False
        graph = responses = None
        if self.graph is not None:
            graph = _localise(self.graph, used)
            graph.seeds = graph.seeds[keep]
        if self.responses is not None:
            old = self.responses
            responses = Responses(
                [_local(ids, used) for ids in old.ids], old.bits, old.choice, old.safe[keep]
            )
        return OrientationConstraint(
            _local(self.ids[keep], used), self.bits[keep], self.fixed[keep], graph, responses
        )


def _local(ids: Int, used: Int) -> Int:
    """Global pair ids as columns of the orientation array (``-1``: the ones column)."""
    local = np.searchsorted(used, ids).astype(np.int64)
    local[ids < 0] = used.size
    return local


def _localise(graph: Graph, used: Int) -> Graph:
    return Graph(
        graph.safe,
        graph.seeds.copy(),
        graph.src,
        graph.dst,
        graph.mover,
        _local(graph.ids, used),
        graph.bits,
        graph.movers,
        graph.focal,
        graph.init,
    )


def prune(graph: Graph, fixed: Bool, possible: Bool, open_: Bool) -> Graph:
    """Keep the moves that can matter: reachable from an open candidate and leading to
    a node that some orientation makes good; start from the good nodes of the moves
    without literals (good under every orientation)."""
    useful = possible[graph.dst, graph.mover]
    reach = np.zeros(graph.safe.size, dtype=bool)
    reach[graph.seeds[open_]] = True
    while True:
        grown = reach.copy()
        grown[graph.dst[useful & reach[graph.src]]] = True
        if np.array_equal(grown, reach):
            break
        reach = grown
    pruned = graph.sort(useful & reach[graph.src])
    pruned.init = fixed
    return pruned


def satisfiable(constraints: list[OrientationConstraint], pairs: int) -> bool:
    """Whether some orientation of ``pairs`` pairs meets every constraint.

    Orientations are enumerated in batches (bit ``k`` of the batch index orients pair
    ``k``); each constraint keeps the orientations that meet it.
    """
    total = 1 << pairs
    chunk = max(1, _BATCH // max(constraint.width() for constraint in constraints))
    chunk = min(total, 1 << (chunk.bit_length() - 1))
    shifts = np.arange(pairs, dtype=np.int64)
    for start in range(0, total, chunk):
        codes = np.arange(start, min(start + chunk, total), dtype=np.int64)
        orient = np.ones((codes.size, pairs + 1), dtype=np.int8)
        orient[:, :pairs] = (codes[:, None] >> shifts) & 1
        for constraint in constraints:
            orient = orient[constraint.stable(orient)]
            if orient.shape[0] == 0:
                break
        if orient.shape[0]:
            return True
    return False
