"""Hostile paths through the CLI: what is read and what is written.

Reading: a FIFO given as the path used to block the command forever; a device or a
socket is no better. Every reader goes through :func:`backchannel.formats.files.read_bytes`,
which refuses them at once, and refuses a file above the size cap before reading it,
whatever the format.

Writing: ``convert``, ``conflict convert``, ``schema -o`` and ``conflict graph -o``
silently replaced an existing file. They now refuse to unless ``--force`` is given, and
never replace something that is not a regular file (a folder, a FIFO), even with it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from backchannel.cli import main
from backchannel.formats.files import MAX_FILE_BYTES
from backchannel.formats.genius.folder import MAX_FOLDER_FILES

CASE = """\
title: Two options
issues:
  - name: a
    options: [x, y]
parties:
  - name: P
    weights: {a: 1}
    ratings: {a: {x: 0, y: 100}}
  - name: Q
    weights: {a: 1}
    ratings: {a: {x: 100, y: 0}}
"""

CONFLICT = """\
title: Two options
decision_makers:
  - {id: A, options: [a]}
  - {id: B, options: [b]}
preferences:
  A:
    ranking: [YN, NN, YY, NY]
  B:
    ranking: [NY, NN, YY, YN]
"""

# every reader, by the command that uses it and the name of the file it reads
READERS = {
    "case YAML": (["check"], "case.yaml"),
    "case JSON": (["check"], "case.json"),
    "Genius XML file": (["check"], "domain.xml"),
    "conflict YAML": (["conflict", "analyze"], "conflict.yaml"),
    "conflict JSON": (["conflict", "analyze"], "conflict.json"),
    "GMCR+ file": (["conflict", "analyze"], "conflict.gmcr"),
}

# a command whose own process is run, so that a command that blocks cannot block the suite
RUN = """\
import sys
from backchannel.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )


@pytest.mark.parametrize("reader", list(READERS))
def test_a_fifo_is_refused_at_once(reader: str, tmp_path: Path) -> None:
    """A named pipe that nobody writes to: opening it to read used to block forever."""
    command, name = READERS[reader]
    path = tmp_path / name
    os.mkfifo(path)
    done = _run([*command, str(path)], tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"error: {path}: (top level): cannot read the file: it is a FIFO (named pipe) "
        "(give a regular file)"
    ]


@pytest.mark.parametrize("reader", ["case YAML", "conflict YAML", "GMCR+ file"])
def test_a_socket_is_refused(
    reader: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command, name = READERS[reader]
    path = tmp_path / name
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(path))
        assert main([*command, str(path)]) == 2
    assert "cannot read the file: it is a socket (give a regular file)" in capsys.readouterr().err


@pytest.mark.parametrize("reader", ["case YAML", "conflict JSON", "Genius XML file"])
def test_a_device_is_refused(
    reader: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``/dev/zero`` never ends: it used to be read up to the size cap, then parsed."""
    command, name = READERS[reader]
    path = tmp_path / name
    path.symlink_to("/dev/zero")
    assert main([*command, str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {path}: (top level): cannot read the file: it is a device (give a regular file)"
    ]


@pytest.mark.parametrize("reader", list(READERS))
def test_the_size_cap_holds_for_every_format(
    reader: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 300 MB file (sparse: it takes no disk) is refused before it is read."""
    command, name = READERS[reader]
    path = tmp_path / name
    with path.open("wb") as out:
        out.truncate(300 * 1024 * 1024)
    assert main([*command, str(path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        f"error: {path}: (top level): cannot read the file: it is larger than "
        f"{MAX_FILE_BYTES:,} bytes (give a smaller file)"
    )


def test_the_size_cap_holds_for_a_genius_folder_as_a_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two files of 11 MiB each: each under the cap, together above it."""
    folder = tmp_path / "domain"
    folder.mkdir()
    for name in ("a.xml", "b.xml"):
        with (folder / name).open("wb") as out:
            out.truncate(11 * 1024 * 1024)
    assert main(["check", str(folder)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {folder}: its files hold 23,068,672 bytes, more than {MAX_FILE_BYTES:,} "
        "(give the folder that holds only the domain, its profiles and a frontier)"
    ]


def test_a_genius_folder_of_too_many_files_is_refused_before_any_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "domain"
    folder.mkdir()
    for k in range(MAX_FOLDER_FILES + 1):
        (folder / f"{k}.xml").write_bytes(b"<")
    assert main(["check", str(folder)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {folder}: 1,001 files, more than {MAX_FOLDER_FILES:,} "
        "(give the folder that holds only the domain, its profiles and a frontier)"
    ]


# ------------------------------------------------------------------------ writing
def _sources(tmp_path: Path) -> tuple[Path, Path]:
    case, conflict = tmp_path / "case.yaml", tmp_path / "conflict.yaml"
    case.write_text(CASE, encoding="utf-8")
    conflict.write_text(CONFLICT, encoding="utf-8")
    return case, conflict


# command: (arguments, with OUT for the output file; its name)
WRITERS = {
    "convert": (["convert", "{case}", "{out}"], "out.json"),
    "conflict convert": (["conflict", "convert", "{conflict}", "{out}"], "out.gmcr"),
    "schema -o": (["schema", "-o", "{out}"], "schema.json"),
    "conflict graph -o": (["conflict", "graph", "{conflict}", "-o", "{out}"], "graph.svg"),
}


def _argv(writer: str, tmp_path: Path, out: Path) -> list[str]:
    case, conflict = _sources(tmp_path)
    template, _ = WRITERS[writer]
    return [arg.format(case=case, conflict=conflict, out=out) for arg in template]


@pytest.mark.parametrize("writer", list(WRITERS))
def test_an_existing_file_is_replaced_only_with_force(
    writer: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / WRITERS[writer][1]
    out.write_text("precious\n", encoding="utf-8")
    argv = _argv(writer, tmp_path, out)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"error: {out}: the file exists (add --force to replace it, or give a new name)"
    ]
    assert out.read_text(encoding="utf-8") == "precious\n"
    assert main([*argv, "--force"]) == 0
    assert out.read_text(encoding="utf-8") != "precious\n"
    assert f"wrote {out}" in capsys.readouterr().out


@pytest.mark.parametrize("writer", list(WRITERS))
def test_what_is_not_a_regular_file_is_never_replaced(
    writer: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not a folder named like the output, nor a FIFO, even with ``--force``.

    (``convert`` writes Genius XML into an empty folder, whatever its name.)
    """
    folder = tmp_path / WRITERS[writer][1]
    if writer != "convert":
        folder.mkdir()
        assert main([*_argv(writer, tmp_path, folder), "--force"]) == 2
        assert "a folder, not a file" in capsys.readouterr().err
        assert folder.is_dir()
    pipe = tmp_path / f"pipe{folder.suffix}"
    os.mkfifo(pipe)
    assert main([*_argv(writer, tmp_path, pipe), "--force"]) == 2
    assert f"error: {pipe}: it is a FIFO (named pipe), not a file" in capsys.readouterr().err
    assert pipe.is_fifo()


def test_schema_to_an_unwritable_place_is_an_input_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["schema", "-o", "/proc/x.json"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: /proc/x.json: cannot write the file (No such file or directory)"
    ]


def test_a_new_file_needs_no_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "schema.json"
    assert main(["schema", "-o", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["title"] == "Case"
    assert capsys.readouterr().out == f"wrote {out}\n"
