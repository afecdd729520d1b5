"""Status-quo analysis: shortest paths from the status quo to the equilibria.

After Li, Hipel, Kilgour & Fang 2004 ("Status quo analysis in the graph model") and Xu,
Kilgour, Hipel & Kemkes 2010: a state is reachable from the status quo by a legal
sequence of unilateral moves (or of unilateral improvements) of any movers, no mover
moving twice in a row. A breadth-first search over the whole graph, one vectorised layer
at a time (each layer one segmented scan per mover), finds a shortest such sequence to
every state. Shortest sequences are automatically legal: two consecutive moves of one
mover compose into one move, so a shortest path never contains them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict.reachability import Game


def _predecessors(
    game: Game, mover: int, frontier: NDArray[np.bool_], improving: bool
) -> NDArray[np.int64]:
    current = game.movers[mover]
    if not improving or current.preference.scalar:
        return current.moves.predecessor(frontier, improving)
    source, target = game.improvement_pairs(mover)
    keep = frontier[source]
    out = np.full(game.n_states, game.n_states, dtype=np.int64)
    np.minimum.at(out, target[keep], source[keep])
    return np.where(out < game.n_states, out, -1)


def search(
    game: Game,
    start: int,
    movers: list[int],
    improving: bool,
    goal: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Breadth-first search from ``start`` over the moves of ``movers``.

    Parameters
    ----------
    goal:
        Stop after the first layer that reaches a state with ``goal`` set.

    Returns
    -------
    predecessor, actor:
        Per state, the previous state and the mover index on a shortest path (``-1``
        when unreached; ``start`` has predecessor ``-1``).
    """
    n = game.n_states
    predecessor = np.full(n, -1, dtype=np.int64)
    actor = np.full(n, -1, dtype=np.int64)
    visited = np.zeros(n, dtype=bool)
    visited[start] = True
    frontier = visited.copy()
    while frontier.any():
        reached = np.zeros(n, dtype=bool)
        for mover in movers:
            found = _predecessors(game, mover, frontier, improving)
            new = (found >= 0) & ~visited
            predecessor[new] = found[new]
            actor[new] = mover
            visited |= new
            reached |= new
        frontier = reached
        if goal is not None and (reached & goal).any():
            break
    return predecessor, actor


def trace(
    predecessor: NDArray[np.int64], actor: NDArray[np.int64], start: int, end: int
) -> list[tuple[int, int, int]] | None:
    """The steps ``(mover, from, to)`` from ``start`` to ``end``, or ``None``."""
    if end != start and predecessor[end] < 0:
        return None
    steps: list[tuple[int, int, int]] = []
    state = end
    while state != start:
        previous = int(predecessor[state])
        steps.append((int(actor[state]), previous, state))
        state = previous
    return steps[::-1]
