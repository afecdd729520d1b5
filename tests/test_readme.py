"""The README's Python examples run as written, from the repository root."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """Every fenced ``python`` block of a Markdown text, with the line its code starts on."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in BLOCK.finditer(text)]


def test_the_readme_has_a_python_example() -> None:
    """Control: an example that lost its fence (or its language tag) would go unrun."""
    assert python_blocks(README.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("line", "code"),
    [
        pytest.param(*block, id=f"README.md:{block[0]}")
        for block in python_blocks(README.read_text(encoding="utf-8"))
    ],
)
def test_readme_python_example_runs(line: int, code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    exec(compile(code, f"{README}:{line}", "exec"), {"__name__": "__readme__"})


def test_python_blocks_are_found_with_their_line() -> None:
    text = "# t\n\n```python\nx = 1\n```\n\n```sh\nls\n```\n```python\ny = 2\nz = 3\n```\n"
    assert python_blocks(text) == [(4, "x = 1\n"), (11, "y = 2\nz = 3\n")]
