"""Malformed conflict files: each problem is reported at its path and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from backchannel.conflict.compile import compile_conflict
from backchannel.errors import CaseFileError, CaseFileErrors, InputError
from backchannel.formats.conflict_file import read_conflict_text
from backchannel.services.conflict import load_conflict

BASE = """\
title: Test crisis
decision_makers:
  - {id: US, options: [air_strike, blockade]}
  - {id: USSR, options: [withdraw, escalate]}
options:
  - {id: air_strike, reversibility: forward_only}
  - {id: blockade}
  - {id: withdraw}
  - {id: escalate}
infeasible:
  - {withdraw: true, escalate: true}
preferences:
  US:
    statements: ["-air_strike", "blockade | withdraw", "withdraw & -escalate"]
  USSR:
    statements: ["-escalate", "withdraw if blockade"]
status_quo: NNNN
"""


def errors_of(text: str) -> list[CaseFileError]:
    with pytest.raises(InputError) as info:
        model = read_conflict_text(text, "case.yaml")
        compile_conflict(model, "case.yaml")
    exc = info.value
    if isinstance(exc, CaseFileErrors):
        return list(exc.errors)
    assert isinstance(exc, CaseFileError)
    return [exc]


def one_error(text: str) -> CaseFileError:
    errors = errors_of(text)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_base_file_is_valid() -> None:
    compiled = compile_conflict(read_conflict_text(BASE, "case.yaml"), "case.yaml")
    assert compiled.n_states == 12


RANKING = "    ranking: [[NNNN], [NYNN, YNNN], [YYNN, NNYN, NYYN, NNNY, NYNY, YNNY], [YYNY]]\n"

CASES = [
    # (name, old text, new text, path, line, message fragment)
    (
        "unknown option in a statement",
        '"blockade | withdraw"',
        '"blockad | withdraw"',
        ("preferences", "US", "statements", 1),
        14,
        "unknown option 'blockad' at column 1",
    ),
    (
        "statement syntax, with the column",
        '"withdraw if blockade"',
        '"withdraw & & blockade"',
        ("preferences", "USSR", "statements", 1),
        16,
        "at column 12",
    ),
    (
        "state string of the wrong length",
        "status_quo: NNNN",
        "status_quo: NNN",
        ("status_quo",),
        17,
        "not a 4-character string",
    ),
    (
        "status quo infeasible",
        "status_quo: NNNN",
        "status_quo: NNYY",
        ("status_quo",),
        17,
        "infeasible (it matches infeasible[0])",
    ),
    (
        "ranking misses states",
        '    statements: ["-escalate", "withdraw if blockade"]\n',
        RANKING,
        ("preferences", "USSR", "ranking"),
        16,
        "misses 2 feasible state(s): YNYN, YYYN",
    ),
    (
        "ranking repeats a state",
        '    statements: ["-escalate", "withdraw if blockade"]\n',
        "    ranking: [NNNN, NNNN]\n",
        ("preferences", "USSR", "ranking", 1, 0),
        16,
        "ranked twice (first at ranking[0][0])",
    ),
    (
        "ranking lists an infeasible state",
        '    statements: ["-escalate", "withdraw if blockade"]\n',
        RANKING.replace("[YYNY]]", "[YYNY, YNYN, YYYN], [NNYY]]"),
        ("preferences", "USSR", "ranking", 4, 0),
        16,
        "'NNYY' is infeasible",
    ),
    (
        "contradictory reversibility",
        "{id: air_strike, reversibility: forward_only}",
        "{id: air_strike, reversibility: backward_only, irreversible: true}",
        ("options", 0, "irreversible"),
        6,
        "contradictory reversibility",
    ),
    (
        "option owned by two decision makers",
        "{id: USSR, options: [withdraw, escalate]}",
        "{id: USSR, options: [withdraw, escalate, blockade]}",
        ("decision_makers", 1, "options", 2),
        4,
        "already controlled by 'US'",
    ),
    (
        "option owned by none",
        "{id: US, options: [air_strike, blockade]}",
        "{id: US, options: [air_strike]}",
        ("options", 1),
        7,
        "no decision maker controls option 'blockade'",
    ),
    (
        "unknown decision maker in coalitions",
        "status_quo: NNNN\n",
        "status_quo: NNNN\ncoalitions: [[US, Cuba]]\n",
        ("coalitions", 0, 1),
        18,
        "unknown decision maker 'Cuba'",
    ),
    (
        "unknown decision maker in preferences",
        "  USSR:\n",
        "  Cuba:\n",
        ("preferences", "Cuba"),
        15,
        "unknown decision maker 'Cuba'",
    ),
    (
        "unknown decision maker in misperceived",
        "status_quo: NNNN\n",
        "status_quo: NNNN\nmisperceived:\n  Cuba: [YNNN]\n",
        ("misperceived", "Cuba"),
        19,
        "unknown decision maker 'Cuba'",
    ),
    (
        "unknown key, listing the allowed keys",
        "{id: blockade}",
        "{id: blockade, colour: red}",
        ("options", 1, "colour"),
        7,
        "unknown key 'colour'; allowed keys: id, name, description, reversibility",
    ),
    (
        "wrong value type",
        "{withdraw: true, escalate: true}",
        "{withdraw: perhaps, escalate: true}",
        ("infeasible", 0, "withdraw"),
        11,
        "expected true or false, got 'perhaps'",
    ),
    (
        "duplicate key",
        "status_quo: NNNN\n",
        "status_quo: NNNN\nstatus_quo: YNNN\n",
        ("status_quo",),
        18,
        "duplicate key 'status_quo' (first on line 17)",
    ),
    (
        "unknown option in an infeasibility rule",
        "{withdraw: true, escalate: true}",
        "{withdraw: true, escalation: true}",
        ("infeasible", 0, "escalation"),
        11,
        "unknown option 'escalation'",
    ),
    (
        "misperceived pattern matching no feasible state",
        "status_quo: NNNN\n",
        "status_quo: NNNN\nmisperceived:\n  USSR: [--YY]\n",
        ("misperceived", "USSR", 0),
        19,
        "matches no feasible state",
    ),
    (
        "bad reversibility value",
        "reversibility: forward_only",
        "reversibility: one_way",
        ("options", 0, "reversibility"),
        6,
        "'one_way' is not allowed",
    ),
    (
        "both statements and ranking",
        '    statements: ["-escalate", "withdraw if blockade"]\n',
        '    statements: ["-escalate"]\n    ranking: [NNNN]\n',
        ("preferences", "USSR"),
        15,
        "exactly one of 'statements' or 'ranking'",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "path", "line", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_malformed_file_gives_a_located_error(
    old: str, new: str, path: tuple[str | int, ...], line: int, fragment: str
) -> None:
    assert old in BASE
    error = errors_of(BASE.replace(old, new, 1))[0]
    assert error.path == path
    assert error.line == line
    assert fragment in error.message
    assert str(error).startswith(f"case.yaml:{line}: ")


def test_several_problems_are_reported_together() -> None:
    text = BASE.replace('"blockade | withdraw"', '"blockad | withdraw"').replace(
        "status_quo: NNNN", "status_quo: NNN"
    )
    errors = errors_of(text)
    assert [e.path for e in errors] == [
        ("preferences", "US", "statements", 1),
        ("status_quo",),
    ]


def test_missing_preferences_for_a_decision_maker() -> None:
    text = BASE.replace('  USSR:\n    statements: ["-escalate", "withdraw if blockade"]\n', "")
    error = one_error(text)
    assert error.path == ("preferences",)
    assert "no preferences for decision maker 'USSR'" in error.message


def test_missing_required_key_is_named() -> None:
    error = one_error(BASE.replace("title: Test crisis\n", ""))
    assert error.path == ()
    assert "missing required key 'title'" in error.message


def test_invalid_yaml_reports_the_line() -> None:
    error = one_error(BASE.replace("status_quo: NNNN", "status_quo: [NNNN"))
    assert "not valid YAML" in error.message
    assert error.line is not None and error.line >= 17


def test_invalid_json_reports_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "title": "x",\n  "decision_makers": [,]\n}\n')
    with pytest.raises(CaseFileErrors) as info:
        load_conflict(path)
    (error,) = info.value.errors
    assert error.line == 3
    assert "not valid JSON: Expecting value at column 23" in error.message


def test_json_errors_are_located_too(tmp_path: Path) -> None:
    import json

    import yaml

    data = yaml.safe_load(BASE)
    data["options"][1]["colour"] = "red"
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(CaseFileError) as info:
        load_conflict(path)
    assert info.value.path == ("options", 1, "colour")
    assert info.value.line is not None
    assert '"colour"' in path.read_text().splitlines()[info.value.line - 1]


def test_unknown_suffix_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match=r"unknown file type '\.txt'"):
        load_conflict(tmp_path / "case.txt")
    with pytest.raises(CaseFileError, match="cannot read the file"):
        load_conflict(tmp_path / "absent.yaml")


def test_top_level_must_be_a_mapping() -> None:
    error = one_error("- just\n- a list\n")
    assert "must be a mapping" in error.message
