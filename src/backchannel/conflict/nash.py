"""Nash stability (R): the focal mover has no unilateral improvement.

Definition: Fang, Hipel & Kilgour 1993, *Interactive Decision Making*, Def. 3.1 (after
Nash 1951 and Howard 1971): ``s`` is Nash stable for ``i`` iff ``R+_i(s)`` is empty.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict.reachability import Game


def stable(game: Game, focal: int) -> NDArray[np.bool_]:
    """Nash-stable states of mover ``focal``."""
    return ~game.has_improvement(focal)
