"""Hand-checked textbook cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from backchannel.conflict import analyze, status_quo_paths
from backchannel.conflict.compiled_conflict import CompiledConflict, Reversibility
from backchannel.services.conflict import load_conflict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conflicts"


def _two_by_two(a: list[int], b: list[int]) -> CompiledConflict:
    """States NN, YN, NY, YY (codes 0..3); option 0 is A's, option 1 is B's."""
    return CompiledConflict(
        title="2x2",
        option_ids=("a", "b"),
        dm_ids=("A", "B"),
        dm_options=((0,), (1,)),
        states=np.arange(4, dtype=np.uint64),
        payoffs=np.array([a, b], dtype=np.int64),
        reversibility=(Reversibility.BOTH,) * 2,
    )


def _eq(conflict: CompiledConflict, concept: str, horizon: int = 2) -> list[str]:
    report = analyze(conflict, (concept,), horizon=horizon)
    return [conflict.state_string(int(s)) for s in report.equilibria[concept]]


def test_prisoners_dilemma() -> None:
    """Fang, Hipel & Kilgour 1993, ch. 3: Y = defect. Mutual defection is the only Nash
    equilibrium; mutual cooperation is GMR, SMR and SEQ stable too (a defection is
    sanctioned by the other's defection), and L_2 and NM stable (Kilgour 1985)."""
    pd = _two_by_two([3, 4, 1, 2], [3, 1, 4, 2])  # NN, YN, NY, YY
    assert _eq(pd, "nash") == ["YY"]
    for concept in ("gmr", "smr", "seq", "sim", "seqsim"):
        assert _eq(pd, concept) == ["NN", "YY"]
    assert _eq(pd, "limited", 2) == ["NN", "YY"]
    assert _eq(pd, "nonmyopic") == ["NN", "YY"]


def test_chicken() -> None:
    """Fang, Hipel & Kilgour 1993, ch. 3: Y = dare. The Nash and SEQ equilibria are the
    two "one dares" states; NN is GMR and SMR stable (a dare is sanctioned by the
    crash) but not SEQ (daring back is not an improvement)."""
    chicken = _two_by_two([3, 4, 2, 1], [3, 2, 4, 1])
    assert _eq(chicken, "nash") == ["YN", "NY"]
    assert _eq(chicken, "seq") == ["YN", "NY"]
    assert _eq(chicken, "gmr") == ["NN", "YN", "NY"]
    assert _eq(chicken, "smr") == ["NN", "YN", "NY"]


def _load(name: str) -> CompiledConflict:
    return load_conflict(EXAMPLES / name)


def test_elmira() -> None:
    """Fang, Hipel & Kilgour 1993 (Elmira): states 5, 8 and 9 are the Nash and SEQ
    equilibria (9 splits into two option-form states here: UR abandons, with or without
    LG insisting), and the status quo 1 moves to 5 when LG insists."""
    elmira = _load("elmira.yaml")
    names = {"NYNNY": "5", "YNYNY": "8", "NNNYY": "9", "YNNYY": "9"}
    for concept in ("nash", "seq"):
        assert [names.get(s, s) for s in _eq(elmira, concept)] == ["5", "8", "9", "9"]
    paths = status_quo_paths(elmira, ("nash",))
    to_five = next(p for p in paths.paths if elmira.state_string(p.target) == "NYNNY")
    assert to_five.by_improvements == (("LG", elmira.status_quo, p_index(elmira, "NYNNY")),)


def p_index(conflict: CompiledConflict, text: str) -> int:
    index = conflict.state_index(text)
    assert index is not None
    return index


def test_cuban_missile_crisis() -> None:
    """Fraser & Hipel 1984 / Fang, Hipel & Kilgour 1993: the historical resolution,
    blockade with Soviet withdrawal (NYYN), is an equilibrium under every concept."""
    cuba = _load("cuban_missile_crisis.yaml")
    for concept in ("nash", "gmr", "smr", "seq", "sim", "seqsim", "nonmyopic"):
        assert "NYYN" in _eq(cuba, concept), concept
