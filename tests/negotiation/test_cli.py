"""The negotiation commands end to end, through ``backchannel.cli.main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backchannel.cli import main

SYMMETRIC = """\
title: Symmetric swap
issues:
  - name: X
    options: [a, b]
  - name: "Y axis"
    options: [p, q]
parties:
  - name: A
    weights: {X: 50, "Y axis": 50}
    ratings:
      X: {a: 100, b: 0}
      "Y axis": {p: 100, q: 0}
  - name: B
    weights: {X: 0.5, "Y axis": 0.5}
    ratings:
      X: {a: 0, b: 100}
      "Y axis": {p: 0, q: 100}
"""

CLASH = """\
title: Clash
issues:
  - name: X
    options: [a, b]
parties:
  - name: A
    weights: {X: 1}
    ratings: {X: {a: 100, b: 0}}
    red_lines:
      - {id: a-only, require: {issue: X, options: [a]}, firmness: 3}
  - name: B
    weights: {X: 1}
    ratings: {X: {a: 0, b: 100}}
    red_lines:
      - {id: b-only, require: {issue: X, options: [b]}, firmness: 2, visibility: stated}
"""


@pytest.fixture
def symmetric(tmp_path: Path) -> Path:
    path = tmp_path / "symmetric.yaml"
    path.write_text(SYMMETRIC, encoding="utf-8")
    return path


@pytest.fixture
def clash(tmp_path: Path) -> Path:
    path = tmp_path / "clash.yaml"
    path.write_text(CLASH, encoding="utf-8")
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    code = main([*args, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    document = json.loads(out)
    assert isinstance(document, dict)
    return document


def test_settle_json_names_issues_and_parties_as_in_file(
    symmetric: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = run_json(capsys, "settle", str(symmetric), "--rule", "nash")
    (nash,) = doc["settlements"]  # type: ignore[misc]
    # Two packages reach the Nash product 0.25 with equal welfare: the tie-break picks the
    # smaller option vector (a, q) and says one other package ties.
    assert nash["package"] == {"X": "a", "Y axis": "q"}
    assert nash["utilities"] == pytest.approx({"A": 0.5, "B": 0.5})
    assert nash["value"] == pytest.approx(0.25)
    assert nash["ties"] == 1
    assert nash["status"] == "optimal"


def test_check_reports_zone_and_count(symmetric: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "check", str(symmetric))
    assert doc["admissible"] is True
    assert doc["count"] == 4
    assert doc["viable"] == {"X": ["a", "b"], "Y axis": ["p", "q"]}
    assert doc["certificate"] is None


def test_clashes_name_both_sides_and_cheapest_relaxation(
    clash: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = run_json(capsys, "clashes", str(clash))
    assert doc["feasible"] is False
    (only,) = doc["clash_sets"]  # type: ignore[misc]
    assert sorted(r["id"] for r in only["red_lines"]) == ["a-only", "b-only"]
    assert only["parties"] == ["A", "B"]
    assert only["minimal"] is True
    (cheapest,) = doc["relaxations"]  # type: ignore[misc]
    assert [r["id"] for r in cheapest["red_lines"]] == ["b-only"]
    assert cheapest["cost"] == 2
    assert cheapest["package"] == {"X": "a"}
    certificate = doc["certificate"]
    assert sorted(certificate["clash"]) == ["a-only", "b-only"]  # type: ignore[index]
    assert certificate["certified"] is True  # type: ignore[index]
    assert certificate["proof"] == "issue enumeration"  # type: ignore[index]


def test_conflicts_is_a_hidden_deprecated_alias_of_clashes(
    clash: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["clashes", str(clash), "--json"]) == 0
    current = capsys.readouterr()
    assert main(["conflicts", str(clash), "--json"]) == 0
    old = capsys.readouterr()
    assert json.loads(old.out)["clash_sets"] == json.loads(current.out)["clash_sets"]
    assert "deprecated" in old.err and "backchannel clashes" in old.err
    assert "deprecated" not in current.err
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    assert "clashes" in listed and " conflicts " not in listed


def test_settle_and_meso_without_admissible_package_say_what_to_do(
    clash: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["settle", str(clash)], ["meso", str(clash), "--for", "A"]):
        main(argv)
        out = capsys.readouterr().out
        assert "No admissible package" in out, argv
        assert "backchannel clashes" in out and "--issues" in out, argv
        assert "0 offers" not in out


def test_table_output_is_readable(clash: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(clash)]) == 0
    out = capsys.readouterr().out
    assert "Zone of possible agreement: no" in out
    assert "Proven independently of the engine (issue enumeration)." in out
    assert "blocked by" in out


def test_bad_file_exits_2_with_located_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(CLASH.replace("options: [b]}, firmness: 2", "options: [c]}, firmness: 2"))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "parties[1].red_lines[0].require.options[0]" in err
    assert "unknown option 'c'" in err
    assert "Traceback" not in err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settle", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_unknown_party_for_meso_exits_2(
    symmetric: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["meso", str(symmetric), "--for", "Nobody"]) == 2
    assert "unknown delegation 'Nobody'" in capsys.readouterr().err


def test_partial_deal_on_some_issues(symmetric: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "settle", str(symmetric), "--issues", "X", "--rule", "welfare")
    (welfare,) = doc["settlements"]  # type: ignore[misc]
    assert set(welfare["package"]) == {"X"}
    assert main(["check", str(symmetric), "--issues", "Z"]) == 2


def test_convert_round_trip_keeps_utilities(
    symmetric: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "copy.json"
    assert main(["convert", str(symmetric), str(target)]) == 0
    capsys.readouterr()
    first = run_json(capsys, "frontier", str(symmetric))
    second = run_json(capsys, "frontier", str(target))
    assert first["points"] == second["points"]


def test_schema_is_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"title", "issues", "parties"} <= set(schema["properties"])
    assert "title" in schema["required"]


def test_every_command_is_in_the_reference() -> None:
    from backchannel.cli.reference import reference

    documented = (Path(__file__).parents[2] / "docs" / "reference" / "cli.md").read_text(
        encoding="utf-8"
    )
    assert documented == reference(), "docs/reference/cli.md is stale: regenerate it"
    for command in ("analyze", "check", "clashes", "settle", "frontier", "meso", "convert"):
        assert f"`backchannel {command}`" in documented


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["settle"], "Missing argument"),
        (["settle", "x.yaml", "--rule", "median"], "is not one of"),
        (["no-such-command"], "No such command"),
        (["check", "x.yaml", "--time-limit", "soon"], "Invalid value"),
    ],
)
def test_usage_errors_exit_2_without_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
