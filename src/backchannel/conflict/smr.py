"""Symmetric metarationality (SMR).

Definition (Fang, Hipel & Kilgour 1993, Def. 3.3): ``s`` is SMR stable for ``i`` iff for
every ``s1`` in ``R+_i(s)`` there is ``s2`` in ``R_{N-i}(s1)`` with ``s2`` not preferred
to ``s`` and no ``s3`` in ``R_i(s2)`` preferred to ``s`` (the sanction survives every
countermove of ``i``). Sanctions are legal sequences of unilateral moves of the other
movers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict import sanctions
from backchannel.conflict.reachability import Game

IMPROVING = False
"""Sanctions use any unilateral moves of the other movers."""


def floor(game: Game, focal: int) -> NDArray[np.int64]:
    """Lowest reachable value of ``focal``'s best countermove (or staying)."""
    mover = game.movers[focal]
    countered = mover.moves.reach_max(mover.preference.key)
    return game.closure_min(focal, countered, IMPROVING)


def safe(game: Game, focal: int, state: int) -> NDArray[np.bool_]:
    """States not preferred to ``state`` from which no countermove is preferred to it."""
    better = ~sanctions.not_better(game, focal, state)
    threatened = game.movers[focal].moves.reach_max(better.astype(np.int64)) > 0
    return ~threatened


def stable(game: Game, focal: int) -> NDArray[np.bool_]:
    """SMR-stable states of mover ``focal``."""
    return sanctions.stable_states(game, focal, floor, safe, IMPROVING)
