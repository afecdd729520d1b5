"""States printed many at once equal the states printed one at a time.

The vectorised printer (:mod:`backchannel.conflict.state_text`) and the streamed
``conflict analyze --json`` document are compared with the per-state
``CompiledConflict.state_string`` and with ``json.dumps`` of the document built state by
state, as the command built it before, on random small conflicts; the bitmap container
read back with NumPy equals the JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backchannel.cli import main
from backchannel.conflict import state_text
from backchannel.conflict.analysis import analyze, analyze_uncertain
from backchannel.conflict.bitmaps import BITMAP_VERSION, analysis_bitmaps, unpack
from backchannel.conflict.compiled_conflict import CompiledConflict
from backchannel.conflict.reports import StabilityReport
from backchannel.conflict.state_text import StateList, state_strings
from backchannel.formats.json_stream import json_chunks
from backchannel.services.conflict import Analysis, analysis_doc
from tests.conflict.strategies import conflicts

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conflicts"
CONCEPTS = ("nash", "gmr", "smr", "seq")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _one_by_one(conflict: CompiledConflict, indices: Any) -> list[str]:
    return [conflict.state_string(int(i)) for i in indices]


def _reference_stability(report: StabilityReport) -> dict[str, Any]:
    """The stability part of the document as it was built before: state by state."""
    conflict = report.conflict
    return {
        "stable": {
            concept: {
                mover: _one_by_one(conflict, np.flatnonzero(report.stable[concept][i]))
                for i, mover in enumerate(report.movers)
            }
            for concept in report.concepts
        },
        "equilibria": {
            concept: _one_by_one(conflict, report.equilibria[concept])
            for concept in report.concepts
        },
    }


@SETTINGS
@given(conflicts(max_options=9), st.data())
def test_state_strings_equal_state_string(conflict: CompiledConflict, data: st.DataObject) -> None:
    picked = data.draw(st.lists(st.integers(0, conflict.n_states - 1), max_size=20))
    assert state_strings(conflict, picked) == _one_by_one(conflict, picked)
    assert list(StateList.every(conflict)) == _one_by_one(conflict, range(conflict.n_states))


@SETTINGS
@given(conflicts(max_options=9), st.data(), st.integers(0, 3), st.integers(1, 5))
def test_a_state_list_prints_as_json_dumps_prints_the_strings(
    conflict: CompiledConflict,
    data: st.DataObject,
    level: int,
    block: int,
) -> None:
    """As a mask and as indices, in blocks of 1 to 5 states, at any depth."""
    with patch.object(state_text, "BLOCK", block):
        _check_state_list(conflict, data, level)


def _check_state_list(conflict: CompiledConflict, data: st.DataObject, level: int) -> None:
    n = conflict.n_states
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=np.bool_)
    for selection in (mask, np.flatnonzero(mask).astype(np.int64)):
        listed = StateList(conflict, selection)
        strings = _one_by_one(conflict, np.flatnonzero(mask))
        assert len(listed) == len(strings)
        doc: Any = listed
        plain: Any = strings
        for _ in range(level):
            doc, plain = {"k": doc}, {"k": plain}
        assert "".join(json_chunks(doc)) == json.dumps(plain, indent=2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conflicts(max_options=6, uncertainty=True, max_unranked=2))
def test_the_streamed_document_equals_the_state_by_state_one(conflict: CompiledConflict) -> None:
    report = analyze(conflict, CONCEPTS)
    uncertain = None
    if any(pairs is not None and len(pairs) for pairs in conflict.unranked):
        uncertain = analyze_uncertain(conflict, CONCEPTS)
    names = {0: "first", conflict.n_states - 1: "last"}
    expected: dict[str, Any] = {
        "options": list(conflict.option_ids),
        "states": _one_by_one(conflict, range(conflict.n_states)),
        **_reference_stability(report),
        "movers": list(report.movers),
        "status_quo": None
        if conflict.status_quo is None
        else conflict.state_string(conflict.status_quo),
        "state_names": {conflict.state_string(i): name for i, name in sorted(names.items())},
    }
    if uncertain is not None:
        expected["uncertainty"] = {
            "robust": _reference_stability(uncertain.robust),
            "possible": _reference_stability(uncertain.possible),
        }
    doc = analysis_doc(Analysis(conflict, report, uncertain, names))
    assert "".join(json_chunks(doc)) == json.dumps(expected, indent=2)


@SETTINGS
@given(conflicts(max_options=9))
def test_bitmaps_unpack_to_the_stable_states(conflict: CompiledConflict) -> None:
    report = analyze(conflict, ("nash", "gmr"))
    arrays = analysis_bitmaps(conflict, report, None, {})
    assert int(arrays["version"][0]) == BITMAP_VERSION
    assert arrays["states"].tolist() == conflict.states.tolist()
    for concept in report.concepts:
        bits = arrays[f"stable.{concept}"]
        assert bits.shape == (len(report.movers), (conflict.n_states + 7) // 8)
        assert (unpack(bits, conflict.n_states) == report.stable[concept]).all()
        equilibria = unpack(arrays[f"equilibria.{concept}"], conflict.n_states)
        assert np.flatnonzero(equilibria).tolist() == report.equilibria[concept].tolist()


def _from_bitmaps(path: Path) -> dict[str, Any]:
    """The JSON document's lists of states, rebuilt from a bitmap container as a user
    would (docs/reference/bitmap.md): NumPy alone, no Backchannel code."""
    with np.load(path, allow_pickle=False) as found:
        arrays = {name: found[name] for name in found.files}
    options = [str(o) for o in arrays["options"]]
    codes = arrays["states"]
    states = [
        "".join("Y" if int(code) >> j & 1 else "N" for j in range(len(options))) for code in codes
    ]
    n = len(states)

    def listed(bits: np.ndarray) -> list[str]:
        mask = np.unpackbits(bits, count=n, bitorder="little").astype(bool)
        return [states[i] for i in np.flatnonzero(mask)]

    def reading(prefix: str) -> dict[str, Any]:
        concepts = [str(c) for c in arrays["concepts"]]
        movers = [str(m) for m in arrays["movers"]]
        return {
            "stable": {
                c: {m: listed(arrays[f"{prefix}stable.{c}"][k]) for k, m in enumerate(movers)}
                for c in concepts
            },
            "equilibria": {c: listed(arrays[f"{prefix}equilibria.{c}"]) for c in concepts},
        }

    doc: dict[str, Any] = {
        "options": options,
        "states": states,
        **reading(""),
        "movers": [str(m) for m in arrays["movers"]],
    }
    sq = arrays["status_quo"]
    doc["status_quo"] = states[int(sq[0])] if sq.size else None
    doc["state_names"] = {
        states[int(i)]: str(name)
        for i, name in zip(arrays["state_names.index"], arrays["state_names.name"], strict=True)
    }
    if any(name.startswith("robust.") for name in arrays):
        doc["uncertainty"] = {"robust": reading("robust."), "possible": reading("possible.")}
    return doc


UNCERTAIN = """\
title: Unranked pair
decision_makers:
  - {id: A, options: [a]}
  - {id: B, options: [b]}
preferences:
  A:
    ranking: [YN, NN, YY, NY]
    unranked: [[NN, YN]]
  B:
    ranking: [NY, NN, YY, YN]
status_quo: NN
"""


@pytest.mark.parametrize("name", ["elmira.yaml", "cuban_missile_crisis.yaml", "uncertain"])
def test_the_bitmap_file_read_back_equals_the_json(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "uncertain.yaml"
    source.write_text(UNCERTAIN, encoding="utf-8")
    path = source if name == "uncertain" else EXAMPLES / name
    concepts = ["--concepts", "nash,gmr,smr,seq"]
    assert main(["conflict", "analyze", str(path), *concepts, "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    out = tmp_path / "result.npz"
    assert main(["conflict", "analyze", str(path), *concepts, "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"wrote {out} ({len(expected['states'])} states, ")
    assert _from_bitmaps(out) == expected
    assert ("uncertainty" in expected) == (name == "uncertain")


def test_bitmap_output_is_refused_beside_json_or_over_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elmira = str(EXAMPLES / "elmira.yaml")
    out = tmp_path / "r.npz"
    assert main(["conflict", "analyze", elmira, "--json", "-o", str(out)]) == 2
    assert "--json and --output" in capsys.readouterr().err
    assert not out.exists()
    assert main(["conflict", "analyze", elmira, "-o", str(tmp_path / "r.json")]) == 2
    assert ".npz" in capsys.readouterr().err
    out.write_bytes(b"keep")
    assert main(["conflict", "analyze", elmira, "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_bytes() == b"keep"
    assert main(["conflict", "analyze", elmira, "-o", str(out), "--force"]) == 0
    assert out.read_bytes()[:2] == b"PK"
