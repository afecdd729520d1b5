"""Robust and possible stability equal an oracle that tries every completion.

A completion decides each unranked pair of each decision maker: better, worse or equal
(no transitivity asked). The oracle runs the ordinary engine on each completion (an
explicit one, :data:`backchannel.conflict.movers.Completion`) and takes, per mover and
concept, the intersection (robust) and the union (possible) of the stable states, and
the intersection and the union of the equilibria.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from backchannel.conflict import (
    analyze,
    analyze_uncertain,
    gmr,
    nash,
    possible,
    seq,
    seqsim,
    sim,
    smr,
)
from backchannel.conflict.compiled_conflict import CompiledConflict, Reversibility
from backchannel.conflict.movers import Completion, unranked_pairs
from backchannel.conflict.reachability import Game
from backchannel.errors import AnalysisError, InputError

from .reference import Reference
from .strategies import conflicts

SOLVERS: dict[str, Callable[[Game, int], NDArray[np.bool_]]] = {
    "nash": nash.stable,
    "gmr": gmr.stable,
    "smr": smr.stable,
    "seq": seq.stable,
    "sim": sim.stable,
    "seqsim": seqsim.stable,
}
CONCEPTS = tuple(SOLVERS)
MAX_PAIRS = 5  # 3**5 = 243 completions


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


def _pairs(conflict: CompiledConflict) -> list[tuple[int, int, int]]:
    return [
        (dm, int(a), int(b))
        for dm in range(len(conflict.dm_ids))
        for a, b in unranked_pairs(conflict, dm)
    ]


def completions(conflict: CompiledConflict) -> Iterator[tuple[Completion, bool]]:
    """Every completion (each pair better, worse or equal), and whether it is *strict*:
    no pair equal."""
    pairs = _pairs(conflict)
    for choice in itertools.product((0, 1, 2), repeat=len(pairs)):
        rows: list[list[tuple[int, int]]] = [[] for _ in conflict.dm_ids]
        for (dm, a, b), value in zip(pairs, choice, strict=True):
            if value:
                rows[dm].append((b, a) if value == 1 else (a, b))
        completion = tuple(np.array(r, dtype=np.int64) if r else None for r in rows)
        yield completion, 0 not in choice


class Oracle:
    """Stable states and equilibria over a set of completions."""

    def __init__(self, conflict: CompiledConflict, concepts: dict[str, tuple[str, ...]]):
        n_movers = len(Game(conflict).movers)
        shape = (n_movers, conflict.n_states)
        self.possible = {c: np.zeros(shape, bool) for c in concepts}
        self.robust = {c: np.ones(shape, bool) for c in concepts}
        self.strict = {c: np.zeros(shape, bool) for c in concepts}
        self.possible_eq = {c: np.zeros(conflict.n_states, bool) for c in concepts}
        self.robust_eq = {c: np.ones(conflict.n_states, bool) for c in concepts}
        self.strict_eq = {c: np.zeros(conflict.n_states, bool) for c in concepts}
        for completion, is_strict in completions(conflict):
            game = Game(conflict, completion=completion)
            rows_of = {
                name: np.stack([SOLVERS[name](game, i) for i in range(n_movers)])
                for name in {n for per in concepts.values() for n in per}
            }
            for label, per in concepts.items():
                rows = np.stack([rows_of[name][i] for i, name in enumerate(per)])
                eq = rows.all(axis=0)
                self.possible[label] |= rows
                self.robust[label] &= rows
                self.possible_eq[label] |= eq
                self.robust_eq[label] &= eq
                if is_strict:
                    self.strict[label] |= rows
                    self.strict_eq[label] |= eq


def _check(conflict: CompiledConflict) -> None:
    n_movers = len(Game(conflict).movers)
    oracle = Oracle(conflict, {c: (c,) * n_movers for c in CONCEPTS})
    report = analyze_uncertain(conflict, CONCEPTS)
    for concept in CONCEPTS:
        found = np.asarray(report.possible.stable[concept])
        assert np.array_equal(found, oracle.possible[concept]), concept
        found = np.asarray(report.robust.stable[concept])
        assert np.array_equal(found, oracle.robust[concept]), concept
        eq = report.possible.equilibria[concept].tolist()
        assert eq == np.flatnonzero(oracle.possible_eq[concept]).tolist(), concept
        eq = report.robust.equilibria[concept].tolist()
        assert eq == np.flatnonzero(oracle.robust_eq[concept]).tolist(), concept
        # "equal" is never needed for possible stability: orientations alone suffice
        assert np.array_equal(oracle.strict[concept], oracle.possible[concept]), concept
        assert np.array_equal(oracle.strict_eq[concept], oracle.possible_eq[concept]), concept
    # the search alone, without the bounds that usually spare it, on every state
    search = possible.Search(conflict, SOLVERS.__getitem__)
    for concept in possible.SEARCHED:
        for state in range(conflict.n_states):
            for i in range(n_movers):
                found = search.decide(state, {i: concept}, concept, "")
                assert found == oracle.possible[concept][i, state], (concept, i, state)
            found = search.decide(state, dict.fromkeys(range(n_movers), concept), concept, "")
            assert found == oracle.possible_eq[concept][state], (concept, state)


@_settings(60)
@given(
    conflicts(
        min_dms=2,
        max_dms=3,
        max_options=5,
        irreversible=True,
        uncertainty=True,
        max_unranked=3,
        own_moves=True,
    ).filter(lambda c: 1 <= len(_pairs(c)) <= MAX_PAIRS)
)
def test_robust_and_possible_equal_the_oracle(conflict: CompiledConflict) -> None:
    _check(conflict)


@_settings(30)
@given(
    conflicts(
        min_dms=3,
        max_dms=4,
        max_options=5,
        coalitions=True,
        misperception=True,
        uncertainty=True,
        max_unranked=2,
        own_moves=True,
    ).filter(lambda c: 1 <= len(_pairs(c)) <= MAX_PAIRS)
)
def test_robust_and_possible_equal_the_oracle_with_coalitions(
    conflict: CompiledConflict,
) -> None:
    _check(conflict)


@_settings(40)
@given(
    conflicts(min_dms=2, max_dms=3, max_options=5, uncertainty=True, own_moves=True).filter(
        lambda c: 1 <= len(_pairs(c)) <= 4
    ),
    st.data(),
)
def test_mixed_possible_equilibria_equal_the_oracle(
    conflict: CompiledConflict, data: st.DataObject
) -> None:
    names = analyze(conflict, ("nash",)).movers
    per = tuple(data.draw(st.sampled_from(CONCEPTS)) for _ in names)
    oracle = Oracle(conflict, {"mixed": per})
    report = analyze(
        conflict, ("nash",), per_mover=dict(zip(names, per, strict=True)), preferences="possible"
    )
    assert np.array_equal(np.asarray(report.stable["mixed"]), oracle.possible["mixed"])
    expected = np.flatnonzero(oracle.possible_eq["mixed"]).tolist()
    assert report.equilibria["mixed"].tolist() == expected


@_settings(60)
@given(
    conflicts(min_dms=2, max_dms=4, max_options=5, coalitions=True, uncertainty=True),
    st.data(),
)
def test_an_explicit_completion_agrees_with_the_reference(
    conflict: CompiledConflict, data: st.DataObject
) -> None:
    """The oracle's engine runs are right: an explicit completion, the engine against
    the explicit-set reference."""
    every = [c for c, _ in completions(conflict)] if len(_pairs(conflict)) <= 4 else None
    completion = data.draw(st.sampled_from(every)) if every else next(completions(conflict))[0]
    game = Game(conflict, completion=completion)
    reference = Reference(conflict, completion=completion)
    for concept, solve in SOLVERS.items():
        for i in range(len(game.movers)):
            assert np.flatnonzero(solve(game, i)).tolist() == reference.stable(concept, i)


# -- hand-built cases ------------------------------------------------------------------
B = Reversibility.BOTH


def _two_by_two(payoffs: list[list[int]], unranked: list[list[list[int]] | None]):
    """D0 controls option 0, D1 option 1; states 0 = NN, 1 = YN, 2 = NY, 3 = YY."""
    return CompiledConflict(
        title="t",
        option_ids=("o0", "o1"),
        dm_ids=("D0", "D1"),
        dm_options=((0,), (1,)),
        states=np.array([0, 1, 2, 3], dtype=np.uint64),
        payoffs=np.array(payoffs, dtype=np.int64),
        reversibility=(B, B),
        unranked=tuple(None if u is None else np.array(u, dtype=np.int64) for u in unranked),
    )


def test_an_oriented_opponent_pair_creates_a_seq_sanction() -> None:
    """D0 improves NN -> YN. D1 is indifferent between YN and YY but leaves them
    unranked; if it prefers YY, its move YN -> YY is an improvement and a SEQ sanction
    (D0 likes YY least). Reading the pair as a tie misses this completion."""
    conflict = _two_by_two([[2, 3, 1, 0], [1, 1, 0, 1]], [None, [[1, 3]]])
    tie_reading = seq.stable(Game(conflict, "tie"), 0)
    assert not tie_reading[0]
    report = analyze(conflict, ("seq",), preferences="possible")
    assert 0 in report.stable_states("seq", "D0")
    assert 0 in report.equilibria["seq"].tolist()
    oracle = Oracle(conflict, {"seq": ("seq", "seq")})
    assert oracle.possible["seq"][0, 0] and oracle.possible_eq["seq"][0]
    assert 0 not in analyze(conflict, ("seq",), preferences="robust").stable_states("seq", "D0")


def test_possible_equilibria_need_one_completion_for_every_mover() -> None:
    """SIM at NN: D0's move to YN is deterred only if D1 responds NN -> NY at once, an
    improvement only when D1 prefers NY to NN (unranked). But then D1's own move to NY
    is not deterred (D1 likes the joint outcome YY best). Each is possibly stable at NN,
    by different completions; NN is not a possible equilibrium."""
    conflict = _two_by_two([[2, 3, 1, 0], [1, 0, 1, 2]], [None, [[0, 2]]])
    report = analyze(conflict, ("sim",), preferences="possible")
    assert 0 in report.stable_states("sim", "D0")
    assert 0 in report.stable_states("sim", "D1")
    assert 0 not in report.equilibria["sim"].tolist()
    oracle = Oracle(conflict, {"sim": ("sim", "sim")})
    assert oracle.possible["sim"][:, 0].all() and not oracle.possible_eq["sim"][0]


def test_one_pair_cannot_serve_two_seq_sanctions_both_ways() -> None:
    """Three DMs A, B, C (one option each; state code = A + 2B + 4C). At NNN, A's move
    to YNN is deterred only by C to YNY, then B to YYY; C's move to NNY only by B to
    NYY, A to YYY, then B to YNY. B leaves YNY and YYY unranked: each sanction needs
    that pair one way round, so NNN is possibly SEQ stable for A and for C, but no
    completion makes it a SEQ equilibrium."""
    conflict = CompiledConflict(
        title="t",
        option_ids=("a", "b", "c"),
        dm_ids=("A", "B", "C"),
        dm_options=((0,), (1,), (2,)),
        states=np.arange(8, dtype=np.uint64),
        payoffs=np.array(
            [[5, 6, 0, 6, 7, 6, -1, 0], [5, 5, 0, 0, 0, 3, 5, 3], [5, -1, 0, 0, 6, 0, 6, 6]],
            dtype=np.int64,
        ),
        reversibility=(B,) * 3,
        unranked=(None, np.array([[5, 7]]), None),
    )
    report = analyze(conflict, ("seq",), preferences="possible")
    assert all(0 in report.stable_states("seq", dm) for dm in ("A", "B", "C"))
    assert 0 not in report.equilibria["seq"].tolist()
    oracle = Oracle(conflict, {"seq": ("seq",) * 3})
    assert oracle.possible["seq"][:, 0].all() and not oracle.possible_eq["seq"][0]


def test_the_search_keeps_sanctions_legal() -> None:
    """Found by the property test against a search that let D1 move twice in a row:
    with two movers a SEQ sanction is one move of the opponent."""
    conflict = CompiledConflict(
        title="t",
        option_ids=tuple(f"o{j}" for j in range(5)),
        dm_ids=("D0", "D1"),
        dm_options=((0, 1), (2, 3, 4)),
        states=np.array(
            [3, 5, 6, 10, 11, 12, 13, 21, 22, 23, 26, 27, 28, 29, 30, 31], dtype=np.uint64
        ),
        payoffs=np.array(
            [
                [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0],
                [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
            ],
            dtype=np.int64,
        ),
        reversibility=(B,) * 5,
        unranked=(None, np.array([[3, 10]])),
    )
    _check(conflict)


def _many_pairs() -> CompiledConflict:
    """D0 (option 0) against D1 (options 1-3) and D2 (options 4-6); D1 and D2 are
    indifferent everywhere and leave every pair of their own moves unranked."""
    codes = np.arange(128, dtype=np.uint64)
    payoffs = np.zeros((3, 128), dtype=np.int64)
    payoffs[0] = np.where(codes & 1, 3, 2)
    payoffs[0, 127] = 0
    unranked = []
    for mask in (0b1110, 0b1110000):
        rows = [(a, b) for a in range(128) for b in range(a + 1, 128) if not (a ^ b) & ~mask]
        unranked.append(np.array(rows, dtype=np.int64))
    return CompiledConflict(
        title="many",
        option_ids=tuple(f"o{j}" for j in range(7)),
        dm_ids=("D0", "D1", "D2"),
        dm_options=((0,), (1, 2, 3), (4, 5, 6)),
        states=codes,
        payoffs=payoffs,
        reversibility=(B,) * 7,
        unranked=(None, *unranked),
    )


def test_too_many_pairs_on_one_state_is_an_error() -> None:
    with pytest.raises(AnalysisError, match=r"state NNNNNNN for D0 depends on \d+ unranked"):
        analyze(_many_pairs(), ("seq",), preferences="possible")


def test_limited_move_refuses_unranked_pairs() -> None:
    conflict = _two_by_two([[2, 3, 1, 0], [1, 1, 0, 1]], [None, [[1, 3]]])
    for concept in ("limited", "nonmyopic"):
        with pytest.raises(AnalysisError, match="complete ranking"):
            analyze_uncertain(conflict, (concept,))
    assert analyze(conflict, ("limited", "nonmyopic")).concepts == ("limited", "nonmyopic")


def test_a_completion_must_orient_unranked_pairs_only_one_way() -> None:
    conflict = _two_by_two([[2, 3, 1, 0], [1, 1, 0, 1]], [None, [[1, 3]]])
    with pytest.raises(InputError, match="did not leave unranked"):
        Game(conflict, completion=(None, np.array([[0, 2]])))
    with pytest.raises(InputError, match="both ways"):
        Game(conflict, completion=(None, np.array([[1, 3], [3, 1]])))
