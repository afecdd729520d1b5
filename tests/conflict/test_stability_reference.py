"""The fast engine agrees with the explicit-set reference on random conflicts."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings

from backchannel.conflict import analyze, gmr, nash, seq, seqsim, sim, smr
from backchannel.conflict.compiled_conflict import CompiledConflict
from backchannel.conflict.reachability import Game

from .reference import Reference
from .strategies import conflicts


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


SANCTIONS = ("nash", "gmr", "smr", "seq", "sim", "seqsim")
SOLVERS = {"nash": nash, "gmr": gmr, "smr": smr, "seq": seq, "sim": sim, "seqsim": seqsim}


def _check(conflict: CompiledConflict, concepts: tuple[str, ...], horizon: int = 2) -> None:
    report = analyze(conflict, concepts, horizon=horizon)
    reference = Reference(conflict)
    for concept in concepts:
        expected_eq = None
        for index, mover in enumerate(report.movers):
            expected = reference.stable(concept, index, horizon)
            assert report.stable_states(concept, mover) == expected, (concept, mover)
            expected_eq = set(expected) if expected_eq is None else expected_eq & set(expected)
        assert sorted(expected_eq or ()) == report.equilibria[concept].tolist()


@_settings(600)
@given(conflicts(min_dms=2, max_dms=4, max_options=7))
def test_agrees_with_reference_with_irreversible_options(conflict: CompiledConflict) -> None:
    _check(conflict, SANCTIONS)


@_settings(300)
@given(conflicts(min_dms=3, max_dms=5, max_options=7, coalitions=True, misperception=True))
def test_agrees_with_reference_with_coalitions_and_misperception(
    conflict: CompiledConflict,
) -> None:
    _check(conflict, SANCTIONS)


@_settings(200)
@given(conflicts(min_dms=2, max_dms=2, max_options=5, misperception=True))
def test_limited_move_and_non_myopic_agree_with_reference(conflict: CompiledConflict) -> None:
    for horizon in (1, 2, 3):
        _check(conflict, ("limited",), horizon)
    _check(conflict, ("nonmyopic",))


@_settings(200)
@given(conflicts(min_dms=2, max_dms=4, max_options=6, coalitions=True, uncertainty=True))
def test_uncertainty_readings_agree_with_reference(conflict: CompiledConflict) -> None:
    """The robust reading (what ``analyze(preferences="robust")`` reports) and the tie
    reading (the lower bound of possible stability) against the reference."""
    report = analyze(conflict, SANCTIONS, preferences="robust")
    tie = Game(conflict, "tie")
    for index, mover in enumerate(report.movers):
        robust, tied = Reference(conflict, "robust", index), Reference(conflict, "tie")
        for concept in SANCTIONS:
            expected = robust.stable(concept, index)
            assert report.stable_states(concept, mover) == expected, ("robust", concept, mover)
            found = np.flatnonzero(SOLVERS[concept].stable(tie, index)).tolist()
            assert found == tied.stable(concept, index), ("tie", concept, mover)
