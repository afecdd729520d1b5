"""Typed results of the GMCR analyses (frozen dataclasses; states are indices into
``CompiledConflict.states``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict.compiled_conflict import CompiledConflict


@dataclass(frozen=True)
class StabilityReport:
    """Stable states of every mover and the equilibria, per solution concept.

    Attributes
    ----------
    conflict:
        The analysed conflict.
    movers:
        Mover names: a decision maker's id, or a coalition's member ids joined with ``+``.
    concepts:
        The concepts analysed, in order; ``"mixed"`` is added when ``per_mover`` is set.
    stable:
        ``stable[concept]`` is a ``bool`` array of shape ``(len(movers), S)``.
    equilibria:
        ``equilibria[concept]``: sorted indices of the states stable for every mover.
    horizon:
        The horizon used for ``"limited"``.
    per_mover:
        The concept of each mover in the ``"mixed"`` analysis, if any.
    preferences:
        ``"given"``, ``"robust"`` or ``"possible"`` (see ``uncertainty``).
    """

    conflict: CompiledConflict
    movers: tuple[str, ...]
    concepts: tuple[str, ...]
    stable: Mapping[str, NDArray[np.bool_]]
    equilibria: Mapping[str, NDArray[np.int64]]
    horizon: int
    per_mover: Mapping[str, str] | None = None
    preferences: str = "given"

    def stable_states(self, concept: str, mover: str) -> list[int]:
        """Indices of the states stable for ``mover`` under ``concept``."""
        row = self.stable[concept][self.movers.index(mover)]
        return [int(state) for state in np.flatnonzero(row)]

    def is_equilibrium(self, concept: str, state: int) -> bool:
        """Whether ``state`` is an equilibrium under ``concept`` (a binary search)."""
        found = self.equilibria[concept]
        at = int(np.searchsorted(found, state))
        return at < found.size and int(found[at]) == state

    def shown_states(self, concept: str, limit: int) -> tuple[list[int], int]:
        """The states a table of ``concept`` shows, and how many it would show unbounded.

        Every state when there are at most ``limit``, else the equilibria: at most
        ``limit`` of them, first in the order of their Y/N strings (found on the codes,
        without writing every state out).
        """
        conflict = self.conflict
        if conflict.n_states <= limit:
            return list(range(conflict.n_states)), conflict.n_states
        found = self.equilibria[concept]
        codes = conflict.states[found]
        width = len(conflict.option_ids)
        key = np.zeros(found.size, dtype=np.uint64)  # option 0 first, as the strings read
        for j in range(width):
            key |= ((codes >> np.uint64(j)) & np.uint64(1)) << np.uint64(width - 1 - j)
        first = np.argsort(key, kind="stable")[:limit]
        return [int(found[k]) for k in first], int(found.size)


@dataclass(frozen=True)
class UncertaintyReport:
    """Stability under preference uncertainty: robust (stable under every completion of
    the unranked pairs) and possible (stable under some completion; a possible
    equilibrium is stable for every mover under one completion). Both are exact; see
    :mod:`backchannel.conflict.uncertainty`."""

    robust: StabilityReport
    possible: StabilityReport


@dataclass(frozen=True)
class Sanction:
    """What follows a focal move: a sequence of the other movers' moves.

    Attributes
    ----------
    states:
        The states from the focal mover's target to the end of the sanction.
    actors:
        Who moves at each step (``len(states) - 1`` entries); a simultaneous response is
        one step whose actor is the responders joined with ``&``.
    payoffs:
        For each state in ``states``, every decision maker's payoff (file order).
    countermove:
        SMR: the focal mover's best move from the last state (no better than the start
        for it), or ``None`` when it has none.
    simultaneous:
        True for a SIM response (the focal move and the responders' moves happen at
        once: ``states`` is the target, then the joint outcome), False for a sequence.
    """

    states: tuple[int, ...]
    actors: tuple[str, ...]
    payoffs: tuple[tuple[int, ...], ...]
    countermove: int | None = None
    simultaneous: bool = False


@dataclass(frozen=True)
class Response:
    """One move of the focal mover from the explained state and what deters it.

    ``deterred`` is False with ``sanction=None`` when no sanction exists. For limited-move
    and non-myopic stability ``sanction`` is the anticipated sequence of replies.
    """

    target: int
    deterred: bool
    sanction: Sanction | None


@dataclass(frozen=True)
class Explanation:
    """Why ``state`` is (or is not) stable for ``mover`` under ``concept``."""

    mover: str
    state: int
    concept: str
    stable: bool
    responses: tuple[Response, ...]


@dataclass(frozen=True)
class Path:
    """Shortest legal sequences from the status quo to ``target``; ``None`` if unreachable.

    Steps are ``(mover, from_state, to_state)``.
    """

    target: int
    by_improvements: tuple[tuple[str, int, int], ...] | None
    by_moves: tuple[tuple[str, int, int], ...] | None


@dataclass(frozen=True)
class PathsReport:
    """Status-quo analysis: paths to each equilibrium of the analysed concepts."""

    status_quo: int
    concepts: tuple[str, ...]
    paths: tuple[Path, ...]
    reachable_by_improvements: int
    reachable_by_moves: int
