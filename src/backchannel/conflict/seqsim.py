"""SEQ & SIM stability: every improvement is deterred sequentially or simultaneously.

Definition used here (after Fang, Hipel & Kilgour 1993, who combine the two sanctioning
modes): ``s`` is SEQ&SIM stable for ``i`` iff every ``s1`` in ``R+_i(s)`` is deterred
either by a SEQ sanction (:mod:`backchannel.conflict.seq`) or by a SIM response
(:mod:`backchannel.conflict.sim`). Hence SEQ and SIM stable states are both SEQ&SIM
stable. gmcr-py instead marks a state when it is SEQ stable or SIM stable as a whole,
which can only find fewer states.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict import sanctions, seq, sim
from backchannel.conflict.reachability import Game


def stable(game: Game, focal: int) -> NDArray[np.bool_]:
    """SEQ&SIM-stable states of mover ``focal``."""
    source, _, by_seq = sanctions.deterred_improvements(
        game, focal, seq.floor, seq.safe, seq.IMPROVING
    )
    _, _, by_sim = sim.deterred_improvements(game, focal)
    result = np.ones(game.n_states, dtype=bool)
    result[source[~(by_seq | by_sim)]] = False
    return result
