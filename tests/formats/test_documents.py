"""The one YAML/JSON reader: JSON read as JSON, one wording, every problem located.

:func:`~backchannel.formats.documents.parse_document` reads case files, conflict
files, ``.gmcr`` files and GeniusWeb JSON. The hostile documents (alias bombs, deep
nesting, long numbers) are tried through the CLI in ``test_document_bounds.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.errors import MAX_PLACE, CaseFileError, CaseFileErrors, format_location, shorten
from backchannel.formats.cases import load_case
from backchannel.formats.composer import MAX_DEPTH
from backchannel.formats.conflict_file import read_conflict_text
from backchannel.formats.documents import _yaml_events, _YamlParser, parse_document
from backchannel.formats.genius.folder import load_genius_folder


def problems(text: str, *, json_syntax: bool = False) -> list[CaseFileError]:
    with pytest.raises(CaseFileErrors) as info:
        parse_document(text, "f.yaml", json_syntax=json_syntax)
    return list(info.value.errors)


def what(error: CaseFileError) -> str:
    """What is wrong, without the file, line and path (cut when long) in front."""
    where = error.source if error.line is None else f"{error.source}:{error.line}"
    prefix = f"{where}: {shorten(format_location(error.path), MAX_PLACE)}: "
    assert error.message.startswith(prefix), error.message
    return error.message.removeprefix(prefix)


def one_problem(text: str, *, json_syntax: bool = False) -> CaseFileError:
    (error,) = problems(text, json_syntax=json_syntax)
    assert error.hint, f"no hint: {error}"
    assert str(error).startswith(f"f.yaml:{error.line}: ")
    return error


# ------------------------------------------------------------------ JSON as JSON

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(
    value=json_values,
    indent=st.sampled_from([None, 0, 1, "\t"]),
    ascii_only=st.booleans(),
)
def test_json_is_read_exactly_as_json_reads_it(value: Any, indent: Any, ascii_only: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    data, _ = parse_document(text, "f.json", json_syntax=True)
    assert data == json.loads(text)
    assert json.dumps(data) == json.dumps(json.loads(text))  # same types: 1 is not 1.0


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(), st.integers(), min_size=1, max_size=6))
def test_the_line_of_each_json_key_is_found(value: dict[str, int]) -> None:
    text = json.dumps(value, indent=1)
    _, locate = parse_document(text, "f.json", json_syntax=True)
    lines = text.splitlines()
    for key in value:
        line = locate((key,))
        assert line is not None
        assert lines[line - 1].startswith(f" {json.dumps(key)}: ")


def test_json_that_yaml_cannot_read_is_read() -> None:
    """Tabs, a colon on the next line, a key over 1024 characters, exponents, NaN."""
    long_key = "k" * 1100
    text = f'{{\n\t"a": 1e-1,\n\t"b"\n\t: [2E3, -0],\n\t"{long_key}": NaN\n}}'
    data, locate = parse_document(text, "f.json", json_syntax=True)
    assert data["a"] == 0.1 and data["b"] == [2000.0, 0]
    assert data[long_key] != data[long_key]  # NaN, as json reads it
    assert [locate(("a",)), locate(("b", 1)), locate((long_key,))] == [2, 4, 5]


def test_a_case_file_in_json_with_tabs_and_exponents_loads(tmp_path: Path) -> None:
    case = {
        "title": "t",
        "issues": [{"name": "a", "options": ["x", "y"]}],
        "parties": [
            {"name": "P", "weights": {"a": 1}, "ratings": {"a": {"x": 0, "y": 1e2}}},
            {"name": "Q", "weights": {"a": 1}, "ratings": {"a": {"x": 1e2, "y": 0}}},
        ],
    }
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case, indent="\t").replace("100.0", "1e2"), encoding="utf-8")
    loaded = load_case(path)
    assert loaded.parties[0].ratings["a"] == {"x": 0, "y": 100}


# ------------------------------------------------------------------ one wording


def test_syntax_errors_have_one_wording() -> None:
    yaml_error = one_problem("a: [1, 2\nb: 3\n")
    assert what(yaml_error).startswith("not valid YAML: ")
    json_error = one_problem('{"a": [1, 2,]}', json_syntax=True)
    assert what(json_error).startswith("not valid JSON: ")
    assert what(json_error).endswith("at column 13")
    assert (json_error.path, json_error.line) == ((), 1)


@pytest.mark.parametrize("json_syntax", [False, True])
def test_every_duplicate_key_is_listed_in_a_conflict_file(json_syntax: bool) -> None:
    data = {"title": "t", "decision_makers": [{"id": "A", "options": ["a"]}]}
    text = json.dumps(data, indent=1) if json_syntax else yaml.safe_dump(data, sort_keys=False)
    text = text.replace('"title": "t"', '"title": "t", "title": "u"')
    text = text.replace("title: t\n", "title: t\ntitle: u\n")
    text = text.replace('"id": "A"', '"id": "A", "id": "B"')
    text = text.replace("- id: A\n", "- id: A\n  id: B\n")
    with pytest.raises(CaseFileErrors) as info:
        read_conflict_text(text, "c.yaml", "json" if json_syntax else "yaml")
    assert [(e.path, what(e).split(" (first")[0]) for e in info.value.errors] == [
        (("title",), "duplicate key 'title'"),
        (("decision_makers", 0, "id"), "duplicate key 'id'"),
    ]


def test_a_geniusweb_file_with_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "gw"
    folder.mkdir()
    domain = '{"name": "d", "issuesValues": {"a": {"values": ["x", "y"]}}, "name": "e"}'
    (folder / "d.json").write_text(domain, encoding="utf-8")
    with pytest.raises(CaseFileErrors) as info:
        load_genius_folder(folder)
    (error,) = info.value.errors
    assert (error.source, error.path, error.line) == (str(folder / "d.json"), ("name",), 1)
    assert what(error) == "duplicate key 'name' (first on line 1)"


# ------------------------------------------------------------------ YAML values


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("2024-13-45", "'2024-13-45' is not a date (month must be in 1..12)"),
        ("!!int twelve", "'twelve' is not an integer"),
        ("!!float lots", "'lots' is not a number"),
        ("!!bool perhaps", "'perhaps' is not true or false"),
        ("!!timestamp soon", "'soon' is not a date"),
    ],
)
def test_a_value_that_is_not_what_its_tag_says_is_located(value: str, said: str) -> None:
    error = one_problem(f"a:\n  - 1\n  - {value}\n")
    assert (error.path, error.line, what(error)) == (("a", 1), 3, said)


def test_aliases_within_the_bound_are_shared_and_merged() -> None:
    text = "base: &b {x: 1, y: [1, 2]}\none: *b\ntwo:\n  <<: *b\n  x: 2\n"
    data, locate = parse_document(text, "f.yaml", json_syntax=False)
    assert data["one"] is data["base"]
    assert data["two"] == {"x": 2, "y": [1, 2]}
    assert locate(("two", "x")) == 5


@pytest.mark.parametrize(
    ("text", "path", "line", "said"),
    [
        ("a: *x\n", ("a",), 1, "alias *x has no anchor before it"),
        ("a: &x [1, *x]\n", ("a", 1), 1, "alias *x is inside the value it repeats"),
        ("a: &x 1\nb: &x 2\n", ("b",), 2, "anchor &x is defined twice"),
        ("a: 1\n---\nb: 2\n", (), 2, "a second document in the file"),
        ("a:\n  b: 1\n  c: 2\n  b: 3\n", ("a", "b"), 4, "duplicate key 'b' (first on line 2)"),
        ("a:\n  b: !!python/object:os.system x\n", ("a", "b"), 2, "unknown tag 'tag:yaml"),
        ("a: !custom [1]\n", ("a",), 1, "unknown tag '!custom'"),
        ("a: 1\n\t- b\n", (), 2, "not valid YAML: found character '\\t'"),
        ("a: '\uffff'\n", (), 1, "not valid YAML: character U+FFFF is not allowed"),
    ],
)
def test_yaml_problems_are_located(
    text: str, path: tuple[str | int, ...], line: int, said: str
) -> None:
    error = one_problem(text)
    assert (error.path, error.line) == (path, line)
    assert what(error).startswith(said), error.message


@pytest.mark.parametrize("json_syntax", [False, True])
def test_nesting_is_bounded_without_recursion(json_syntax: bool) -> None:
    inside = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)  # in a mapping: MAX_DEPTH levels
    data, _ = parse_document(f'{{"a": {inside}}}', "f", json_syntax=json_syntax)
    assert len(json.dumps(data)) == len(inside) + len('{"a": }')
    deeper = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    error = one_problem(f'{{\n"a": {deeper}}}', json_syntax=json_syntax)
    assert (error.line, error.path[:2]) == (2, ("a", 0))
    assert len(error.path) == MAX_DEPTH
    assert what(error) == f"lists and mappings nested more than {MAX_DEPTH} levels deep"


def _pure_events(text: str) -> list[tuple[object, ...]]:
    parser, events = _YamlParser(text), []
    while parser.check_event():
        events.append(_event_key(parser.get_event()))
    return events


def _event_key(event: yaml.Event) -> tuple[object, ...]:
    fields = ("value", "tag", "implicit", "anchor")
    # presentation only, unread by the composer: a plain scalar's style is "" in libyaml,
    # an indentless block sequence's flow_style False
    style = getattr(event, "style", None) or None, getattr(event, "flow_style", None) or None
    mark = event.start_mark
    return (type(event), *(getattr(event, f, None) for f in fields), style, mark.line, mark.column)


YAML_FILES = sorted(Path(__file__).resolve().parents[2].glob("examples/**/*.yaml"))


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda path: path.name)
def test_libyaml_gives_the_events_of_pyyamls_own_parser(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert yaml.__with_libyaml__  # else the fast path is not exercised
    assert [_event_key(e) for e in _yaml_events(text)] == _pure_events(text)


def _nested(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), _nested, max_leaves=8))
@settings(max_examples=50, deadline=None)
def test_libyaml_reads_any_dumped_document_as_pyyaml_does(value: Any) -> None:
    text = yaml.safe_dump(value, allow_unicode=True)
    assert [_event_key(e) for e in _yaml_events(text)] == _pure_events(text)
