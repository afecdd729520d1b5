"""Compilation: examples, feasible-state enumeration, payoffs, extras."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.conflict.compile import compile_conflict, enumerate_feasible, state_names
from backchannel.conflict.compiled_conflict import Reversibility
from backchannel.errors import AnalysisError
from backchannel.formats.conflict_file import conflict_from_data
from backchannel.model.conflict import holds, parse_statement
from backchannel.services.conflict import load_conflict, load_conflict_model

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conflicts"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def test_there_are_examples() -> None:
    names = {path.stem for path in EXAMPLE_FILES}
    assert {
        "prisoners_dilemma",
        "chicken",
        "cuban_missile_crisis",
        "elmira",
        "ukraine_escalation",
    } <= names


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_loads(path: Path) -> None:
    conflict = load_conflict(path)
    assert conflict.n_states > 0
    assert np.all(np.diff(conflict.states.astype(np.int64)) > 0)
    assert conflict.payoffs.shape == (len(conflict.dm_ids), conflict.n_states)
    assert conflict.status_quo is not None
    assert sorted(j for options in conflict.dm_options for j in options) == list(
        range(len(conflict.option_ids))
    )
    text = path.read_text()
    assert text.startswith("#")  # a header comment citing the source


def _order(conflict, dm: str, names: dict[int, str]) -> list[str]:  # type: ignore[no-untyped-def]
    k = conflict.dm_ids.index(dm)
    ranked = sorted(
        (i for i in range(conflict.n_states) if names[i] != "9"),
        key=lambda i: -conflict.payoffs[k, i],
    )
    return [names[i] for i in ranked]


def test_elmira_reproduces_the_textbook_rankings() -> None:
    path = EXAMPLES / "elmira.yaml"
    conflict = load_conflict(path)
    names = state_names(load_conflict_model(path), conflict)
    assert conflict.n_states == 12
    assert conflict.state_string(conflict.status_quo or 0) == "NYNNN"
    # Fang, Hipel & Kilgour (1993), states 1-8 (9 = UR abandons)
    assert _order(conflict, "MoE", names) == ["7", "3", "4", "8", "5", "1", "2", "6"]
    assert _order(conflict, "UR", names) == ["1", "4", "8", "5", "2", "3", "7", "6"]
    assert _order(conflict, "LG", names) == ["7", "3", "5", "1", "8", "6", "4", "2"]
    for dm in ("MoE", "LG"):  # abandonment is their worst outcome
        k = conflict.dm_ids.index(dm)
        worst = {i for i in range(12) if names[i] == "9"}
        assert max(conflict.payoffs[k, i] for i in worst) < min(
            conflict.payoffs[k, i] for i in range(12) if i not in worst
        )
    assert conflict.reversibility == (
        Reversibility.FORWARD_ONLY,
        Reversibility.BACKWARD_ONLY,
        Reversibility.BOTH,
        Reversibility.FORWARD_ONLY,
        Reversibility.BOTH,
    )


def test_prisoners_dilemma_ranking_payoffs() -> None:
    conflict = load_conflict(EXAMPLES / "prisoners_dilemma.yaml")
    payoff = {conflict.state_string(i): tuple(conflict.payoffs[:, i]) for i in range(4)}
    assert payoff == {"YN": (4, 1), "NN": (3, 3), "YY": (2, 2), "NY": (1, 4)}


def _model(statements: dict[str, list[str]], m: int = 3, **extra: object):  # type: ignore[no-untyped-def]
    options = [f"o{j}" for j in range(m)]
    data = {
        "title": "t",
        "decision_makers": [
            {"id": "A", "options": options[: m // 2 or 1]},
            {"id": "B", "options": options[m // 2 or 1 :]},
        ],
        "options": options,
        "preferences": {dm: {"statements": s} for dm, s in statements.items()},
        **extra,
    }
    return conflict_from_data(data, "t.yaml")


def test_statement_weights_are_powers_of_two() -> None:
    # K = 3: weights 4, 2, 1; score = sum of satisfied weights
    model = _model({"A": ["o0", "o1", "o2"], "B": ["-o0"]})
    conflict = compile_conflict(model, "t.yaml")
    # o0 weighs 4, o1 2, o2 1 (dense ranks from 1; all 8 scores are distinct)
    assert [int(p) for p in conflict.payoffs[0]] == [
        1 + (code & 1) * 4 + (code >> 1 & 1) * 2 + (code >> 2 & 1) for code in range(8)
    ]
    # B has one statement: two levels
    assert [int(p) for p in conflict.payoffs[1]] == [2 - (code & 1) for code in range(8)]
    model = _model({"A": ["o2", "o1", "o0"], "B": ["-o0"]})
    conflict = compile_conflict(model, "t.yaml")
    assert [int(p) for p in conflict.payoffs[0]] == [
        1 + (code >> 2 & 1) * 4 + (code >> 1 & 1) * 2 + (code & 1) for code in range(8)
    ]


def test_two_statements_outweigh_none_but_not_the_first() -> None:
    # 2^(K-1) > 2^(K-2) + ... + 1: the first statement dominates all later ones
    model = _model({"A": ["o0", "o1", "o2"], "B": ["o0"]})
    conflict = compile_conflict(model, "t.yaml")
    only_first = conflict.state_index("YNN")
    all_but_first = conflict.state_index("NYY")
    assert only_first is not None and all_but_first is not None
    assert conflict.payoffs[0, only_first] > conflict.payoffs[0, all_but_first]


_atoms = st.sampled_from(["o0", "o1", "o2", "o3", "-o0", "-o1", "-o2", "-o3"])
_statements = st.recursive(
    _atoms,
    lambda c: (
        st.builds(
            lambda x, op, y: f"({x}{op}{y})", c, st.sampled_from([" & ", " | ", " if ", " iff "]), c
        )
        | st.builds(lambda x: f"-({x})", c)
    ),
    max_leaves=6,
)


@given(st.lists(_statements, min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_vectorised_payoffs_match_a_state_by_state_computation(texts: list[str]) -> None:
    model = _model({"A": texts, "B": ["o0"]}, m=4)
    conflict = compile_conflict(model, "t.yaml")
    index = {f"o{j}": j for j in range(4)}
    exprs = [parse_statement(t, index) for t in texts]
    k = len(exprs)
    scores = [
        sum(2 ** (k - 1 - s) for s, e in enumerate(exprs) if holds(e, code)) for code in range(16)
    ]
    levels = sorted(set(scores))
    assert [int(p) for p in conflict.payoffs[0]] == [levels.index(x) + 1 for x in scores]


def test_shorthands_expand_to_rules() -> None:
    model = _model(
        {"A": ["o0"], "B": ["o1"]},
        m=4,
        mutually_exclusive=[["o0", "o1", "o2"]],
        at_least_one=[["o2", "o3"]],
        infeasible=[{"o3": True, "o0": False}],
    )
    conflict = compile_conflict(model, "t.yaml")
    expected = [
        code
        for code in range(16)
        if bin(code & 0b111).count("1") <= 1
        and code & 0b1100
        and not (code >> 3 & 1 and not code & 1)
    ]
    assert conflict.states.tolist() == expected


def test_unranked_misperceived_and_coalitions_compile() -> None:
    model = _model(
        {"A": ["o0"], "B": ["o1"]},
        m=3,
        coalitions=[["A", "B"]],
        misperceived={"B": ["Y-N"]},
    )
    data = model.model_dump()
    data["preferences"]["A"]["unranked"] = [["YNN", "NYN"]]
    conflict = compile_conflict(conflict_from_data(data, "t.yaml"), "t.yaml")
    assert conflict.coalitions == ((0, 1),)
    assert conflict.misperceived[0] is None
    mask = conflict.misperceived[1]
    assert mask is not None
    assert [conflict.state_string(i) for i in np.flatnonzero(mask)] == ["YNN", "YYN"]
    pairs = conflict.unranked[0]
    assert pairs is not None
    assert pairs.tolist() == [[conflict.state_index("YNN"), conflict.state_index("NYN")]]
    assert conflict.unranked[1] is None


def _brute_force(m: int, rules: list[tuple[int, int]]) -> list[int]:
    return [c for c in range(1 << m) if not any(c & mask == value for mask, value in rules)]


@st.composite
def _rules(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    m = draw(st.integers(1, 11))
    rules = []
    for _ in range(draw(st.integers(0, 8))):
        options = draw(st.lists(st.integers(0, m - 1), min_size=1, max_size=3, unique=True))
        values = draw(st.lists(st.booleans(), min_size=len(options), max_size=len(options)))
        mask = sum(1 << j for j in options)
        value = sum(1 << j for j, v in zip(options, values, strict=True) if v)
        rules.append((mask, value))
    return m, rules


@given(_rules())
@settings(max_examples=200, deadline=None)
def test_enumeration_matches_a_brute_force_filter(case: tuple[int, list[tuple[int, int]]]) -> None:
    m, rules = case
    states = enumerate_feasible(m, rules)
    assert states.dtype == np.uint64
    assert states.tolist() == _brute_force(m, rules)


def test_enumeration_refuses_too_many_states() -> None:
    with pytest.raises(AnalysisError, match="more than the 1,000 supported"):
        enumerate_feasible(12, [], max_states=1000)


def test_thirty_options_with_a_million_states_is_fast() -> None:
    # 10 groups of 3 options, at most one per group: 4**10 = 1,048,576 states
    rules = []
    for g in range(10):
        a, b, c = 3 * g, 3 * g + 1, 3 * g + 2
        rules += [(1 << a | 1 << b,) * 2, (1 << a | 1 << c,) * 2, (1 << b | 1 << c,) * 2]
    start = time.perf_counter()
    states = enumerate_feasible(30, rules)
    assert time.perf_counter() - start < 5
    assert states.size == 4**10
    assert states.nbytes < 10_000_000


def test_a_long_chain_of_rules_is_fast() -> None:
    # no two neighbouring options both taken: Fibonacci(30) = 832,040 states
    rules = [(3 << j, 3 << j) for j in range(27)]
    start = time.perf_counter()
    states = enumerate_feasible(28, rules)
    assert time.perf_counter() - start < 5
    assert states.size == 832_040
    assert not np.any(states & (states >> np.uint64(1)))


def test_compiling_a_large_model_is_fast() -> None:
    m = 30
    options = [f"o{j}" for j in range(m)]
    data = {
        "title": "large",
        "decision_makers": [
            {"id": f"D{k}", "options": options[k * 10 : (k + 1) * 10]} for k in range(3)
        ],
        "options": options,
        "mutually_exclusive": [options[3 * g : 3 * g + 3] for g in range(10)],
        "preferences": {
            f"D{k}": {"statements": ["o0 | o5", "-o7 & o12", "o20 if o3", "o29 iff -o1"]}
            for k in range(3)
        },
    }
    start = time.perf_counter()
    conflict = compile_conflict(conflict_from_data(data, "large.yaml"), "large.yaml")
    assert time.perf_counter() - start < 10
    assert conflict.n_states == 4**10
