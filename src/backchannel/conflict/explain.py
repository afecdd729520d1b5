"""Explanations as data: each improvement of a mover and the sanction that deters it.

For Nash, GMR, SMR and SEQ the sanction is a *shortest* legal sequence of the other
movers' moves (improvements for SEQ) from the improved state to a state that is safe for
the focal mover (see :mod:`backchannel.conflict.sanctions`), found by breadth-first
search; for SMR the focal mover's best countermove from the end is recorded. For SIM it
is one simultaneous response (the fewest responders, then the lowest outcome index).
SEQ&SIM uses the sequential sanction when there is one. For limited-move and
non-myopic stability every unilateral move is listed with its anticipated sequence of
replies (see :mod:`backchannel.conflict.limited`).

Each sequential sanction is one search over every state; an explanation that would
search more than :data:`MAX_SEARCHED` states in all is refused before it starts.
"""

from __future__ import annotations

import dataclasses
from types import ModuleType

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict import gmr, limited, paths, seq, sim, smr
from backchannel.conflict.reachability import Game
from backchannel.conflict.reports import Explanation, Response, Sanction
from backchannel.errors import AnalysisError

MAX_SEARCHED = 50_000_000
"""The most states the searches of one explanation may visit, in all (about 30 s)."""

_SEQUENTIAL: dict[str, ModuleType] = {"gmr": gmr, "smr": smr, "seq": seq, "seqsim": seq}


def _sanction(
    game: Game, states: list[int], actors: list[str], *, simultaneous: bool = False
) -> Sanction:
    payoffs = tuple(tuple(int(v) for v in game.conflict.payoffs[:, s]) for s in states)
    return Sanction(tuple(states), tuple(actors), payoffs, simultaneous=simultaneous)


def _countermove(game: Game, focal: int, state: int) -> int | None:
    targets = game.movers[focal].moves.targets(state)
    if targets.size == 0:
        return None
    score = game.movers[focal].preference.ranks[:, targets].sum(axis=0)
    return int(targets[int(np.argmax(score))])


def _sequential(
    game: Game, focal: int, state: int, target: int, module: ModuleType
) -> Sanction | None:
    safe: NDArray[np.bool_] = module.safe(game, focal, state)
    predecessor, actor = paths.search(
        game, target, game.opponents(focal), module.IMPROVING, goal=safe
    )
    reached = predecessor >= 0
    hits = np.flatnonzero(reached & safe)
    if hits.size == 0:
        return None
    steps = paths.trace(predecessor, actor, target, int(hits[0])) or []
    states = [target] + [to for _, _, to in steps]
    sanction = _sanction(game, states, [game.movers[who].name for who, _, _ in steps])
    if module is smr:
        counter = _countermove(game, focal, states[-1])
        sanction = dataclasses.replace(sanction, countermove=counter)
    return sanction


def _simultaneous(game: Game, focal: int, state: int, target: int) -> Sanction | None:
    source = np.array([state], dtype=np.int64)
    row, outcome, who = sim.responses(game, focal, source, np.array([target], dtype=np.int64))
    pref = game.movers[focal].preference
    good = outcome >= 0
    good[good] = ~pref.better(outcome[good], source[row[good]])
    if not good.any():
        return None
    counts = np.array([bin(int(mask)).count("1") for mask in who])
    pick = min(np.flatnonzero(good), key=lambda k: (counts[k], outcome[k]))
    names = [game.movers[m].name for m in range(len(game.movers)) if int(who[pick]) >> m & 1]
    return _sanction(game, [target, int(outcome[pick])], ["&".join(names)], simultaneous=True)


def _anticipated(game: Game, focal: int, state: int, concept: str, horizon: int) -> Explanation:
    plan = limited.anticipate(game, horizon if concept == "limited" else None)
    level = len(plan.choice) - 1
    pref = game.movers[focal].preference
    responses: list[Response] = []
    for target in game.movers[focal].moves.targets(state):
        states, actors = [int(target)], []
        mover, depth = 1 - focal, level - 1
        while depth >= 1 and plan.choice[depth][mover][states[-1]] >= 0:
            states.append(int(plan.choice[depth][mover][states[-1]]))
            actors.append(game.movers[mover].name)
            mover, depth = 1 - mover, depth - 1
        gain = bool(pref.better(np.array([states[-1]]), np.array([state]))[0])
        responses.append(Response(int(target), not gain, _sanction(game, states, actors)))
    stable = bool(plan.stays(focal)[state])
    return Explanation(game.movers[focal].name, state, concept, stable, tuple(responses))


def explain_state(game: Game, focal: int, state: int, concept: str, horizon: int) -> Explanation:
    """Explain the stability of ``state`` for mover ``focal`` under ``concept``."""
    if concept in ("limited", "nonmyopic"):
        return _anticipated(game, focal, state, concept, horizon)
    responses: list[Response] = []
    improvements = game.improvements_from(focal, state)
    searched = improvements.size * game.n_states
    if concept in _SEQUENTIAL and searched > MAX_SEARCHED:
        raise AnalysisError(
            f"{game.movers[focal].name} has {improvements.size:,} improvements from this "
            f"state, each searched for a sanction over the {game.n_states:,} states: "
            f"{searched:,} states to visit, more than {MAX_SEARCHED:,}",
            hint="explain it under nash, or give the decision makers fewer options",
        )
    for target in improvements:
        sanction: Sanction | None = None
        if concept in _SEQUENTIAL:
            sanction = _sequential(game, focal, state, int(target), _SEQUENTIAL[concept])
        if sanction is None and concept in ("sim", "seqsim"):
            sanction = _simultaneous(game, focal, state, int(target))
        responses.append(Response(int(target), sanction is not None, sanction))
    stable = all(response.deterred for response in responses)
    return Explanation(game.movers[focal].name, state, concept, stable, tuple(responses))
