"""Malformed case files: every problem is reported, located and explained.

Each case writes a small file to ``tmp_path`` and checks what a mediator would read:
the exact path inside the document, key words of the message, a hint on how to fix
it, and (for YAML and JSON) the line the problem is on.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from backchannel.errors import CaseFileError, CaseFileErrors, InputError
from backchannel.formats.cases import load_problem

# A valid case; each malformed case below is this file with one edit. The expected
# lines refer to it: party P starts on line 16, Q on line 29, the absent U on line 35.
BASE = """\
title: Minimal case
issues:
  - name: a
    options:
      - x
      - y
  - name: b
    kind: ordered
    options: [lo, mid, hi]
  - name: n
    kind: numeric
    range: {min: 0, max: 10, step: 5}
    description: a numeric issue

parties:
  - name: P
    weights: {a: 50, b: 25, n: 25}
    ratings:
      a: {x: 0, y: 100}
      b:
        {lo: 0, mid: 50, hi: 100}
      n: {points: [[0, 0], [10, 100]]}
    red_lines:
      - id: r1
        forbid: {issue: a, options: [x]}
      - id: r2
        at_least: {issue: b, value: mid}
    reservation: 0.1
  - name: Q
    weights: {a: 50, b: 25, n: 25}
    ratings:
      a: {x: 100, y: 0}
      b: {lo: 100, mid: 50, hi: 0}
      n: {points: [[0, 100], [10, 0]]}
  - name: U
    role: absent
    red_lines:
      - id: u1
        forbid: {issue: n, options: [10]}
"""


def edit(old: str, new: str) -> str:
    """BASE with one exact, unique substring replaced."""
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def write(tmp_path: Path, text: str | bytes, suffix: str = ".yaml") -> Path:
    path = tmp_path / f"case{suffix}"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> tuple[CaseFileError, ...]:
    with pytest.raises(CaseFileErrors) as info:
        load_problem(path)
    assert info.value.errors, "CaseFileErrors must hold at least one error"
    return info.value.errors


@dataclass(frozen=True)
class Bad:
    """One malformed file and what its first error must say."""

    text: str
    path: tuple[str | int, ...]
    words: tuple[str, ...]
    line: int | None
    hint: bool = True


BAD_YAML: dict[str, Bad] = {
    "unknown option in a rating": Bad(
        edit("a: {x: 0, y: 100}", "a: {x: 0, y: 100, z: 5}"),
        ("parties", 0, "ratings", "a", "z"),
        ("unknown option", "'z'"),
        19,
    ),
    "unknown option in a red line": Bad(
        edit("options: [x]}", "options: [w]}"),
        ("parties", 0, "red_lines", 0, "forbid", "options", 0),
        ("unknown option", "'w'"),
        25,
    ),
    "unknown option in an if condition": Bad(
        edit(
            "        forbid: {issue: a, options: [x]}\n",
            "        if:\n          issue: a\n          options: [x, maybe]\n"
            "        then: {issue: b, options: [hi]}\n",
        ),
        ("parties", 0, "red_lines", 0, "if", 0, "options", 1),
        ("unknown option", "'maybe'"),
        27,
    ),
    "unknown option in a then condition": Bad(
        edit(
            "        forbid: {issue: a, options: [x]}\n",
            "        if: {issue: a, options: [x]}\n"
            "        then:\n"
            "          - {issue: b, options: [hi]}\n"
            "          - {issue: b, options: [top]}\n",
        ),
        ("parties", 0, "red_lines", 0, "then", 1, "options", 0),
        ("unknown option", "'top'"),
        28,
    ),
    "unknown bound option": Bad(
        edit("value: mid}", "value: middle}"),
        ("parties", 0, "red_lines", 1, "at_least", "value"),
        ("unknown option", "'middle'"),
        27,
    ),
    "weights do not sum to 1 or 100": Bad(
        edit(
            "    weights: {a: 50, b: 25, n: 25}\n    ratings:\n      a: {x: 0",
            "    weights: {a: 50, b: 25, n: 20}\n    ratings:\n      a: {x: 0",
        ),
        ("parties", 0, "weights"),
        ("sum to 95", "not to 1 or 100"),
        17,
    ),
    "negative weight": Bad(
        edit(
            "    weights: {a: 50, b: 25, n: 25}\n    ratings:\n      a: {x: 100",
            "    weights: {a: 50, b: 75, n: -25}\n    ratings:\n      a: {x: 100",
        ),
        ("parties", 1, "weights", "n"),
        ("weight -25", "negative"),
        30,
    ),
    "rating above 100": Bad(
        edit("{lo: 0, mid: 50, hi: 100}", "{lo: 0, mid: 50, hi: 120}"),
        ("parties", 0, "ratings", "b", "hi"),
        ("rating 120", "outside 0-100"),
        21,
    ),
    "piecewise rating below 0": Bad(
        edit("n: {points: [[0, 100], [10, 0]]}", "n: {points: [[0, 100], [10, -5]]}"),
        ("parties", 1, "ratings", "n", "points", 1, 1),
        ("rating -5", "outside 0-100"),
        34,
    ),
    "unrated option of a weighted issue": Bad(
        edit("a: {x: 100, y: 0}", "a: {x: 100}"),
        ("parties", 1, "ratings", "a"),
        ("option 'y'", "not rated"),
        32,
    ),
    "range reversed": Bad(
        edit("{min: 0, max: 10, step: 5}", "{min: 10, max: 0, step: 5}"),
        ("issues", 2, "range"),
        ("reversed", "min 10", "max 0"),
        12,
    ),
    "step does not divide the range": Bad(
        edit("{min: 0, max: 10, step: 5}", "{min: 0, max: 10, step: 3}"),
        ("issues", 2, "range", "step"),
        ("step 3", "does not divide"),
        12,
    ),
    "red line naming a missing issue": Bad(
        edit("forbid: {issue: a, options: [x]}", "forbid: {issue: c, options: [x]}"),
        ("parties", 0, "red_lines", 0, "forbid", "issue"),
        ("unknown issue", "'c'"),
        25,
    ),
    "bound naming a missing issue": Bad(
        edit("at_least: {issue: b, value: mid}", "at_least: {issue: bb, value: mid}"),
        ("parties", 0, "red_lines", 1, "at_least", "issue"),
        ("unknown issue", "'bb'"),
        27,
    ),
    "duplicate red-line id across parties": Bad(
        edit("- id: u1", "- id: r2"),
        ("parties", 2, "red_lines", 0, "id"),
        ("'r2'", "used twice"),
        38,
    ),
    "duplicate issue": Bad(
        edit("  - name: n\n", "  - name: b\n"),
        ("issues", 2, "name"),
        ("issue 'b'", "defined twice"),
        10,
    ),
    "duplicate party": Bad(
        edit("  - name: Q\n", "  - name: P\n"),
        ("parties", 1, "name"),
        ("party 'P'", "defined twice"),
        29,
    ),
    "duplicate option": Bad(
        edit("[lo, mid, hi]", "[lo, mid, lo]"),
        ("issues", 1, "options", 2),
        ("option 'lo'", "listed twice"),
        9,
    ),
    "duplicate YAML key": Bad(
        edit("    reservation: 0.1\n", "    reservation: 0.1\n    reservation: 0.2\n"),
        ("parties", 0, "reservation"),
        ("duplicate key", "'reservation'", "first on line 28"),
        29,
    ),
    "unknown key": Bad(
        edit("    role: absent\n", "    role: absent\n    colour: blue\n"),
        ("parties", 2, "colour"),
        ("unknown key", "'colour'"),
        37,
    ),
    "missing title": Bad(
        edit("title: Minimal case\n", "description: no title here\n"),
        ("title",),
        ("'title'", "missing"),
        1,
    ),
    "missing party name": Bad(
        edit("  - name: Q\n", "  - role: delegation\n"),
        ("parties", 1, "name"),
        ("'name'", "missing"),
        29,
    ),
    "text where a number is needed": Bad(
        edit("a: {x: 100, y: 0}", "a: {x: 100, y: low}"),
        ("parties", 1, "ratings", "a", "y"),
        ("expected a number", "'low'"),
        32,
    ),
    "text for a reservation": Bad(
        edit("reservation: 0.1", "reservation: high"),
        ("parties", 0, "reservation"),
        ("expected a number or a mapping", "'high'"),
        28,
    ),
    "red line with two forms": Bad(
        edit(
            "        forbid: {issue: a, options: [x]}\n",
            "        forbid: {issue: a, options: [x]}\n        require: {issue: a, options: [y]}\n",
        ),
        ("parties", 0, "red_lines", 0),
        ("exactly one form", "forbid, require"),
        24,
    ),
    "if without then": Bad(
        edit("forbid: {issue: a, options: [x]}", "if: {issue: a, options: [x]}"),
        ("parties", 0, "red_lines", 0, "then"),
        ("'then' is missing", "conditional"),
        24,
    ),
    "at_least on an unordered issue": Bad(
        edit("at_least: {issue: b, value: mid}", "at_least: {issue: a, value: x}"),
        ("parties", 0, "red_lines", 1, "at_least", "value"),
        ("unordered", "'a'"),
        27,
    ),
    "min_utility out of range": Bad(
        edit("at_least: {issue: b, value: mid}", "min_utility: 1.5"),
        ("parties", 0, "red_lines", 1, "min_utility"),
        ("1.5", "outside the utility scale"),
        27,
    ),
    "min_utility on an absent party": Bad(
        edit("forbid: {issue: n, options: [10]}", "min_utility: 0.5"),
        ("parties", 2, "red_lines", 0, "min_utility"),
        ("absent stakeholder", "minimum utility"),
        39,
    ),
    "absent party with weights": Bad(
        edit("    role: absent\n", "    role: absent\n    weights: {a: 100}\n"),
        ("parties", 2, "weights"),
        ("absent stakeholder", "no weights"),
        37,
    ),
    "reservation out of range": Bad(
        edit("reservation: 0.1", "reservation: 40"),
        ("parties", 0, "reservation"),
        ("reservation 40", "outside the utility scale"),
        28,
    ),
    "firmness zero": Bad(
        edit("      - id: r2\n", "      - id: r2\n        firmness: 0\n"),
        ("parties", 0, "red_lines", 1, "firmness"),
        ("too small", "greater than 0"),
        27,
    ),
    "visibility misspelt": Bad(
        edit("      - id: r2\n", "      - id: r2\n        visibility: public\n"),
        ("parties", 0, "red_lines", 1, "visibility"),
        ("'public'", "not allowed"),
        27,
    ),
    "numeric option outside the range": Bad(
        edit("options: [10]}", "options: [7]}"),
        ("parties", 2, "red_lines", 0, "forbid", "options", 0),
        ("unknown option", "7"),
        39,
    ),
    "invalid YAML syntax": Bad(
        edit("[lo, mid, hi]", "[lo, mid, hi"),
        (),
        ("not valid YAML", "flow sequence", "line 9"),
        10,
    ),
    "tab indentation": Bad(
        edit("  - name: Q\n", "\t- name: Q\n"),
        (),
        ("not valid YAML", "'\\t'"),
        29,
    ),
    "empty file": Bad("", (), ("the file is empty",), 1),
    "comments only": Bad("# nothing written yet\n", (), ("the file is empty",), 1),
    "top-level list": Bad(
        "- title: a list\n- issues: []\n", (), ("holds a mapping", "not list"), 1
    ),
}


@pytest.mark.parametrize("name", list(BAD_YAML))
def test_malformed_yaml_is_located(tmp_path: Path, name: str) -> None:
    bad = BAD_YAML[name]
    first = errors_of(write(tmp_path, bad.text))[0]
    assert first.path == bad.path
    for word in bad.words:
        assert word in first.message, (word, first.message)
    assert first.line == bad.line, str(first)
    if bad.hint:
        assert first.hint, f"no hint for: {first}"
    assert first.source == str(tmp_path / "case.yaml")
    assert str(first).startswith(f"{tmp_path / 'case.yaml'}:{bad.line}: ")


def test_base_case_is_valid(tmp_path: Path) -> None:
    case, problem = load_problem(write(tmp_path, BASE))
    assert [issue.name for issue in case.issues] == ["a", "b", "n"]
    assert problem.n_packages == 2 * 3 * 3
    assert problem.utility_parties == ("P", "Q")


def test_multiple_problems_in_one_file_are_all_reported(tmp_path: Path) -> None:
    text = BASE.replace("a: {x: 0, y: 100}", "a: {x: 0, y: 100, z: 5}")
    text = text.replace("value: mid}", "value: middle}")
    text = text.replace("reservation: 0.1", "reservation: 3")
    text = text.replace("options: [10]}", "options: [7]}")
    errors = errors_of(write(tmp_path, text))
    assert [e.path for e in errors] == [
        ("parties", 0, "ratings", "a", "z"),
        ("parties", 0, "reservation"),
        ("parties", 0, "red_lines", 1, "at_least", "value"),
        ("parties", 2, "red_lines", 0, "forbid", "options", 0),
    ]
    assert [e.line for e in errors] == [19, 28, 27, 39]
    with pytest.raises(CaseFileErrors, match=r"and 3 more problems"):
        load_problem(tmp_path / "case.yaml")


def test_shape_problems_are_all_reported(tmp_path: Path) -> None:
    text = BASE.replace("title: Minimal case\n", "")
    text = text.replace("    role: absent\n", "    role: observer\n")
    text = text.replace("{min: 0, max: 10, step: 5}", "{min: 0, max: ten, step: 5}")
    errors = errors_of(write(tmp_path, text))
    assert {e.path for e in errors} == {
        ("title",),
        ("issues", 2, "range", "max"),
        ("parties", 2, "role"),
    }


def test_every_duplicate_key_is_reported(tmp_path: Path) -> None:
    text = BASE.replace("title: Minimal case\n", "title: Minimal case\ntitle: Again\n")
    text = text.replace("a: {x: 100, y: 0}", "a: {x: 100, y: 0, x: 5}")
    errors = errors_of(write(tmp_path, text))
    assert [(e.path, e.line) for e in errors] == [
        (("title",), 2),
        (("parties", 1, "ratings", "a", "x"), 33),  # one line down: the second title
    ]


def test_union_alternatives_do_not_add_noise(tmp_path: Path) -> None:
    """A bad rating reports the bad number only, not "'points' is missing"."""
    text = BASE.replace("a: {x: 0, y: 100}", "a: {x: 0, y: lots}")
    errors = errors_of(write(tmp_path, text))
    assert [e.path for e in errors] == [("parties", 0, "ratings", "a", "y")]
    text = BASE.replace("      - y\n", "      - {description: the second option}\n")
    errors = errors_of(write(tmp_path, text))
    assert [e.path for e in errors] == [("issues", 0, "options", 1, "name")]
    assert errors[0].message.endswith("issues[0].options[1].name: 'name' is missing")


# ------------------------------------------------------------------- JSON


def base_json() -> dict[str, object]:
    return {
        "title": "Minimal case",
        "issues": [{"name": "a", "options": ["x", "y"]}],
        "parties": [
            {"name": "P", "weights": {"a": 1}, "ratings": {"a": {"x": 0, "y": 100}}},
            {"name": "Q", "weights": {"a": 1}, "ratings": {"a": {"x": 100, "y": 0}}},
        ],
    }


def test_json_syntax_error_is_located(tmp_path: Path) -> None:
    text = '{\n  "title": "t",\n  "issues": [\n    {"name": "a",}\n  ]\n}\n'
    first = errors_of(write(tmp_path, text, ".json"))[0]
    assert first.path == ()
    assert "not valid JSON" in first.message
    assert first.line == 4
    assert first.hint


def test_json_content_error_is_located(tmp_path: Path) -> None:
    data = base_json()
    data["parties"][1]["ratings"]["a"]["y"] = 150  # type: ignore[index]
    path = write(tmp_path, json.dumps(data, indent=2), ".json")
    first = errors_of(path)[0]
    assert first.path == ("parties", 1, "ratings", "a", "y")
    assert "rating 150" in first.message
    text = path.read_text()
    assert first.line == text.splitlines().index('          "y": 150') + 1


def test_json_unknown_option_in_red_line(tmp_path: Path) -> None:
    data = base_json()
    data["parties"][0]["red_lines"] = [  # type: ignore[index]
        {"id": "r", "require": {"issue": "a", "options": ["y", "zz"]}}
    ]
    first = errors_of(write(tmp_path, json.dumps(data), ".json"))[0]
    assert first.path == ("parties", 0, "red_lines", 0, "require", "options", 1)
    assert "unknown option 'zz'" in first.message
    assert first.hint == "the options of 'a' are: x, y"
    assert first.line == 1  # compact JSON: everything is on line 1


def test_json_duplicate_key(tmp_path: Path) -> None:
    text = '{\n  "title": "t",\n  "title": "u",\n  "issues": []\n}\n'
    first = errors_of(write(tmp_path, text, ".json"))[0]
    assert first.path == ("title",)
    assert "duplicate key 'title'" in first.message
    assert first.line == 3


def test_json_wrong_type(tmp_path: Path) -> None:
    data = base_json()
    data["parties"][0]["weights"] = {"a": "one"}  # type: ignore[index]
    first = errors_of(write(tmp_path, json.dumps(data, indent=1), ".json"))[0]
    assert first.path == ("parties", 0, "weights", "a")
    assert "expected a number, got 'one'" in first.message
    assert first.hint


def test_json_top_level_list(tmp_path: Path) -> None:
    first = errors_of(write(tmp_path, "[1, 2]\n", ".json"))[0]
    assert first.path == ()
    assert "not list" in first.message


# ----------------------------------------------------------- bytes and files


def test_non_utf8_bytes(tmp_path: Path) -> None:
    raw = b"title: t\nissues:\n  - name: caf\xe9\n"
    first = errors_of(write(tmp_path, raw))[0]
    assert first.path == ()
    assert "not UTF-8" in first.message
    assert first.line == 3
    assert first.hint == "save the file as UTF-8"


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    """A file that is not there has no content to locate a problem in."""
    with pytest.raises(InputError, match="no such file") as info:
        load_problem(tmp_path / "absent.yaml")
    assert not isinstance(info.value, CaseFileErrors)
    assert info.value.hint == "check the path"
    assert info.value.exit_code == 2


def test_single_mapping_condition_is_located_on_its_own_line(tmp_path: Path) -> None:
    """``if:`` written as one mapping counts as a list of one; the line is still exact."""
    text = textwrap.dedent(
        """\
        title: t
        issues:
          - name: a
            options: [x, y]
        parties:
          - name: P
            weights: {a: 1}
            ratings: {a: {x: 0, y: 100}}
            red_lines:
              - id: r
                if:
                  issue: a
                  options: [nope]
                then: {issue: a, options: [x]}
        """
    )
    first = errors_of(write(tmp_path, text))[0]
    assert first.path == ("parties", 0, "red_lines", 0, "if", 0, "options", 0)
    assert first.line == 13


NUMERIC = """\
title: Numeric ratings
issues:
  - name: buffer
    kind: numeric
    range: {min: 0, max: 10, step: 5, unit: km}
parties:
  - name: P
    weights: {buffer: 1}
    ratings:
      buffer:
        0: 0
        5: 60
        10: 100
"""


def test_numeric_options_may_be_rated_by_plain_numbers(tmp_path: Path) -> None:
    _, problem = load_problem(write(tmp_path, NUMERIC))
    assert [problem.utility((k,))[0] for k in range(3)] == pytest.approx([0.0, 0.6, 1.0])


def test_unrated_numeric_option_with_a_unit_is_reported(tmp_path: Path) -> None:
    errors = errors_of(write(tmp_path, NUMERIC.replace("        10: 100\n", "        7: 100\n")))
    assert [(e.path, e.line) for e in errors] == [
        (("parties", 0, "ratings", "buffer", "7"), 13),
        (("parties", 0, "ratings", "buffer"), 10),
    ]
    assert "unknown option '7'" in errors[0].message
    assert errors[0].hint == "the options of 'buffer' are: 0 km, 5 km, 10 km"
    assert "option '10 km' not rated" in errors[1].message
