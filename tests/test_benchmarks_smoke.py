"""Smoke tests of the benchmark harness's pure helpers (no timings, no NegMAS run)."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from backchannel.formats.case_file import dump_case
from backchannel.model.case import Case, IssueKind
from backchannel.model.compile import compile_case
from backchannel.model.problem import (
    AdditiveUtility,
    Constraint,
    ConstraintKind,
    IssueDomain,
    Literal,
    Problem,
)
from benchmarks import families_bench, negmas_baseline, negotiation_bench
from benchmarks.synthetic import FAMILIES


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return negotiation_bench


def _reservation(party: str, index: int, value: float) -> Constraint:
    return Constraint(
        f"reservation:{party}",
        party,
        ConstraintKind.RESERVATION,
        1.0,
        False,
        f"{party}: reservation",
        utility_party=index,
        bound=value,
    )


def tiny_problem(red_line: bool = False) -> Problem:
    """Two issues (2 and 3 options), two parties, reservations 0.1 and 0.2."""
    issues = (
        IssueDomain("a", IssueKind.UNORDERED, ("x", "y"), ("x", "y")),
        IssueDomain("b", IssueKind.ORDERED, ("lo", "mid", "hi"), ("lo", "mid", "hi")),
    )
    utilities = (
        AdditiveUtility((np.array([0.1, 0.5]), np.array([0.0, 0.2, 0.5])), np.array([0.5, 0.5])),
        AdditiveUtility((np.array([0.5, 0.1]), np.array([0.5, 0.3, 0.0])), np.array([0.5, 0.5])),
    )
    constraints = [_reservation("A", 0, 0.1), _reservation("B", 1, 0.2)]
    if red_line:
        clause = (Literal(1, frozenset({0, 1})),)
        constraints.insert(
            0, Constraint("A-0", "A", ConstraintKind.FORBID, 1.0, True, "no hi", (clause,))
        )
    return Problem(
        "tiny", issues, ("A", "B"), ("A", "B"), utilities, (0.1, 0.2), tuple(constraints)
    )


def test_negmas_payload_carries_the_same_numbers(bench: ModuleType) -> None:
    payload = bench.negmas_payload(tiny_problem())
    assert payload["issues"] == [2, 3]
    assert payload["tables"] == [[[0.1, 0.5], [0.0, 0.2, 0.5]], [[0.5, 0.1], [0.5, 0.3, 0.0]]]
    assert payload["reservations"] == [0.1, 0.2]
    assert bench.red_line_count(tiny_problem()) == 0


def test_negmas_payload_refuses_red_lines(bench: ModuleType) -> None:
    problem = tiny_problem(red_line=True)
    assert bench.red_line_count(problem) == 1
    assert bench.negmas_reason(problem, anchor=False) == "— (red lines)"
    with pytest.raises(ValueError, match="red lines"):
        bench.negmas_payload(problem)


def test_with_reservations_moves_both_the_point_and_the_bounds(bench: ModuleType) -> None:
    raised = bench.with_reservations(tiny_problem(), [0.6, 0.7])
    assert raised.disagreement == (0.6, 0.7)
    bounds = [c.bound for c in raised.constraints if c.kind is ConstraintKind.RESERVATION]
    assert bounds == [0.6, 0.7]


def test_number_formatting(bench: ModuleType) -> None:
    assert bench.fmt_seconds(None) == "—"
    assert bench.fmt_seconds(0.0004) == "<0.001"
    assert bench.fmt_seconds(0.0123) == "0.012"
    assert bench.fmt_seconds(2.345) == "2.35"
    assert bench.fmt_seconds(123.4) == "123"
    assert bench.fmt_count(576) == "576"
    assert bench.fmt_count(390_625) == "3.9e5"
    assert bench.fmt_ratio(10.0, 0.1) == "100×"
    assert bench.fmt_ratio(1.0, 2.0) == "0.5×"
    assert bench.fmt_ratio(None, 1.0) == "—"
    assert 3.0 < bench.negmas_memory_gb(9_765_625, 2) < 4.0


def test_values_agree(bench: ModuleType) -> None:
    assert bench.values_agree([0.25, 0.25 + 1e-9, None]) is True
    assert bench.values_agree([0.25, 0.26]) is False
    assert bench.values_agree([0.25, None]) is None


def test_format_table_aligns_columns(bench: ModuleType) -> None:
    text = bench.format_table(("name", "s"), [["long name", "1"], ["x", "22"]])
    lines = text.splitlines()
    assert lines[0] == "| name      | s  |"
    assert lines[1] == "|-----------|----|"
    assert lines[3] == "| x         | 22 |"
    assert len({len(line) for line in lines}) == 1


def test_rows_and_targets_render(bench: ModuleType) -> None:
    fast = bench.Row("5^8 p2 +RL", 2, 390_625, 6, 0.01, 0.02, 0.03, {}, 0.04, 66, True)
    slow = bench.Row("6^8 p2 +RL", 2, 1_679_616, 6, 0.1, 0.1, 0.1, {}, 0.1, 70, True)
    fast.nash = {"engine": 0.5, "brute force": 0.5}
    cells = bench.table_row(fast)
    assert len(cells) == len(bench.HEADERS)
    assert cells[-1] == "yes (2)"
    assert cells[7] == "0.040 (66)"
    results = {line[0]: line for line in bench.target_rows([fast, slow])}
    small = results["small agendas (≤ 2·10^6), 2 parties: every question exact ≤ 0.3 s"]
    assert small[2] == "MISS"  # 0.4 s at 6^8
    assert "6^8 p2 +RL" in small[1]
    assert results["6 parties: each rule ≤ 5 s at 40×6"][2] == "not run"
    slow.settle = 0.01
    slow.clashes = slow.zone = slow.frontier = 0.01
    results = {line[0]: line for line in bench.target_rows([fast, slow])}
    assert results["small agendas (≤ 2·10^6), 2 parties: every question exact ≤ 0.3 s"][2] == "PASS"
    assert "Nash agrees" in bench.report([fast, slow])


def test_negmas_runner_stays_outside_backchannel() -> None:
    """The AGPL baseline never imports Backchannel, and nothing in src/ imports NegMAS."""
    runner = negmas_baseline
    tree = ast.parse(Path(runner.__file__ or "").read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not any(name.startswith("backchannel") for name in imported)
    src = Path(__file__).resolve().parent.parent / "src"
    for path in src.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import negmas" not in text and "from negmas" not in text, path


def test_families_bench_writes_each_family_as_an_equivalent_case_file() -> None:
    rng = np.random.default_rng(0)
    for family in FAMILIES:
        problem = families_bench.build(family, 2 if family != "mixed" else 3, 8, 4, seed=1)
        text = dump_case(families_bench.to_case(problem), json_syntax=True)
        again = compile_case(Case.model_validate_json(text), "again")
        assert again.disagreement == problem.disagreement
        assert len(again.constraints) == len(problem.constraints)
        for _ in range(200):
            package = tuple(int(o) for o in rng.integers(0, 4, size=8))
            assert np.allclose(again.utility(package), problem.utility(package), atol=1e-9)
            assert again.is_admissible(package) == problem.is_admissible(package)


def test_families_bench_quick_prints_worst_beside_median(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = families_bench.main(
        ["--quick", "--process-seeds", "0", "--parties", "2", "--only", "opposed"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "median / **worst**" in out
    assert "| opposed p2 12×4 |" in out
    assert "(s0)" in out or "(s1)" in out


def test_families_bench_times_the_whole_cli_process(capsys: pytest.CaptureFixture[str]) -> None:
    """One seed as CLI processes: every command runs on the written file (else it raises)."""
    code = families_bench.main(
        ["--quick", "--seeds", "1", "--process-seeds", "1", "--parties", "2", "--only", "linked"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "whole CLI process over 1 seeds" in out
    assert out.count("| linked p2 12×4 |") == 2


def test_readout_bench_issues_both_formats_at_a_tiny_size(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from benchmarks import readout_bench

    code = readout_bench.main(["--meetings", "1", "--rounds", "1", "--clauses", "2", "--quick"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 meetings, 1 rounds, 2 clauses" in out
    rows = {line.split()[0] + " " + line.split()[1]: line for line in out.splitlines()[2:]}
    assert set(rows) == {"draft (html)", "issue html", "draft (pdf)", "issue pdf"}
    sizes = [int(rows[k].split()[5]) for k in ("issue html", "issue pdf")]
    assert all(size > 1000 for size in sizes)  # a signed file came back from storage
