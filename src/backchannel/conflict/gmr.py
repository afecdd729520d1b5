"""General metarationality (GMR).

Definition (Fang, Hipel & Kilgour 1993, Def. 3.2; Kilgour, Hipel & Fang 1987 for n
decision makers): ``s`` is GMR stable for ``i`` iff for every ``s1`` in ``R+_i(s)`` there
is ``s2`` in ``R_{N-i}(s1)`` with ``s2`` not preferred to ``s`` by ``i``. Sanctions are
legal sequences of unilateral moves by the other movers (no mover twice in a row),
of any length.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict import sanctions
from backchannel.conflict.reachability import Game

IMPROVING = False
"""Sanctions use any unilateral moves of the other movers."""


def floor(game: Game, focal: int) -> NDArray[np.int64]:
    """Lowest payoff rank of ``focal`` reachable by the other movers from each state."""
    return game.closure_min(focal, game.movers[focal].preference.key, IMPROVING)


def safe(game: Game, focal: int, state: int) -> NDArray[np.bool_]:
    """States that end a GMR sanction against an improvement from ``state``."""
    return sanctions.not_better(game, focal, state)


def stable(game: Game, focal: int) -> NDArray[np.bool_]:
    """GMR-stable states of mover ``focal``."""
    return sanctions.stable_states(game, focal, floor, safe, IMPROVING)
