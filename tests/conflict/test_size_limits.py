"""Conflicts too large for the machine: refused with exit 2 and an estimate, in time.

A conflict of 22 options (two decision makers with 11 each: 4,194,304 states) made
``conflict analyze`` try to allocate 64 GiB for SIM's list of moves, and the tables
wrote every state out as text. Each command runs in its own process under a memory cap,
with a timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backchannel.conflict import reachability
from backchannel.conflict.analysis import analyze, explain, status_quo_paths
from backchannel.conflict.reachability import MAX_MOVE_PAIRS
from backchannel.errors import AnalysisError
from backchannel.services.conflict import load_conflict

CAPPED = """\
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from backchannel.cli import main
code = main(sys.argv[1:])
peak = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
sys.stderr.write(f"peak {peak}\\n")
sys.exit(code)
"""


def _capped(argv: list[str], cwd: Path, out: Path | None = None) -> tuple[int, str, str, int]:
    """Exit code, stdout (or "" when it went to the file ``out``), stderr without the peak
    line, and the peak in MiB."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    with out.open("w") if out is not None else open(os.devnull, "w") as sink:
        done = subprocess.run(
            [sys.executable, "-c", CAPPED, *argv],
            stdout=sink if out is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=180,
            env=env,
            cwd=cwd,
            check=False,
        )
    *said, peak = done.stderr.splitlines()
    stdout = done.stdout or ""
    return done.returncode, stdout, "\n".join(said), int(peak.removeprefix("peak ")) // 1024


def _conflict(options: int) -> str:
    """Two decision makers sharing ``options`` options, every state feasible."""
    half = options // 2
    first = ", ".join(f"a{k}" for k in range(half))
    second = ", ".join(f"b{k}" for k in range(options - half))
    return (
        "title: Many options\n"
        "decision_makers:\n"
        f"  - {{id: A, options: [{first}]}}\n"
        f"  - {{id: B, options: [{second}]}}\n"
        "preferences:\n"
        "  A:\n    statements: [a0, -b0]\n"
        "  B:\n    statements: [b0, -a0]\n"
    )


def _file(folder: Path, options: int) -> Path:
    path = folder / f"c{options}.yaml"
    path.write_text(_conflict(options), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 options: 1,048,576 states."""
    return _file(tmp_path_factory.mktemp("large"), 20)


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """22 options: 4,194,304 states, the most a conflict may have."""
    return _file(tmp_path_factory.mktemp("huge"), 22)


def test_analyze_refuses_to_list_a_billion_moves(large: Path) -> None:
    """SIM (a default concept) lists every move: 1,072,693,248 of them for A (with 22
    options, 8.6 billion: the 64 GiB allocation)."""
    code, out, err, peak = _capped(["conflict", "analyze", str(large)], large.parent)
    assert code == 2, err
    assert out == ""
    assert err.splitlines() == [
        "error: A has 1,072,693,248 moves between the 1,048,576 states, too many to list "
        f"(about 59.9 GiB; at most {MAX_MOVE_PAIRS:,}) (give each decision maker fewer "
        "options, or use a concept that scans the states instead: nash, gmr, smr or seq)"
    ]
    assert peak < 1024, peak


def test_explain_refuses_half_a_billion_state_visits(large: Path) -> None:
    argv = ["conflict", "explain", str(large), "--dm", "A", "--state", "N" * 20]
    code, _, err, _ = _capped(argv, large.parent)
    assert code == 2, err
    (line,) = err.splitlines()
    assert line.startswith("error: A has 512 improvements from this state, each searched")
    assert "536,870,912 states to visit" in line


def test_the_json_of_millions_of_states_streams_and_the_table_is_a_screen(
    huge: Path,
) -> None:
    """The JSON lists 4,194,304 states, then A's and B's stable states and the equilibria
    (9,437,184 strings, about 270 MB) within the memory the analysis needs."""
    argv = ["conflict", "analyze", str(huge), "--concepts", "nash"]
    printed = huge.parent / "huge.json"
    code, _, err, peak = _capped([*argv, "--json"], huge.parent, printed)
    assert code == 0, err
    assert peak < 1536, peak
    with printed.open() as text:
        head = [next(text) for _ in range(28)]
        lines = 28 + sum(1 for _ in text)
    assert head[:3] == ["{\n", '  "options": [\n', '    "a0",\n']
    assert head[24:28] == [
        "  ],\n",
        '  "states": [\n',
        f'    "{"N" * 22}",\n',
        f'    "Y{"N" * 21}",\n',
    ]
    assert lines > 9_437_184
    printed.unlink()
    code, out, err, peak = _capped(argv, huge.parent)
    assert code == 0, err
    assert out.splitlines()[0] == "Many options: 4194304 feasible states"
    assert out.splitlines()[-1] == "(1048512 more equilibria; use --json)"
    assert len(out.splitlines()) < 100
    assert peak < 1536, peak


def test_the_table_shows_the_first_equilibria_in_the_order_of_their_names(
    tmp_path: Path,
) -> None:
    """The rows beyond 64 states, chosen on the codes, are those sorting the names gives."""
    path = tmp_path / "c10.yaml"
    path.write_text(_conflict(10), encoding="utf-8")
    conflict = load_conflict(path)
    report = analyze(conflict, ["nash"])
    shown, count = report.shown_states("nash", 64)
    names = sorted(conflict.state_string(int(s)) for s in report.equilibria["nash"])
    assert count == len(names) > 64
    assert [conflict.state_string(s) for s in shown] == names[:64]
    assert all(report.is_equilibrium("nash", s) for s in shown)
    others = np.setdiff1d(np.arange(conflict.n_states), report.equilibria["nash"])
    assert not report.is_equilibrium("nash", int(others[0]))


def test_only_what_lists_moves_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for no listed move at all: Nash, GMR, SMR, SEQ, the status-quo paths and a
    GMR explanation (scalar preferences scan the states) still answer; SIM does not."""
    examples = Path(__file__).resolve().parents[2] / "examples" / "conflicts"
    conflict = load_conflict(examples / "cuban_missile_crisis.yaml")
    expected = analyze(conflict, ["nash", "gmr", "smr", "seq"])
    monkeypatch.setattr(reachability, "MAX_MOVE_PAIRS", 0)
    again = analyze(conflict, ["nash", "gmr", "smr", "seq"])
    for concept in expected.concepts:
        assert np.array_equal(again.stable[concept], expected.stable[concept])
    assert status_quo_paths(conflict).paths
    assert explain(conflict, conflict.dm_ids[0], 0, "gmr").responses
    with pytest.raises(AnalysisError, match="too many to list"):
        analyze(conflict, ["sim"])
    with pytest.raises(AnalysisError, match="too many to list"):
        explain(conflict, conflict.dm_ids[0], 0, "sim")
