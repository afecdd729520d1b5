"""Deterrence of unilateral improvements, shared by GMR, SMR and SEQ.

For a focal mover ``i`` at state ``s`` each improvement ``s1`` in ``R+_i(s)`` is
*deterred* when the other movers can reach from ``s1`` a state ``s2`` that is *safe* for
``s``: not better than ``s`` for ``i`` (GMR, SEQ), and for SMR also without a countermove
of ``i`` from ``s2`` that is better than ``s``. ``s`` is stable when every improvement is
deterred.

Scalar preferences (one decision maker, complete ranking) reduce to one number per
state, the *floor* ``m(s1)``: the lowest value reachable from ``s1``; ``s1`` is deterred
iff ``m(s1) <= P_i(s)``. Non-scalar preferences (coalitions, unranked pairs) are handled
class by class: states ``s`` that compare identically with every other state share one
safe set and one closure.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict.reachability import Game

Floor = Callable[[Game, int], NDArray[np.int64]]
Safe = Callable[[Game, int, int], NDArray[np.bool_]]


def not_better(game: Game, focal: int, state: int) -> NDArray[np.bool_]:
    """States that the focal mover does not prefer to ``state``."""
    everything = np.arange(game.n_states, dtype=np.int64)
    pref = game.movers[focal].preference
    return ~pref.better(everything, np.full_like(everything, state))


def stable_states(
    game: Game, focal: int, floor: Floor, safe: Safe, improving: bool
) -> NDArray[np.bool_]:
    """States at which every improvement of ``focal`` is deterred."""
    pref = game.movers[focal].preference
    if pref.scalar:
        best = game.improving_max(focal, floor(game, focal))
        return ~(best > pref.key)
    source, _, deterred = deterred_improvements(game, focal, floor, safe, improving)
    stable = np.ones(game.n_states, dtype=bool)
    stable[source[~deterred]] = False
    return stable


def _classes(game: Game, focal: int, states: NDArray[np.int64]) -> NDArray[np.int64]:
    """A class label per state: equal labels compare identically with every state."""
    pref = game.movers[focal].preference
    columns = [pref.ranks[:, states]]
    special = np.full(states.size, -1, dtype=np.int64)
    for unknown in pref.unknown:
        if unknown is not None:
            involved = np.unique(unknown % game.n_states)
            hit = np.isin(states, involved)
            special[hit] = states[hit]
    columns.append(special[None, :])
    return np.unique(np.vstack(columns), axis=1, return_inverse=True)[1].reshape(-1)


def deterred_improvements(
    game: Game, focal: int, floor: Floor, safe: Safe, improving: bool
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Every improvement ``(s, s1)`` of ``focal`` and whether it is deterred."""
    source, target = game.improvement_pairs(focal)
    pref = game.movers[focal].preference
    if pref.scalar:
        return source, target, floor(game, focal)[target] <= pref.key[source]
    deterred = np.zeros(source.size, dtype=bool)
    if source.size == 0:
        return source, target, deterred
    labels = _classes(game, focal, source)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        reach = game.closure_any(focal, safe(game, focal, int(source[rows[0]])), improving)
        deterred[rows] = reach[target[rows]]
    return source, target, deterred
