"""Known inclusions between solution concepts, relabelling invariance and regressions
of gmcr-py's errors (SIM iterator exhaustion, one-move-per-opponent sanctions)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backchannel.conflict import analyze
from backchannel.conflict.compiled_conflict import CompiledConflict, Reversibility

from .strategies import conflicts

ALL = ("nash", "gmr", "smr", "seq", "sim", "seqsim")
B = Reversibility.BOTH


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


@_settings(300)
@given(conflicts(min_dms=2, max_dms=5, max_options=8, coalitions=True, misperception=True))
def test_inclusions_between_concepts(conflict: CompiledConflict) -> None:
    """Fang, Hipel & Kilgour 1993, Thm. 3.1 (and their n-DM forms): Nash <= SMR <= GMR,
    Nash <= SEQ <= GMR, Nash <= SIM; SEQ and SIM <= SEQ&SIM by construction."""
    stable = analyze(conflict, ALL).stable
    nash, gmr, smr, seq, sim, seqsim = (stable[c] for c in ALL)
    assert not (nash & ~smr).any() and not (smr & ~gmr).any()
    assert not (nash & ~seq).any() and not (seq & ~gmr).any()
    assert not (nash & ~sim).any()
    assert not ((seq | sim) & ~seqsim).any()


@_settings(150)
@given(conflicts(min_dms=2, max_dms=2, max_options=6))
def test_limited_move_of_horizon_one_is_nash(conflict: CompiledConflict) -> None:
    report = analyze(conflict, ("nash", "limited"), horizon=1)
    assert np.array_equal(report.stable["nash"], report.stable["limited"])


def _relabel(conflict: CompiledConflict, dm_order: list[int], option_order: list[int]):
    """Permute DMs and options; return the new conflict and old->new state index map."""
    old_codes = [int(c) for c in conflict.states]
    new_bit = {old: new for new, old in enumerate(option_order)}
    recoded = [
        sum(1 << new_bit[j] for j in range(len(option_order)) if code >> j & 1)
        for code in old_codes
    ]
    order = np.argsort(recoded)
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    moved = CompiledConflict(
        title=conflict.title,
        option_ids=tuple(conflict.option_ids[j] for j in option_order),
        dm_ids=tuple(conflict.dm_ids[k] for k in dm_order),
        dm_options=tuple(
            tuple(sorted(new_bit[j] for j in conflict.dm_options[k])) for k in dm_order
        ),
        states=np.array(sorted(recoded), dtype=np.uint64),
        payoffs=conflict.payoffs[dm_order][:, order],
        reversibility=tuple(conflict.reversibility[j] for j in option_order),
        coalitions=tuple(tuple(sorted(dm_order.index(k) for k in g)) for g in conflict.coalitions),
        misperceived=tuple(
            None if conflict.misperceived[k] is None else conflict.misperceived[k][order]
            for k in dm_order
        )
        if conflict.misperceived
        else (),
    )
    return moved, position


@_settings(150)
@given(
    conflicts(min_dms=2, max_dms=4, max_options=7, coalitions=True, misperception=True),
    st.randoms(use_true_random=False),
)
def test_results_do_not_depend_on_labels(conflict: CompiledConflict, rng) -> None:
    dm_order = list(range(len(conflict.dm_ids)))
    option_order = list(range(len(conflict.option_ids)))
    rng.shuffle(dm_order)
    rng.shuffle(option_order)
    moved, position = _relabel(conflict, dm_order, option_order)
    before, after = analyze(conflict, ALL), analyze(moved, ALL)
    for concept in ALL:
        assert (
            sorted(position[before.equilibria[concept]].tolist())
            == after.equilibria[concept].tolist()
        )
        for name in before.movers:
            new_name = next(m for m in after.movers if set(m.split("+")) == set(name.split("+")))
            expected = sorted(position[before.stable_states(concept, name)].tolist())
            assert after.stable_states(concept, new_name) == expected


def _conflict(dm_options, states, payoffs) -> CompiledConflict:
    n = max(o for opts in dm_options for o in opts) + 1
    return CompiledConflict(
        title="t",
        option_ids=tuple(f"o{j}" for j in range(n)),
        dm_ids=tuple(f"D{k}" for k in range(len(dm_options))),
        dm_options=tuple(tuple(o) for o in dm_options),
        states=np.array(states, dtype=np.uint64),
        payoffs=np.array(payoffs, dtype=np.int64),
        reversibility=(B,) * n,
    )


def test_sanction_may_need_the_same_opponent_twice() -> None:
    """gmr.md §5: with 3 DMs a sanction may be C -> B -> C. D0 improves 0 -> 1 (code 0 ->
    1); only D2, D1, D2 in turn reach state 4, which D0 likes less than state 0."""
    # option 0: D0, option 1: D1, options 2-3: D2; states as codes
    codes = [0b0000, 0b0001, 0b0101, 0b0111, 0b1111]
    payoffs = [
        [2, 3, 3, 3, 1],  # D0
        [0, 0, 0, 1, 1],  # D1: 0101 -> 0111 is an improvement
        [0, 0, 1, 1, 2],  # D2: 0001 -> 0101 and 0111 -> 1111 are improvements
    ]
    conflict = _conflict([(0,), (1,), (2, 3)], codes, payoffs)
    report = analyze(conflict, ("nash", "gmr", "seq"))
    assert 0 not in report.stable_states("nash", "D0")
    assert 0 in report.stable_states("gmr", "D0")
    assert 0 in report.stable_states("seq", "D0")


def test_sim_checks_every_improvement_against_every_response() -> None:
    """gmcr-py's SIM consumed one iterator of responses for all improvements, so a
    second improvement saw no responses. Here D0 has two improvements from NN..., each
    deterred only by D1's simultaneous response."""
    # options 0-1: D0 (mutually exclusive), option 2: D1
    codes = [0b000, 0b001, 0b010, 0b100, 0b101, 0b110]
    payoffs = [
        [2, 3, 3, 2, 0, 0],  # D0: 000 -> 001 / 010 improve; with D1's 100 they end worse
        [0, 0, 0, 1, 1, 1],  # D1: 000 -> 100 improves
    ]
    conflict = _conflict([(0, 1), (2,)], codes, payoffs)
    report = analyze(conflict, ("nash", "sim"))
    assert 0 not in report.stable_states("nash", "D0")
    assert 0 in report.stable_states("sim", "D0")
