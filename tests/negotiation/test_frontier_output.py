"""The frontier as arrays (issue 14 §3): streamed JSON, evenly spread subsets, ``--limit``.

The streamed JSON must be the text ``json.dumps`` made of the old list of points; the
spread subset is checked against its definition (greedy farthest point) and its gap
against a brute-force nearest-representative distance.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.cli import main
from backchannel.formats.json_stream import json_chunks
from backchannel.model.frontier import FrontierPoints, spread
from backchannel.model.problem import Problem
from backchannel.services.documents import frontier_doc, package_doc, utilities_doc
from backchannel.solvers import engine
from backchannel.solvers.enumeration import enumerate_frontier
from tests.negotiation.strategies import problems, two_party_problems


def _old_doc(problem: Problem, points: FrontierPoints) -> list[dict[str, Any]]:
    """The list of points as the engine printed it before the arrays (one dict per point)."""
    return [
        {
            "package": package_doc(problem, p.package),
            "utilities": utilities_doc(problem, p.utilities),
        }
        for p in points
    ]


def _in_russian(problem: Problem) -> Problem:
    """The problem with issue names and option values outside ASCII (and one quote)."""
    issues = tuple(
        dataclasses.replace(
            issue, name=f'вопрос "{k}"', values=tuple(f"вариант {v}" for v in issue.values)
        )
        for k, issue in enumerate(problem.issues)
    )
    return dataclasses.replace(problem, issues=issues)


@given(problems(max_parties=3), st.integers(0, 2), st.booleans(), st.booleans())
@settings(max_examples=40, deadline=None)
def test_the_streamed_points_are_what_json_dumps_wrote(
    problem: Problem, depth: int, ascii_only: bool, russian: bool
) -> None:
    if russian:
        problem = _in_russian(problem)
    result = enumerate_frontier(problem)
    doc = frontier_doc(problem, result)
    plain = {**doc, "points": _old_doc(problem, result.points)}
    for _ in range(depth):
        doc, plain = {"k": [doc]}, {"k": [plain]}
    text = "".join(json_chunks(doc, ensure_ascii=ascii_only))
    assert text == json.dumps(plain, indent=2, ensure_ascii=ascii_only)


def _brute_gap(utilities: np.ndarray[Any, Any], rows: np.ndarray[Any, Any]) -> float:
    distances = np.linalg.norm(utilities[:, None, :] - utilities[None, rows, :], axis=2)
    return float(distances.min(axis=1).max())


@given(
    st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=60),
    st.integers(1, 70),
    st.integers(2, 3),
)
def test_the_spread_is_greedy_farthest_point_and_its_gap_is_exact(
    rows: list[tuple[float, float, float]], limit: int, parties: int
) -> None:
    utilities = np.array(rows)[:, :parties]
    chosen, gap = spread(utilities, limit)
    assert len(chosen) == min(limit, len(rows))
    assert list(chosen) == sorted(set(chosen.tolist()))
    assert gap == pytest.approx(_brute_gap(utilities, chosen), abs=1e-12)
    if limit >= len(rows):
        assert gap == 0.0
        return
    assert utilities[chosen, 0].max() == utilities[:, 0].max()  # the first party's best
    # greedy farthest point: no unchosen point is farther from the others than the gap
    # was when the last point was added, so the gap is at most twice the optimum: here,
    # at least every chosen point is at distance >= gap from every other chosen point
    picked = utilities[chosen]
    pairwise = np.linalg.norm(picked[:, None, :] - picked[None, :, :], axis=2)
    np.fill_diagonal(pairwise, np.inf)
    assert pairwise.min() >= gap - 1e-12


@given(two_party_problems(min_issues=3, max_issues=5, max_options=4))
@settings(max_examples=25, deadline=None)
def test_a_two_party_spread_keeps_both_ends(problem: Problem) -> None:
    points = engine.frontier(problem).points
    if len(points) < 3:
        return
    chosen, _ = spread(points.utilities, 2)
    ends = {int(np.argmax(points.utilities[:, 0])), int(np.argmax(points.utilities[:, 1]))}
    assert set(chosen.tolist()) == ends


def _opposed_case(tmp_path: Path, issues: int) -> Path:
    """Two sides, ordered issues rated in opposite directions: every package is efficient."""
    agenda = [
        {"name": f"issue {k}", "kind": "ordered", "options": ["low", "mid", "high"]}
        for k in range(issues)
    ]
    ratings = {f"issue {k}": {"low": 0, "mid": 50, "high": 100} for k in range(issues)}
    opposite = {f"issue {k}": {"low": 100, "mid": 50, "high": 0} for k in range(issues)}
    shares = [2**k for k in range(issues - 1)]
    weights = {f"issue {k}": w for k, w in enumerate([*shares, 100 - sum(shares)])}
    case = {
        "title": "opposed",
        "issues": agenda,
        "parties": [
            {"name": "A", "weights": weights, "ratings": ratings},
            {"name": "B", "weights": weights, "ratings": opposite},
        ],
    }
    path = tmp_path / "opposed.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    return path


def test_limit_prints_an_even_spread_with_the_total_and_the_gap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _opposed_case(tmp_path, 6)
    assert main(["frontier", str(path), "--json"]) == 0
    whole = json.loads(capsys.readouterr().out)
    assert "total" not in whole  # without --limit: the document as before
    assert main(["frontier", str(path), "--json", "--limit", "5"]) == 0
    limited = json.loads(capsys.readouterr().out)
    assert limited["total"] == len(whole["points"]) > 5
    assert len(limited["points"]) == 5
    assert limited["points"][0] == whole["points"][0]  # sorted by utility: both ends kept
    assert limited["points"][-1] == whole["points"][-1]
    assert all(point in whole["points"] for point in limited["points"])
    utilities = np.array([list(p["utilities"].values()) for p in whole["points"]])
    shown = np.array([whole["points"].index(p) for p in limited["points"]])
    assert limited["largest_gap"] == pytest.approx(_brute_gap(utilities, shown))


def test_the_table_lists_a_spread_of_a_large_frontier(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _opposed_case(tmp_path, 6)
    assert main(["frontier", str(path), "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "(3 of " in out and "evenly spread" in out
    assert main(["frontier", str(path), "--limit", "0"]) == 2
    assert "--limit must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize("layout", ["rows", "issue by issue", "issue by issue, last first"])
def test_taking_points_keeps_their_rows_and_the_packages_memory_order(layout: str) -> None:
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 6, size=(40, 9)).astype(np.int8)
    packages = {
        "rows": rows,
        "issue by issue": np.asfortranarray(rows),
        "issue by issue, last first": np.asfortranarray(rows[::-1])[::-1],
    }[layout]
    utilities = rng.random((40, 2))
    index = np.array([5, 0, 39, 5, -1, 17])
    taken = FrontierPoints(packages, utilities).take(index)
    assert np.array_equal(taken.packages, rows[index])
    assert np.array_equal(taken.utilities, utilities[index])
    by_issue = abs(packages.strides[0]) < abs(packages.strides[1])
    assert (abs(taken.packages.strides[0]) < abs(taken.packages.strides[1])) == by_issue
