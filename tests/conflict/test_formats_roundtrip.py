"""File formats: YAML, JSON and GMCR+ .gmcr, read and written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from backchannel.conflict.compile import compile_conflict
from backchannel.conflict.compiled_conflict import CompiledConflict
from backchannel.conflict.decompile import conflict_to_model
from backchannel.errors import CaseFileError, CaseFileErrors
from backchannel.formats.conflict_file import conflict_from_data, read_conflict_text
from backchannel.services.conflict import load_conflict, load_conflict_model, save_conflict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conflicts"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def assert_same(a: CompiledConflict, b: CompiledConflict) -> None:
    assert (a.title, a.option_ids, a.dm_ids, a.dm_options) == (
        b.title,
        b.option_ids,
        b.dm_ids,
        b.dm_options,
    )
    assert np.array_equal(a.states, b.states)
    assert np.array_equal(a.payoffs, b.payoffs)
    assert a.reversibility == b.reversibility
    assert a.status_quo == b.status_quo
    assert a.coalitions == b.coalitions
    for x, y in zip(a.misperceived, b.misperceived, strict=True):
        assert (x is None and y is None) or np.array_equal(x, y)  # type: ignore[arg-type]
    for x, y in zip(a.unranked, b.unranked, strict=True):
        assert (x is None and y is None) or np.array_equal(x, y)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_yaml_to_gmcr_to_yaml_keeps_the_conflict(path: Path, tmp_path: Path) -> None:
    original = load_conflict(path)
    gmcr = tmp_path / "conflict.gmcr"
    save_conflict(load_conflict_model(path), gmcr)
    assert_same(load_conflict(gmcr), original)
    back = tmp_path / "conflict.yaml"
    save_conflict(load_conflict_model(gmcr), back)
    assert_same(load_conflict(back), original)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_json_round_trip(path: Path, tmp_path: Path) -> None:
    target = tmp_path / "conflict.json"
    save_conflict(load_conflict_model(path), target)
    json.loads(target.read_text())
    assert_same(load_conflict(target), load_conflict(path))


@pytest.mark.parametrize("name", ["elmira", "cuban_missile_crisis", "prisoners_dilemma"])
def test_a_compiled_conflict_can_be_saved(name: str, tmp_path: Path) -> None:
    original = load_conflict(EXAMPLES / f"{name}.yaml")
    for suffix in (".yaml", ".gmcr"):
        target = tmp_path / f"c{suffix}"
        save_conflict(original, target)
        assert_same(load_conflict(target), original)
    model = conflict_to_model(original)
    assert all(spec.ranking is not None for spec in model.preferences.values())


MIXED = """\
title: Mixed preferences
decision_makers:
  - {id: A, options: [a1, a2]}
  - {id: B, options: [b1]}
options: [a1, {id: b1, reversibility: backward_only}, a2]
infeasible:
  - {a1: true, a2: true}
preferences:
  A:
    statements: ["a1 | b1", "-a2 iff b1", "a2 if -a1 & -b1"]
    unranked: [[NNN, YNN]]
  B:
    ranking: [[YYN, NYN], [NNN, YNN, NYY], NNY]
status_quo: NNN
coalitions: [[A, B]]
misperceived:
  B: [Y--]
"""


def test_mixed_preferences_and_ungrouped_options_survive_gmcr(tmp_path: Path) -> None:
    source = tmp_path / "mixed.yaml"
    source.write_text(MIXED)
    original = load_conflict(source)
    gmcr = tmp_path / "mixed.gmcr"
    save_conflict(load_conflict_model(source), gmcr)
    data = json.loads(gmcr.read_text())
    assert data["useManualPreferenceRanking"] is True
    assert [o["name"] for o in data["options"]] == ["a1", "a2", "b1"]  # grouped per DM
    assert data["options"][2]["permittedDirection"] == "back"
    assert data["coalitions"] == [[0, 1]]
    back = load_conflict(gmcr)
    # options come back grouped per decision maker: same conflict up to that order
    assert back.option_ids == ("a1", "a2", "b1")
    perm = [original.option_ids.index(o) for o in back.option_ids]

    def regroup(text: str) -> str:
        return "".join(text[j] for j in perm)

    for i in range(original.n_states):
        j = back.state_index(regroup(original.state_string(i)))
        assert j is not None
        assert list(back.payoffs[:, j]) == list(original.payoffs[:, i])
    assert back.status_quo == back.state_index("NNN")
    assert back.unranked[0] is not None


def _gmcr(ranking: bool) -> dict[str, object]:
    """A hand-written GMCR+ file of the Prisoner's Dilemma."""
    a_prefs = [{"compound": True, "members": [[[1, "N"]]]}, [[0, "Y"]]]
    b_prefs = [[[0, "N"]], [[1, "Y"]]]
    dms: list[dict[str, object]] = [
        {"name": "Prisoner A", "options": [0], "preferences": a_prefs},
        {"name": "Prisoner B", "options": [1], "preferences": b_prefs},
    ]
    if ranking:
        # ordered state numbers: 1 = NN, 2 = YN, 3 = NY, 4 = YY (rank of the decimal)
        dms[0]["preferenceRanking"] = [2, 1, 4, 3]
        dms[1]["preferenceRanking"] = [3, 1, 4, 2]
    return {
        "options": [
            {"name": "A defects", "permittedDirection": "both"},
            {"name": "B defects", "permittedDirection": "both"},
        ],
        "decisionMakers": dms,
        "infeasibles": [],
        "useManualPreferenceRanking": ranking,
        "program": "gmcr-py",
        "version": "0.3.6",
    }


def test_reading_a_gmcr_file_with_ordered_state_numbers(tmp_path: Path) -> None:
    path = tmp_path / "pd.gmcr"
    path.write_text(json.dumps(_gmcr(ranking=True)))
    conflict = load_conflict(path)
    assert conflict.option_ids == ("a_defects", "b_defects")
    assert conflict.dm_ids == ("Prisoner A", "Prisoner B")
    example = load_conflict(EXAMPLES / "prisoners_dilemma.yaml")
    assert np.array_equal(conflict.payoffs, example.payoffs)


def test_reading_gmcr_statements_and_compounds(tmp_path: Path) -> None:
    path = tmp_path / "pd.gmcr"
    path.write_text(json.dumps(_gmcr(ranking=False)))
    model = load_conflict_model(path)
    assert model.preferences["Prisoner A"].statements == ["-b_defects", "a_defects"]
    conflict = compile_conflict(model, str(path))
    example = load_conflict(EXAMPLES / "prisoners_dilemma.yaml")
    assert np.array_equal(conflict.payoffs, example.payoffs)


def test_statements_are_written_as_gmcr_conditions(tmp_path: Path) -> None:
    model = read_conflict_text(
        MIXED.replace("    ranking: [[YYN, NYN], [NNN, YNN, NYY], NNY]", '    statements: ["b1"]'),
        "m.yaml",
    )
    path = tmp_path / "m.gmcr"
    save_conflict(model, path)
    data = json.loads(path.read_text())
    assert data["useManualPreferenceRanking"] is False
    prefs = data["decisionMakers"][0]["preferences"]
    # gmcr order: a1=0, a2=1, b1=2; "a1 | b1" is a compound of two conditions
    assert prefs[0] == {"compound": True, "members": [[[0, "Y"]], [[2, "Y"]]]}
    assert data["infeasibles"] == [[[0, "Y"], [1, "Y"]]]


def test_a_model_is_checked_before_it_is_saved(tmp_path: Path) -> None:
    # B's ranking misses YNN (line 13 of the text, in "in.yaml").
    text = MIXED.replace("[[YYN, NYN], [NNN, YNN, NYY], NNY]", "[[YYN, NYN], [NNN, NYY], NNY]")
    model = read_conflict_text(text, "in.yaml")
    for suffix in (".yaml", ".json", ".gmcr"):
        target = tmp_path / f"out{suffix}"
        with pytest.raises(CaseFileError) as info:
            save_conflict(model, target, source="in.yaml")
        assert (info.value.source, info.value.line) == ("in.yaml", 13)
        assert info.value.path == ("preferences", "B", "ranking")
        assert "misses 1 feasible state(s): YNN" in info.value.message
        assert not target.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d.pop("options"), "expected list under 'options'"),
        (lambda d: d["decisionMakers"][0].update(options=[7]), "bad option index 7"),
        (lambda d: d.update(infeasibles=[[[0, "X"]]]), "expected [option index, 'Y' or 'N']"),
        (lambda d: d["options"][0].update(permittedDirection="up"), "unknown direction 'up'"),
        (
            lambda d: d["decisionMakers"][0].update(preferenceRanking=[9]),
            "state number 9 is not 1..4",
        ),
    ],
)
def test_bad_gmcr_files_are_reported(mutate, fragment: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = _gmcr(ranking=True)
    mutate(data)
    path = tmp_path / "bad.gmcr"
    path.write_text(json.dumps(data))
    with pytest.raises(CaseFileError) as info:
        load_conflict(path)
    assert fragment in info.value.message


def test_gmcr_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.gmcr"
    path.write_text("{not json")
    with pytest.raises(CaseFileErrors, match="not valid JSON") as info:
        load_conflict(path)
    assert info.value.errors[0].line == 1


def test_yaml_written_keeps_comments_out_but_keys_in(tmp_path: Path) -> None:
    model = load_conflict_model(EXAMPLES / "cuban_missile_crisis.yaml")
    target = tmp_path / "out.yaml"
    save_conflict(model, target)
    again = read_conflict_text(target.read_text(), "out.yaml")
    assert again == model
    assert conflict_from_data(again.model_dump(), "x") == model
