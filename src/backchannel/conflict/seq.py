"""Sequential stability (SEQ).

Definition (Fang, Hipel & Kilgour 1993, Def. 3.4): ``s`` is SEQ stable for ``i`` iff for
every ``s1`` in ``R+_i(s)`` there is ``s2`` in ``R+_{N-i}(s1)`` with ``s2`` not preferred
to ``s`` by ``i``. Sanctions are legal sequences of unilateral *improvements* of the
other movers (no mover twice in a row), so every sanctioning move is credible.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict import sanctions
from backchannel.conflict.reachability import Game

IMPROVING = True
"""Sanctions use unilateral improvements of the other movers."""


def floor(game: Game, focal: int) -> NDArray[np.int64]:
    """Lowest payoff rank of ``focal`` reachable by the others' improvements."""
    return game.closure_min(focal, game.movers[focal].preference.key, IMPROVING)


def safe(game: Game, focal: int, state: int) -> NDArray[np.bool_]:
    """States that end a SEQ sanction against an improvement from ``state``."""
    return sanctions.not_better(game, focal, state)


def stable(game: Game, focal: int) -> NDArray[np.bool_]:
    """SEQ-stable states of mover ``focal``."""
    return sanctions.stable_states(game, focal, floor, safe, IMPROVING)
