"""Case files too large for the machine: refused with exit 2 and an estimate, in time.

Before these bounds, ``range: {max: 1e308, step: 1e-308}`` was a traceback, a numeric
agenda of 8 issues of 100,000 values made ``settle`` try to allocate 74.5 GiB and
``check`` run past a minute whatever ``--time-limit`` said, and a message about an
issue of many options listed every one of them. Each case below runs the real command
in its own process, under a memory cap where memory is the point, and with a timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from backchannel.cli import main
from backchannel.errors import MAX_PROBLEMS, AnalysisError
from backchannel.formats.cases import load_problem
from backchannel.model.compile import (
    MAX_AGENDA_OPTIONS,
    MAX_RED_LINE_OPTIONS,
    MAX_TABLE_VALUES,
)
from backchannel.model.problem import Problem
from backchannel.model.results import SettlementRule, Status, ZoneResult
from backchannel.solvers import certificates, engine
from backchannel.solvers.certificates import Verdict
from backchannel.solvers.frontier_dp import MAX_FOLD_SUMS, NotApplicable, dp_frontier

# The command in a fresh process under a 2 GiB address-space cap; it reports its peak
# resident memory (VmHWM, KiB) on the last line of stderr.
CAPPED = """\
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from backchannel.cli import main
code = main(sys.argv[1:])
peak = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
sys.stderr.write(f"peak {peak}\\n")
sys.exit(code)
"""


def _capped(argv: list[str], cwd: Path, timeout: float = 120) -> tuple[int, str, str, int]:
    """Exit code, stdout, stderr without the peak line, and the peak in MiB."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CAPPED, *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
        check=False,
    )
    *said, peak = done.stderr.splitlines()
    return done.returncode, done.stdout, "\n".join(said), int(peak.removeprefix("peak ")) // 1024


def _numeric_case(issues: int, values: int, parties: int = 2, red_lines: str = "") -> str:
    """``issues`` numeric issues of ``values`` values, rated by points (opposite tastes)."""
    lines = ["title: Numeric agenda", "weighting: as_written", "issues:"]
    for i in range(issues):
        lines += [
            f"  - name: i{i}",
            "    kind: numeric",
            f"    range: {{min: 0, max: {values - 1}}}",
        ]
    lines.append("parties:")
    for p in range(parties):
        points = f"[[0, 0], [{values - 1}, 100]]" if p % 2 else f"[[0, 100], [{values - 1}, 0]]"
        lines += [
            f"  - name: P{p}",
            "    weights: {" + ", ".join(f"i{i}: 1" for i in range(issues)) + "}",
        ]
        lines += ["    ratings:"] + [f"      i{i}: {{points: {points}}}" for i in range(issues)]
    return "\n".join(lines) + "\n" + red_lines


def _write(tmp_path: Path, text: str, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ numeric ranges
RANGE_CASE = """\
title: One range
issues:
  - name: a
    kind: numeric
    range: {range}
parties:
  - name: P
    weights: {{a: 1}}
    ratings: {{a: {{points: [[0, 0], [1, 100]]}}}}
"""

RANGES = {
    "max 1e308, step 1e-308": ("{min: 0, max: 1e308, step: 1e-308}", "more values than 1e308"),
    "min -1e308, max 1e308": ("{min: -1e308, max: 1e308, step: 1e300}", "more values than 1e308"),
    "step 1e-300": ("{min: 0, max: 10, step: 1e-300}", "about 1e+301 values"),
    "200,001 values": ("{min: 0, max: 200000}", "200,001 values"),
}


@pytest.mark.parametrize("name", list(RANGES))
def test_a_range_with_too_many_values_is_one_located_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, count = RANGES[name]
    path = _write(tmp_path, RANGE_CASE.format(range=text))
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {path}:5: issues[0].range.step: the range has {count}, more than 100,000 "
        "(use a coarser step or a narrower range)"
    ]


@pytest.mark.parametrize("number", [".inf", "-.inf", ".nan"])
def test_infinite_and_nan_numbers_are_refused(
    number: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, RANGE_CASE.format(range=f"{{min: 0, max: {number}}}"))
    assert main(["check", str(path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {path}:5: issues[0].range.max: expected a finite number")


# ------------------------------------------------------------- the agenda as a whole
def test_an_agenda_of_more_than_a_million_options_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, _numeric_case(11, 100_000))
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {path}:34: issues[10]: the issues up to this one have 1,100,000 options in "
        f"all, more than {MAX_AGENDA_OPTIONS:,} (use coarser steps on numeric issues, fewer "
        "options or fewer issues)"
    ]


def test_utility_tables_beyond_the_bound_are_refused_before_they_are_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, _numeric_case(10, 100_000, parties=11))
    assert main(["check", str(path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {path}:")
    assert (
        f"parties: 11 delegations rating 1,000,000 options need 11,000,000 ratings, more "
        f"than {MAX_TABLE_VALUES:,}"
    ) in line


def test_red_lines_over_too_many_options_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """21 bounds on an issue of 100,000 values: each compiled to a set of 50,000."""
    bounds = "\n".join(
        f"      - {{id: r{k}, at_least: {{issue: i0, value: 50000}}}}" for k in range(21)
    )
    text = _numeric_case(1, 100_000).replace(
        "  - name: P1\n", f"    red_lines:\n{bounds}\n  - name: P1\n"
    )
    path = _write(tmp_path, text)
    assert main(["check", str(path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "parties[0].red_lines[20]: the red lines up to this one range over 2,100,000" in line
    assert f"more than {MAX_RED_LINE_OPTIONS:,}" in line


# ------------------------------------------------- 8 issues of 100,000 values each
@pytest.fixture(scope="module")
def big_agenda(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("big"), _numeric_case(8, 100_000))


def test_check_on_a_huge_numeric_agenda_answers_in_time_and_memory(big_agenda: Path) -> None:
    """It used to run past a minute (the output was quadratic in the options) and ignore
    ``--time-limit``; its red-line map now lists 50 options per issue and a count."""
    code, out, err, peak = _capped(
        ["check", str(big_agenda), "--time-limit", "5"], big_agenda.parent, timeout=90
    )
    assert code == 0, err
    assert out.startswith("Zone of possible agreement: yes")
    assert "... and 99,950 more options" in out
    assert len(out.splitlines()) < 600
    assert peak < 1024, peak


@pytest.mark.parametrize("command", ["settle", "frontier", "analyze"])
def test_settling_a_huge_numeric_agenda_is_refused_with_an_estimate(
    command: str, big_agenda: Path
) -> None:
    """It used to try to allocate 74.5 GiB (a MemoryError traceback)."""
    code, _, err, peak = _capped([command, str(big_agenda)], big_agenda.parent)
    assert code == 2, err
    (line,) = err.splitlines()
    assert line == (
        "error: this case is too large for the CP-SAT engine: its model would have 800,000 "
        "option and red-line terms (about 458 MB and 16 s to build); it takes at most "
        "250,000 (use coarser steps on the numeric issues, or analyse a partial deal on "
        "fewer issues with --issues)"
    )
    assert peak < 1024, peak


def test_the_frontier_programme_refuses_a_fold_too_large_and_cp_sat_answers(
    tmp_path: Path,
) -> None:
    """2 issues of 5,000 values: the second fold would compare 25,000,000 sums.

    (Every package is on the frontier; welfare has one best package, found at once.)
    The rule's window keeps one value per issue, so the window programme answers;
    when it too refuses a fold, CP-SAT answers.
    """
    text = _numeric_case(2, 5_000).replace("[[0, 100], [4999, 0]]", "[[0, 100], [4999, 50]]")
    _, problem = load_problem(_write(tmp_path, text))
    with pytest.raises(NotApplicable, match=r"would compare 25,000,000 partial sums") as info:
        dp_frontier(problem)
    assert f"at most {MAX_FOLD_SUMS:,}" in str(info.value)
    answer = engine.settle(problem, [SettlementRule.WELFARE], time_limit=10)
    assert answer[SettlementRule.WELFARE].method == "frontier-window"
    assert answer[SettlementRule.WELFARE].package == (4999, 4999)
    refused = NotApplicable("a fold too large")
    with mock.patch.object(engine, "window_settlements", side_effect=refused):
        # found at once on a quiet machine; a generous limit, so that a busy one (load 13
        # on two cores once took CP-SAT past 10 s) does not fail what is not a speed test
        answer = engine.settle(problem, [SettlementRule.WELFARE], time_limit=60)
    assert answer[SettlementRule.WELFARE].method == "cp-sat"
    assert answer[SettlementRule.WELFARE].package == (4999, 4999)


# --------------------------------------------------------------------- messages
def test_a_message_about_many_options_is_cut_to_a_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An issue of 100,000 options, one rated: the message named every other one."""
    options = ", ".join(f"option{k}" for k in range(100_000))
    text = (
        "title: Long issue\nissues:\n  - name: a\n"
        f"    options: [{options}]\n"
        "parties:\n  - name: P\n    weights: {a: 1}\n    ratings: {a: {option0: 100}}\n"
    )
    path = _write(tmp_path, text)
    assert main(["check", str(path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        f"error: {path}:8: parties[0].ratings.a: options 'option1', 'option2', 'option3', "
        "'option4', 'option5', 'option6', 'option7', 'option8', 'option9', 'option10' and "
        "99,989 more not rated (rate every option of a weighted issue (0 = worst, 100 = best))"
    )


def test_many_problems_show_a_screenful_and_a_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ratings = ", ".join(f"x{k}: 50" for k in range(500))
    text = (
        "title: Many unknown options\nissues:\n  - name: a\n    options: [y]\n"
        f"parties:\n  - name: P\n    weights: {{a: 1}}\n    ratings: {{a: {{y: 1, {ratings}}}}}\n"
    )
    path = _write(tmp_path, text)
    assert main(["check", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[0].startswith(f"error: {path}:8: parties[0].ratings.a.x0: unknown option 'x0'")
    assert lines[-1] == f"error: ... and {500 - MAX_PROBLEMS:,} more problems"


# ----------------------------------------------------------- the validator's re-solve
def test_a_re_solve_of_a_certificate_keeps_to_the_time_limit_and_skips_a_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Step 4 of a certificate used to take 10 s whatever ``--time-limit`` said, and an
    engine's refusal of a model too large would have ended the command."""
    _, problem = load_problem(_write(tmp_path, _numeric_case(1, 3)))
    asked: list[float] = []

    def too_large(sub: Problem) -> ZoneResult:
        raise AnalysisError("too large")

    def cpsat(sub: Problem, seconds: float) -> ZoneResult:
        asked.append(seconds)
        return ZoneResult(Status.INFEASIBLE, ((),), None, None, "cp-sat", 0.0)

    monkeypatch.setattr(certificates, "_enumerate", lambda sub: Verdict())
    monkeypatch.setattr(certificates, "dp_zone", too_large)
    monkeypatch.setattr(certificates, "cpsat_zone", cpsat)
    verdict = certificates.decide(problem, [], "enumeration", resolve=True, seconds=0.5)
    assert verdict == Verdict("re-solved by cp-sat")
    assert asked == [0.5]
    monkeypatch.setattr(certificates, "cpsat_zone", lambda sub, seconds: too_large(sub))
    assert certificates.decide(problem, [], "enumeration", resolve=True) == Verdict()
