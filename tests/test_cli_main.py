"""The one catch-all of the CLI: anything a command did not mean to raise is one line.

A bug, or the machine running out of something, ends with exit code 1 and a line that
names it and points to ``--debug``; the traceback is shown only with that flag.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backchannel.cli import main
from backchannel.services import negotiation


def _broken() -> dict[str, object]:
    raise RuntimeError("the schema generator broke")


def test_an_unexpected_error_is_one_line_that_points_to_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(negotiation, "case_schema", _broken)
    assert main(["schema"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "internal error: RuntimeError: the schema generator broke "
        "(run again with --debug for the details)"
    ]


def test_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(negotiation, "case_schema", _broken)
    assert main(["--debug", "schema"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "in _broken" in err
    assert err.splitlines()[-1].startswith("internal error: RuntimeError:")
    assert main(["schema"]) == 1  # --debug lasts one run
    assert "Traceback" not in capsys.readouterr().err


def test_a_long_unexpected_message_is_cut_to_a_screen(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def verbose() -> dict[str, object]:
        raise ValueError("x" * 1_000_000)

    monkeypatch.setattr(negotiation, "case_schema", verbose)
    assert main(["schema"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert len(line) < 600
    assert "more characters)" in line


def test_the_console_script_prints_no_traceback(tmp_path: Path) -> None:
    """Through the real entry point, in a fresh process: exit 1, one line."""
    code = (
        "import sys\n"
        "from backchannel.services import negotiation\n"
        "def broken():\n"
        "    raise MemoryError()\n"
        "negotiation.case_schema = broken\n"
        "from backchannel.cli import entry_point\n"
        "sys.argv = ['backchannel', 'schema']\n"
        "entry_point()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "internal error: MemoryError (run again with --debug for the details)"
    ]
