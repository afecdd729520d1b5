"""Limited-move stability ``L_h`` and non-myopic stability (NM), for two movers.

Definitions (Kilgour 1985, "Anticipation and stability in two-person non-cooperative
games"; Kilgour, Hipel & Fang 1987; Fang, Hipel & Kilgour 1993, Defs. 3.6-3.7). With
two movers ``i`` and ``j`` who alternate, the *anticipated outcome* ``G_h(i, s)`` when
``i`` is about to move at ``s`` with ``h`` moves left is

* ``G_0(i, s) = s``;
* for ``h >= 1``: let ``M = {t in R_i(s) : G_{h-1}(j, t) preferred by i to s}``. If
  ``M`` is empty, ``i`` stays and ``G_h(i, s) = s``; otherwise ``i`` moves to the ``t``
  in ``M`` whose anticipated outcome ``i`` likes best, and ``G_h(i, s) = G_{h-1}(j, t)``.

``s`` is ``L_h`` stable for ``i`` iff ``M`` is empty at horizon ``h`` (so ``L_1`` is
Nash). NM stability is the limit ``h -> infinity``. ``G_h`` depends only on ``G_{h-1}``,
so the sequence of anticipations becomes periodic (often constant: a fixpoint); we
iterate until an anticipation repeats and call ``s`` NM stable for ``i`` iff it is
``L_h`` stable for every ``h`` in the period, i.e. for all sufficiently large ``h``
(Kilgour 1985 takes the limit where it exists; with ties in preferences it may cycle).
Ties in ``i``'s choice are broken against the other mover (the outcome ``j`` likes
least), then by the lowest target index; the stability results depend only on
payoffs, so the index tie-break never changes them. The definitions are for two
movers; other conflicts raise :class:`~backchannel.errors.AnalysisError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict.reachability import Game
from backchannel.errors import AnalysisError


@dataclass(frozen=True)
class Anticipation:
    """Choices per horizon: ``choice[h][i][s]`` is where ``i`` moves from ``s`` with
    ``h`` moves left (``-1`` to stay); ``outcome[h][i][s]`` is ``G_h(i, s)``. For NM,
    horizons ``period_start`` to the last one repeat forever."""

    choice: tuple[tuple[NDArray[np.int64], NDArray[np.int64]], ...]
    outcome: tuple[tuple[NDArray[np.int64], NDArray[np.int64]], ...]
    period_start: int

    def stays(self, focal: int) -> NDArray[np.bool_]:
        """Whether ``focal`` stays at each state at every horizon of the period."""
        levels = self.choice[self.period_start :]
        stays: NDArray[np.bool_] = np.logical_and.reduce([level[focal] < 0 for level in levels])
        return stays


def _check(game: Game) -> None:
    if len(game.movers) != 2:
        raise AnalysisError(
            "limited-move and non-myopic stability are defined for exactly two movers; "
            f"this conflict has {len(game.movers)}"
        )
    if not all(mover.preference.scalar for mover in game.movers):
        raise AnalysisError(
            "limited-move and non-myopic stability need each mover to be one decision "
            "maker with a complete ranking"
        )


def _level(
    game: Game, previous: tuple[NDArray[np.int64], NDArray[np.int64]]
) -> tuple[
    tuple[NDArray[np.int64], NDArray[np.int64]], tuple[NDArray[np.int64], NDArray[np.int64]]
]:
    choices: list[NDArray[np.int64]] = []
    outcomes: list[NDArray[np.int64]] = []
    for me in (0, 1):
        mine = game.movers[me].preference.key
        theirs = game.movers[1 - me].preference.key
        source, target = game.move_pairs(me)
        anticipated = previous[1 - me][target]
        keep = mine[anticipated] > mine[source]
        source, target, anticipated = source[keep], target[keep], anticipated[keep]
        order = np.lexsort((target, theirs[anticipated], -mine[anticipated], source))
        first = order[np.r_[True, source[order][1:] != source[order][:-1]]] if order.size else order
        choice = np.full(game.n_states, -1, dtype=np.int64)
        outcome = np.arange(game.n_states, dtype=np.int64)
        choice[source[first]] = target[first]
        outcome[source[first]] = anticipated[first]
        choices.append(choice)
        outcomes.append(outcome)
    return (choices[0], choices[1]), (outcomes[0], outcomes[1])


def anticipate(game: Game, horizon: int | None) -> Anticipation:
    """Choices and outcomes for horizons ``1..horizon``, or up to the NM fixpoint.

    Raises
    ------
    AnalysisError
        Not two scalar movers, a horizon below 1, or no repetition within ``4 S + 8``
        horizons.
    """
    _check(game)
    if horizon is not None and horizon < 1:
        raise AnalysisError(f"the horizon must be at least 1, not {horizon}")
    start = np.arange(game.n_states, dtype=np.int64)
    outcome: tuple[NDArray[np.int64], NDArray[np.int64]] = (start, start)
    stay = np.full(game.n_states, -1, dtype=np.int64)
    choices: list[tuple[NDArray[np.int64], NDArray[np.int64]]] = [(stay, stay)]
    outcomes = [outcome]
    seen = {b"".join(part.tobytes() for part in outcome): 0}
    limit = horizon if horizon is not None else 4 * game.n_states + 8
    for level in range(1, limit + 1):
        choice, outcome = _level(game, outcome)
        choices.append(choice)
        outcomes.append(outcome)
        fingerprint = b"".join(part.tobytes() for part in outcome)
        if horizon is None and fingerprint in seen:  # choices from seen+1 on repeat
            return Anticipation(tuple(choices), tuple(outcomes), seen[fingerprint] + 1)
        seen[fingerprint] = level
    if horizon is None:
        raise AnalysisError("non-myopic anticipation did not become periodic")
    return Anticipation(tuple(choices), tuple(outcomes), horizon)


def stable(game: Game, focal: int, horizon: int) -> NDArray[np.bool_]:
    """``L_h``-stable states of mover ``focal``."""
    return anticipate(game, horizon).choice[horizon][focal] < 0


def stable_nonmyopic(game: Game, focal: int) -> NDArray[np.bool_]:
    """NM-stable states of mover ``focal``."""
    return anticipate(game, None).stays(focal)
