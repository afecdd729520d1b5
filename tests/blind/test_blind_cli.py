"""``backchannel blind evaluate``: refusals exit 2 with the reason; findings as text or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backchannel.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jcpoa_2015.yaml"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["blind", "evaluate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_no_helper_is_refused_with_exit_2_and_the_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _run(capsys, str(EXAMPLE), "--helpers", "0")
    assert code == 2
    assert "at least one helper" in err and "threshold 0" in err


def test_an_agenda_too_large_for_nash_is_refused_before_any_process_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _run(capsys, str(EXAMPLE), "--finding", "nash")
    assert code == 2
    assert "would enumerate 196,830 packages" in err and "--finding overlap" in err


def test_a_missing_case_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, str(tmp_path / "none.yaml"))
    assert code == 2
    assert "none.yaml" in err and "Traceback" not in err


def test_overlap_as_json_names_every_issue(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(EXAMPLE), "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["finding"] == "overlap" and doc["helpers"] == 1
    assert doc["overlap"]["duration_years"] is False and doc["overlap"]["snapback"] is True
