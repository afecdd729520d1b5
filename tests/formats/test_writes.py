"""The one atomic writer: a file is replaced whole or not at all; an export that fails
leaves no file behind."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backchannel.errors import InputError
from backchannel.formats import files
from backchannel.formats.cases import save_case
from backchannel.formats.genius.export import export_genius
from backchannel.model.case import (
    Case,
    Condition,
    Issue,
    Party,
    Rectangle,
    RectangleUtilitySpec,
)

CASE = Case(
    title="Three parties",
    issues=[Issue(name="a", options=["x", "y"]), Issue(name="b", options=["p", "q"])],
    parties=[
        Party(
            name=name,
            weights={"a": 50, "b": 50},
            ratings={"a": {"x": x, "y": 100 - x}, "b": {"p": 100 - x, "q": x}},
        )
        for name, x in (("P", 0), ("Q", 100), ("R", 50))
    ],
)


def _failing_on(call: int, real: Callable[..., Any]) -> Callable[..., Any]:
    """``real``, except that its ``call``-th call raises ``OSError`` (disk full)."""
    calls = {"n": 0}

    def fake(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == call:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    return fake


def test_a_genius_export_is_written_whole(tmp_path: Path) -> None:
    written = export_genius(CASE, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in written)
    assert len(written) == 4


@pytest.mark.parametrize("step", ["fsync", "replace"])
@pytest.mark.parametrize("existing", [False, True])
def test_a_genius_export_that_fails_part_way_leaves_no_file(
    step: str, existing: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The third file cannot be written (or renamed): the two before it are gone too."""
    folder = tmp_path / "out"
    if existing:
        folder.mkdir()
    monkeypatch.setattr(files.os, step, _failing_on(3, getattr(os, step)))
    with pytest.raises(InputError, match=r"cannot write the file \(No space left on device\)"):
        export_genius(CASE, folder)
    if existing:
        assert list(folder.iterdir()) == []
    else:
        assert not folder.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["out"] if existing else [])


def test_a_genius_export_refused_late_writes_nothing(tmp_path: Path) -> None:
    """A rectangle utility that Genius cannot hold is found before any file is written."""
    case = Case(
        title="r",
        issues=[Issue(name="a", options=["x", "y"])],
        parties=[
            Party(name="first", weights={"a": 1}, ratings={"a": {"x": 0, "y": 100}}),
            Party(
                name="second",
                utility=RectangleUtilitySpec(
                    max_value=1,
                    rectangles=[
                        Rectangle(value=1, conditions=[Condition(issue="a", options=["x"])])
                    ],
                ),
            ),
        ],
    )
    with pytest.raises(InputError, match="not a range of an integer issue"):
        export_genius(case, tmp_path / "r")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("name", ["case.yaml", "case.json"])
def test_a_case_file_is_replaced_whole_or_not_at_all(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / name
    target.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(files.os, "fsync", _failing_on(1, os.fsync))
    with pytest.raises(InputError, match="cannot write the file"):
        save_case(CASE, target, replace=True)
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left
    monkeypatch.undo()
    assert save_case(CASE, target, replace=True) == [target]
    assert "Three parties" in target.read_text(encoding="utf-8")


def test_writing_into_a_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write the file"):
        files.write_atomically(tmp_path / "nowhere" / "x.txt", "x")
