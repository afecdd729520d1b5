"""A key path that is a folder (or a FIFO): exit 2 and a clear message, never a traceback.

``BACKCHANNEL_KEY_FILE`` naming a folder used to give ``keys init`` a misleading "already
exists", ``keys init --if-missing`` a silent success, ``db upgrade`` a chmod hint and
``serve`` an ``IsADirectoryError`` traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backchannel.cli import main

COMMANDS = {
    "keys init": ["keys", "init"],
    "keys init --if-missing": ["keys", "init", "--if-missing"],
    "db upgrade": ["db", "upgrade"],
    "serve": ["serve"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_key_path_that_is_a_folder_is_refused(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = f"sqlite:///{tmp_path / 'bc.db'}"
    if command == "serve":  # a database that is up to date, made with a real key
        key = tmp_path / "real.key"
        assert main(["keys", "init", "--key-file", str(key)]) == 0
        assert main(["db", "upgrade", "--database", database, "--key-file", str(key)]) == 0
        capsys.readouterr()
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("BACKCHANNEL_KEY_FILE", str(folder))
    monkeypatch.setenv("BACKCHANNEL_DATABASE_URL", database)
    assert main(COMMANDS[command]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"error: key file {folder} is a folder (give the path of the key file itself, e.g. kek.key)"
    ]
    assert list(folder.iterdir()) == []


def test_a_key_path_that_is_a_fifo_is_refused_without_blocking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = tmp_path / "kek.key"
    os.mkfifo(pipe, 0o600)
    database = f"sqlite:///{tmp_path / 'bc.db'}"
    assert main(["db", "upgrade", "--database", database, "--key-file", str(pipe)]) == 2
    assert f"key file {pipe} is not a regular file" in capsys.readouterr().err
