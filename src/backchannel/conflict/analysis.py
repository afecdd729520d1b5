"""The GMCR stability engine's facade: :func:`analyze`, :func:`explain`,
:func:`status_quo_paths` and :func:`analyze_uncertain`.

Each solution concept lives in its own module (``nash``, ``gmr``, ``smr``, ``seq``,
``sim``, ``seqsim``, ``limited``); this module only dispatches and assembles typed
results. See ``docs/explanation/conflict-analysis.md`` for the definitions as implemented.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict import gmr, limited, nash, paths, possible, seq, seqsim, sim, smr
from backchannel.conflict.compiled_conflict import CompiledConflict
from backchannel.conflict.explain import explain_state
from backchannel.conflict.movers import PreferenceMode, has_unranked, mover_groups
from backchannel.conflict.reachability import Game
from backchannel.conflict.reports import (
    Explanation,
    Path,
    PathsReport,
    StabilityReport,
    UncertaintyReport,
)
from backchannel.errors import AnalysisError, InputError, listing

CONCEPTS = ("nash", "gmr", "smr", "seq", "sim", "seqsim", "limited", "nonmyopic")
"""Every solution concept, in the order reports list them."""

DEFAULT_CONCEPTS = ("nash", "gmr", "smr", "seq", "sim", "seqsim")
"""Concepts analysed when none are named (limited-move needs two movers)."""

LISTING_MOVES = frozenset({"sim", "seqsim", "limited", "nonmyopic"})
"""Concepts that list every move of a mover (see :meth:`Game.check_pairs`)."""


def _solver(concept: str, horizon: int) -> Callable[[Game, int], NDArray[np.bool_]]:
    simple: dict[str, Callable[[Game, int], NDArray[np.bool_]]] = {
        "nash": nash.stable,
        "gmr": gmr.stable,
        "smr": smr.stable,
        "seq": seq.stable,
        "sim": sim.stable,
        "seqsim": seqsim.stable,
        "nonmyopic": limited.stable_nonmyopic,
    }
    if concept == "limited":
        return lambda game, focal: limited.stable(game, focal, horizon)
    return simple[concept]


def _check_concepts(concepts: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(concepts))
    unknown = [concept for concept in chosen if concept not in CONCEPTS]
    if unknown:
        raise InputError(
            f"unknown solution concept {unknown[0]!r}; choose from {', '.join(CONCEPTS)}"
        )
    if not chosen:
        raise InputError("name at least one solution concept")
    return chosen


def mover_names(conflict: CompiledConflict) -> tuple[str, ...]:
    """The movers' names: DM ids, coalitions as member ids joined with ``+``."""
    return tuple("+".join(conflict.dm_ids[dm] for dm in group) for group in mover_groups(conflict))


def mover_index(conflict: CompiledConflict, name: str) -> int:
    """Index of the mover called ``name`` (a DM id, or a coalition's ``A+B`` name).

    A member's DM id also finds its coalition.
    """
    names = mover_names(conflict)
    if name in names:
        return names.index(name)
    for index, group in enumerate(mover_groups(conflict)):
        if name in (conflict.dm_ids[dm] for dm in group):
            return index
    raise InputError(f"unknown decision maker {name!r}; the movers are {listing(names)}")


def _unscanned(game: Game) -> list[int]:
    """The movers whose improvements are listed, not scanned: those without a scalar
    preference (unranked pairs)."""
    return [k for k, mover in enumerate(game.movers) if not mover.preference.scalar]


def _games(conflict: CompiledConflict, mode: PreferenceMode) -> Callable[[int], Game]:
    if mode == "robust" and has_unranked(conflict):  # the reading depends on the focal mover
        return lambda focal: Game(conflict, "robust", focal)
    shared = Game(conflict)
    return lambda focal: shared


def analyze(
    conflict: CompiledConflict,
    concepts: Iterable[str] = DEFAULT_CONCEPTS,
    *,
    horizon: int = 2,
    per_mover: Mapping[str, str] | None = None,
    preferences: PreferenceMode = "given",
) -> StabilityReport:
    """Stable states of each mover and the equilibria under each concept.

    Parameters
    ----------
    conflict:
        The compiled conflict.
    concepts:
        Names from :data:`CONCEPTS`.
    horizon:
        The horizon ``h`` of limited-move stability ``L_h``.
    per_mover:
        A concept per mover (name -> concept) for a mixed analysis, reported as
        ``"mixed"``; movers not named use Nash.
    preferences:
        ``"given"`` ignores unranked pairs; ``"robust"`` reports the states stable under
        every completion of them, ``"possible"`` those stable under some completion (see
        :mod:`backchannel.conflict.uncertainty`).

    Raises
    ------
    InputError
        Unknown concept or mover.
    AnalysisError
        A concept that does not apply (e.g. limited-move with three movers, or with
        unranked pairs under ``"robust"`` or ``"possible"``), or more unranked pairs
        bearing on one state than the exact search of possible stability enumerates.
    """
    chosen = _check_concepts(concepts)
    if conflict.n_states == 0:
        raise AnalysisError("the conflict has no feasible state")
    names = mover_names(conflict)
    mixed: dict[str, str] | None = None
    if per_mover is not None:
        mixed = dict.fromkeys(names, "nash")
        for name, concept in per_mover.items():
            mixed[names[mover_index(conflict, name)]] = _check_concepts([concept])[0]
    needed = list(chosen) + (sorted(set(mixed.values()) - set(chosen)) if mixed else [])
    count = len(names)
    stable: dict[str, NDArray[np.bool_]] = {}
    search: possible.Search | None = None
    if preferences == "possible" and has_unranked(conflict):
        search = possible.Search(conflict, lambda concept: _solver(concept, horizon))
        for concept in needed:
            stable[concept] = np.stack([search.stable(concept, i) for i in range(count)])
    else:
        game_for = _games(conflict, preferences)
        first = game_for(0)  # check before any work, rather than after the cheaper concepts
        first.check_pairs(None if LISTING_MOVES & set(needed) else _unscanned(first))
        for concept in needed:
            solve = _solver(concept, horizon)
            stable[concept] = np.stack([solve(game_for(i), i) for i in range(count)])
    if mixed is not None:
        stable["mixed"] = np.stack([stable[mixed[name]][i] for i, name in enumerate(names)])
    reported = chosen + (("mixed",) if mixed is not None else ())
    table = {concept: stable[concept] for concept in reported}
    equilibria: dict[str, NDArray[np.int64]] = {}
    for concept, rows in table.items():
        if search is None:  # given, or robust: stable under every completion, for all movers
            equilibria[concept] = np.flatnonzero(rows.all(axis=0)).astype(np.int64)
        else:
            each = tuple(mixed[name] for name in names) if mixed and concept == "mixed" else None
            equilibria[concept] = search.equilibria(each or (concept,) * count, rows, concept)
    return StabilityReport(
        conflict, names, reported, table, equilibria, horizon, mixed, preferences
    )


def analyze_uncertain(
    conflict: CompiledConflict, concepts: Iterable[str] = DEFAULT_CONCEPTS, *, horizon: int = 2
) -> UncertaintyReport:
    """Robust and possible stability under preference uncertainty (unranked pairs).

    Both readings are exact (see :mod:`backchannel.conflict.uncertainty`).

    Raises
    ------
    AnalysisError
        As :func:`analyze`.
    """
    return UncertaintyReport(
        robust=analyze(conflict, concepts, horizon=horizon, preferences="robust"),
        possible=analyze(conflict, concepts, horizon=horizon, preferences="possible"),
    )


def explain(
    conflict: CompiledConflict,
    mover: str,
    state: int,
    concept: str,
    *,
    horizon: int = 2,
) -> Explanation:
    """Every improvement of ``mover`` from ``state`` and the sanction that deters it.

    Preferences are read as given (unranked pairs ignored).

    Raises
    ------
    InputError
        Unknown mover, state index or concept.
    """
    focal = mover_index(conflict, mover)
    concept = _check_concepts([concept])[0]
    if not 0 <= state < conflict.n_states:
        raise InputError(f"state {state} is not a feasible state index")
    game = Game(conflict)
    return explain_state(game, focal, state, concept, horizon)


def status_quo_paths(
    conflict: CompiledConflict,
    concepts: Iterable[str] = ("nash", "gmr", "smr", "seq"),
    *,
    horizon: int = 2,
    status_quo: int | None = None,
) -> PathsReport:
    """Shortest legal paths from the status quo to each equilibrium of ``concepts``.

    Raises
    ------
    InputError
        When the conflict names no status quo and none is given.
    """
    start = conflict.status_quo if status_quo is None else status_quo
    if start is None or not 0 <= start < conflict.n_states:
        raise InputError("the conflict has no status quo state; set one to trace paths")
    game = Game(conflict)
    game.check_pairs(_unscanned(game))  # before the analysis, when a search will list moves
    report = analyze(conflict, concepts, horizon=horizon)
    targets = sorted({int(s) for states in report.equilibria.values() for s in states})
    everyone = list(range(len(game.movers)))
    traces = []
    for improving in (True, False):
        predecessor, actor = paths.search(game, start, everyone, improving)
        traces.append((predecessor, actor, int((predecessor >= 0).sum()) + 1))
    result = []
    for target in targets:
        found = [paths.trace(predecessor, actor, start, target) for predecessor, actor, _ in traces]
        named = [
            None
            if steps is None
            else tuple((game.movers[who].name, source, to) for who, source, to in steps)
            for steps in found
        ]
        result.append(Path(target, named[0], named[1]))
    return PathsReport(start, report.concepts, tuple(result), traces[0][2], traces[1][2])
