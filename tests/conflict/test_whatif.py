"""The what-if variants of a compiled conflict (:mod:`backchannel.conflict.whatif`),
against a plain reference written state by state."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.conflict.compiled_conflict import CompiledConflict, Reversibility
from backchannel.conflict.whatif import made_irreversible, without_options
from backchannel.errors import AnalysisError

from .strategies import conflicts


@settings(max_examples=80, deadline=None)
@given(conflict=conflicts(misperception=True, uncertainty=True), data=st.data())
def test_switching_an_option_off_keeps_the_other_states_as_they_were(
    conflict: CompiledConflict, data: st.DataObject
) -> None:
    option = data.draw(st.sampled_from(conflict.option_ids))
    bit = conflict.option_ids.index(option)
    kept = [i for i in range(conflict.n_states) if not int(conflict.states[i]) >> bit & 1]
    if not kept:
        with pytest.raises(AnalysisError):
            without_options(conflict, [option])
        return
    varied = without_options(conflict, [option])
    new = {old: j for j, old in enumerate(kept)}
    assert [int(s) for s in varied.states] == [int(conflict.states[i]) for i in kept]
    assert varied.payoffs.tolist() == conflict.payoffs[:, kept].tolist()
    sq = conflict.status_quo
    assert varied.status_quo == (None if sq is None else new.get(sq))
    for before, after in zip(conflict.misperceived, varied.misperceived, strict=True):
        assert (before is None) == (after is None)
        if before is not None and after is not None:
            assert after.tolist() == [bool(before[i]) for i in kept]
    for before, after in zip(conflict.unranked, varied.unranked, strict=True):
        if before is None:
            assert after is None
            continue
        assert after is not None
        wanted = {(new[a], new[b]) for a, b in before.tolist() if a in new and b in new}
        assert {(a, b) for a, b in after.tolist()} == wanted
    assert varied.reversibility == conflict.reversibility


@settings(max_examples=40, deadline=None)
@given(conflict=conflicts(), data=st.data())
def test_an_irreversible_option_changes_only_its_direction(
    conflict: CompiledConflict, data: st.DataObject
) -> None:
    option = data.draw(st.sampled_from(conflict.option_ids))
    varied = made_irreversible(conflict, [option])
    bit = conflict.option_ids.index(option)
    assert varied.reversibility[bit] is Reversibility.FORWARD_ONLY
    others = [r for j, r in enumerate(varied.reversibility) if j != bit]
    assert others == [r for j, r in enumerate(conflict.reversibility) if j != bit]
    assert np.array_equal(varied.states, conflict.states)


def test_an_unknown_option_is_refused() -> None:
    conflict = CompiledConflict(
        title="t",
        option_ids=("a", "b"),
        dm_ids=("A", "B"),
        dm_options=((0,), (1,)),
        states=np.array([0, 1, 2, 3], dtype=np.uint64),
        payoffs=np.zeros((2, 4), dtype=np.int64),
        reversibility=(Reversibility.BOTH, Reversibility.BOTH),
    )
    with pytest.raises(AnalysisError, match="unknown option 'c'"):
        without_options(conflict, ["c"])
    with pytest.raises(AnalysisError, match="unknown option 'c'"):
        made_irreversible(conflict, ["c"])
