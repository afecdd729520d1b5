"""Explanations and status-quo paths are consistent with the stability results and
with the definitions (every step a legal move of the named actor)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from backchannel.conflict import analyze, explain, status_quo_paths
from backchannel.conflict.compiled_conflict import CompiledConflict, Reversibility
from backchannel.errors import InputError

from .reference import Reference
from .strategies import conflicts

CONCEPTS = ("nash", "gmr", "smr", "seq", "sim", "seqsim")


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


def _mover_of(reference: Reference, name: str) -> int:
    return reference.names.index(name)


@_settings(40)
@given(conflicts(min_dms=2, max_dms=4, max_options=6, coalitions=True, misperception=True))
def test_explanations_match_stability_and_are_legal(conflict: CompiledConflict) -> None:
    report = analyze(conflict, CONCEPTS)
    reference = Reference(conflict)
    for concept in CONCEPTS:
        for focal, mover in enumerate(report.movers):
            for state in range(min(conflict.n_states, 3)):
                why = explain(conflict, mover, state, concept)
                assert why.stable == bool(report.stable[concept][focal, state])
                assert {r.target for r in why.responses} == reference.improvements(focal, state)
                for response in why.responses:
                    sanction = response.sanction
                    assert response.deterred == (sanction is not None)
                    if sanction is None:
                        continue
                    assert sanction.states[0] == response.target
                    assert len(sanction.actors) == len(sanction.states) - 1
                    end = sanction.states[-1]
                    assert not reference.better(focal, end, state)
                    if concept == "seqsim":  # a SIM sanction only where SEQ has none
                        by_seq = explain(conflict, mover, state, "seq").responses
                        sequential = {r.target for r in by_seq if r.deterred}
                        assert sanction.simultaneous == (response.target not in sequential)
                    else:
                        assert sanction.simultaneous == (concept == "sim")
                    if sanction.simultaneous:
                        assert len(sanction.states) == 2
                        continue
                    for k, actor in enumerate(sanction.actors):
                        who = _mover_of(reference, actor)
                        assert who != focal
                        if k:
                            assert actor != sanction.actors[k - 1]
                        a, b = sanction.states[k], sanction.states[k + 1]
                        steps = (
                            reference.improvements
                            if concept in ("seq", "seqsim")
                            else reference.moves
                        )
                        assert b in steps(who, a)
                    if concept == "smr":
                        assert all(
                            not reference.better(focal, s3, state)
                            for s3 in reference.moves(focal, end)
                        )


@_settings(120)
@given(conflicts(min_dms=2, max_dms=4, max_options=6))
def test_status_quo_paths_are_shortest_legal_sequences(conflict: CompiledConflict) -> None:
    report = status_quo_paths(conflict, ("nash", "gmr"))
    reference = Reference(conflict)
    start = conflict.status_quo
    assert start is not None
    for improving in (True, False):
        step = reference.improvements if improving else reference.moves
        # reference BFS distances over any movers
        distance = {start: 0}
        layer = [start]
        while layer:
            following = []
            for s in layer:
                for m in range(len(reference.groups)):
                    for t in step(m, s):
                        if t not in distance:
                            distance[t] = distance[s] + 1
                            following.append(t)
            layer = following
        count = report.reachable_by_improvements if improving else report.reachable_by_moves
        assert count == len(distance)
        for path in report.paths:
            steps = path.by_improvements if improving else path.by_moves
            if path.target not in distance:
                assert steps is None
                continue
            assert steps is not None and len(steps) == distance[path.target]
            state = start
            for k, (actor, a, b) in enumerate(steps):
                assert a == state and b in step(reference.names.index(actor), a)
                assert k == 0 or actor != steps[k - 1][0]
                state = b
            assert state == path.target


def test_limited_move_explanation_shows_the_anticipated_replies() -> None:
    pd = CompiledConflict(
        title="pd",
        option_ids=("a", "b"),
        dm_ids=("A", "B"),
        dm_options=((0,), (1,)),
        states=np.arange(4, dtype=np.uint64),
        payoffs=np.array([[3, 4, 1, 2], [3, 1, 4, 2]], dtype=np.int64),
        reversibility=(Reversibility.BOTH,) * 2,
    )
    why = explain(pd, "A", 0, "limited", horizon=2)
    assert why.stable
    (defect,) = why.responses
    assert defect.target == 1 and defect.deterred
    assert defect.sanction is not None
    assert defect.sanction.states == (1, 3) and defect.sanction.actors == ("B",)


def test_bad_requests_are_input_errors() -> None:
    conflict = CompiledConflict(
        title="t",
        option_ids=("a", "b"),
        dm_ids=("A", "B"),
        dm_options=((0,), (1,)),
        states=np.arange(4, dtype=np.uint64),
        payoffs=np.zeros((2, 4), dtype=np.int64),
        reversibility=(Reversibility.BOTH,) * 2,
    )
    with pytest.raises(InputError, match="unknown decision maker 'C'"):
        explain(conflict, "C", 0, "nash")
    with pytest.raises(InputError, match="not a feasible state"):
        explain(conflict, "A", 9, "nash")
    with pytest.raises(InputError, match="unknown solution concept 'xyz'"):
        analyze(conflict, ("xyz",))
