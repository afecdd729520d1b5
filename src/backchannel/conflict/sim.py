"""Simultaneous sanctioning (SIM).

Definition (Fang, Hipel & Kilgour 1993, Def. 3.5, extended to n movers): ``s`` is SIM
stable for ``i`` iff for every ``s1`` in ``R+_i(s)`` the other movers have a
*simultaneous response* from ``s`` that leaves ``i`` no better off than at ``s``: each
other mover either stays or takes one of its own unilateral improvements from ``s``, all
at the same time as ``i`` moves to ``s1``. Because every mover controls its own options,
the outcome takes ``i``'s options from ``s1`` and each responder's options from its
chosen improvement. Outcomes that are infeasible cannot occur and are ignored.

Cost: the number of combinations, i.e. the product of ``1 + |R+_j(s)|`` over the other
movers, per improvement of ``i``. gmcr-py (v0.4.1) consumes one iterator of combinations
across all improvements and so misses sanctions; here each improvement sees them all.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict.reachability import Game
from backchannel.errors import AnalysisError

MAX_COMBINATIONS = 50_000_000


def responses(
    game: Game, focal: int, source: NDArray[np.int64], target: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.uint64]]:
    """Every simultaneous outcome of the improvements ``source -> target``.

    Returns
    -------
    row, outcome, responders:
        For each combination: the index into ``source``/``target`` of the focal
        improvement, the outcome state (``-1`` if infeasible), and a bit mask of the
        responding movers.
    """
    states = game.conflict.states
    row = np.arange(source.size, dtype=np.int64)
    delta = states[target] ^ states[source]
    who = np.zeros(source.size, dtype=np.uint64)
    for other in game.opponents(focal):
        from_, to = game.improvement_pairs(other)
        start = np.searchsorted(from_, np.arange(game.n_states + 1))
        count = np.diff(start)[source[row]]
        total = int(count.sum())
        if row.size + total > MAX_COMBINATIONS:
            raise AnalysisError(
                f"SIM needs more than {row.size + total:,} simultaneous responses for this "
                f"conflict (about {(row.size + total) * 40 / 2**30:,.1f} GiB); it takes at "
                f"most {MAX_COMBINATIONS:,}",
                hint="leave out sim and seqsim (--concepts nash,gmr,smr,seq), or give the "
                "decision makers fewer options",
            )
        base = np.repeat(np.arange(row.size), count)
        offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
        pick = np.repeat(start[source[row]], count) + offset
        moved = states[to[pick]] ^ states[from_[pick]]
        row = np.concatenate([row, row[base]])
        delta = np.concatenate([delta, delta[base] ^ moved])
        who = np.concatenate([who, who[base] | np.uint64(1 << other)])
    codes = states[source[row]] ^ delta
    position = np.searchsorted(states, codes)
    position[position == states.size] = 0
    outcome = np.where(states[position] == codes, position, -1).astype(np.int64)
    return row, outcome, who


def deterred_improvements(
    game: Game, focal: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Every improvement ``(s, s1)`` of ``focal`` and whether a response deters it."""
    source, target = game.improvement_pairs(focal)
    row, outcome, _ = responses(game, focal, source, target)
    feasible = outcome >= 0
    row, outcome = row[feasible], outcome[feasible]
    pref = game.movers[focal].preference
    sanction = ~pref.better(outcome, source[row])
    deterred = np.zeros(source.size, dtype=bool)
    deterred[row[sanction]] = True
    return source, target, deterred


def stable(game: Game, focal: int) -> NDArray[np.bool_]:
    """SIM-stable states of mover ``focal``."""
    source, _, deterred = deterred_improvements(game, focal)
    result = np.ones(game.n_states, dtype=bool)
    result[source[~deterred]] = False
    return result
