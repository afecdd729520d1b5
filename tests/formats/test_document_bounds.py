"""Hostile YAML and JSON through the CLI: alias bombs, deep nesting, huge numbers, duplicates.

Every command that reads a case or conflict file parses it with the one reader
(:mod:`backchannel.formats.documents`), so each attack gets the same answer whatever
the format and the command: exit 2 and one located line, quickly, in little memory,
never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from backchannel.cli import main

from .samples import TWO_OPTIONS_CASE

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


def _base(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A valid file of one kind: case or conflict, YAML or JSON, or ``.gmcr``."""
    if kind == "gmcr":
        source, target = tmp_path / "made.yaml", tmp_path / "made.gmcr"
        source.write_text(CONFLICT, encoding="utf-8")
        assert main(["conflict", "convert", str(source), str(target)]) == 0
        capsys.readouterr()
        return target.read_text(encoding="utf-8")
    text = TWO_OPTIONS_CASE if kind.startswith("case") else CONFLICT
    return json.dumps(yaml.safe_load(text), indent=1) if kind.endswith("json") else text


def _with_key(base: str, key: str, value: str, *, json_syntax: bool) -> tuple[str, int]:
    """``base`` with one more top-level ``key: value`` (raw text); and the line of the key."""
    if json_syntax:
        head = base.rstrip().removesuffix("}").rstrip() + ",\n"
        return f'{head}"{key}": {value}\n}}\n', head.count("\n") + 1
    return f"{base}{key}: {value}\n", base.count("\n") + 1


# command: (kind of file, suffix, arguments before the file, output files after it)
COMMANDS = {
    "check case YAML": ("case yaml", ".yaml", ["check"], []),
    "check case JSON": ("case json", ".json", ["check"], []),
    "convert case YAML": ("case yaml", ".yaml", ["convert"], ["out.json"]),
    "analyze conflict YAML": ("conflict yaml", ".yaml", ["conflict", "analyze"], []),
    "analyze conflict JSON": ("conflict json", ".json", ["conflict", "analyze"], []),
    "analyze .gmcr": ("gmcr", ".gmcr", ["conflict", "analyze"], []),
    "convert conflict YAML": ("conflict yaml", ".yaml", ["conflict", "convert"], ["out.json"]),
}

# attack: (key, value, what the message says)
ATTACKS = {
    "nesting 50,000 deep": ("extra", "[" * 50_000 + "]" * 50_000, "nested more than 100 levels"),
    "an integer of 5,000 digits": ("extra", "1" * 5_000, "a number of 5000 characters"),
    "a duplicate key": ("title", '"again"', "duplicate key '{key}' (first on line"),
}


def _write(
    command: str, attack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, list[str], int, str]:
    """The hostile file, the command line that reads it, the line of the attack and the
    message expected."""
    kind, suffix, before, after = COMMANDS[command]
    key, value, _ = ATTACKS[attack]
    text = _base(kind, tmp_path, capsys)
    if suffix == ".gmcr" and key == "title":
        key = "program"  # the first key of every .gmcr file
    json_syntax = suffix != ".yaml"
    text, line = _with_key(text, key, value, json_syntax=json_syntax)
    path = tmp_path / f"hostile{suffix}"
    path.write_text(text, encoding="utf-8")
    argv = [*before, str(path), *(str(tmp_path / name) for name in after)]
    return path, argv, line, ATTACKS[attack][2].format(key=key)


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_refuses_a_hostile_document_with_one_located_line(
    command: str, attack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, argv, line, said = _write(command, attack, tmp_path, capsys)
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert "Traceback" not in captured.err
    (error,) = captured.err.splitlines()
    assert error.startswith(f"error: {path}:{line}: "), error
    assert said in error
    assert error.endswith(")"), f"no hint: {error}"
    assert not (tmp_path / "out.json").exists()


def _bomb(indent: str) -> str:
    """Nine levels of aliases, each repeating the one before nine times: 9**9 strings."""
    lines = [f"{indent}l0: &l0 [{', '.join(['lol'] * 9)}]"]
    lines += [f"{indent}l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * 9)}]" for k in range(1, 9)]
    return "\n" + "\n".join(lines)


# The peak resident memory of this process image: VmHWM, not ru_maxrss, which keeps the
# peak of the pytest process that forked it.
MEASURED = """\
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from backchannel.cli import main
code = main(sys.argv[1:])
peak = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
sys.stderr.write(f"peak {peak}\\n")
sys.exit(code)
"""

BOMBS = {
    "check, bomb in metadata": (TWO_OPTIONS_CASE, "metadata", ["check"], []),
    "check, bomb in a description": (TWO_OPTIONS_CASE, "description", ["check"], []),
    "convert, bomb in metadata": (TWO_OPTIONS_CASE, "metadata", ["convert"], ["out.json"]),
    "conflict analyze": (CONFLICT, "description", ["conflict", "analyze"], []),
    "conflict convert": (CONFLICT, "description", ["conflict", "convert"], ["out.json"]),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_an_alias_bomb_is_refused_quickly_in_little_memory(name: str, tmp_path: Path) -> None:
    """Before the one reader bounded aliases, these ran to 2.3-6.8 GB (or forever)."""
    base, key, before, after = BOMBS[name]
    path = tmp_path / "bomb.yaml"
    path.write_text(f"{base}{key}:{_bomb('  ')}\n", encoding="utf-8")
    argv = [*before, str(path), *(str(tmp_path / out) for out in after)]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    *said, peak = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr[-2000:]
    (error,) = said
    assert error.startswith(f"error: {path}:")
    assert f": {key}.l" in error
    assert "aliases repeat more than 100,000 values" in error
    assert int(peak.removeprefix("peak ")) < 300 * 1024, peak  # KiB; about 120 MiB idle
    assert not (tmp_path / "out.json").exists()
