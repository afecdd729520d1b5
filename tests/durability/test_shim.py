"""The power-cut shim's model, on small files (no server): what survives a cut.

A child process under the shim writes, syncs or not, and creates, renames or unlinks
names with or without syncing the folder; after the cut the folder must hold exactly
what a disk that honours fsync would hold.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import powercut

CHILD = """
import os, sys
folder = sys.argv[1]
def sync_folder():
    fd = os.open(folder, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
for step in sys.argv[2:]:
    verb, _, rest = step.partition(":")
    if verb == "write":  # write:NAME:TEXT appends
        name, _, text = rest.partition(":")
        fd = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.write(fd, text.encode())
        os.close(fd)
    elif verb == "pwrite":  # pwrite:NAME:OFFSET:TEXT
        name, offset, text = rest.split(":")
        fd = os.open(os.path.join(folder, name), os.O_WRONLY)
        os.pwrite(fd, text.encode(), int(offset))
        os.close(fd)
    elif verb == "truncate":  # truncate:NAME:SIZE
        name, size = rest.split(":")
        fd = os.open(os.path.join(folder, name), os.O_WRONLY)
        os.ftruncate(fd, int(size))
        os.close(fd)
    elif verb == "fsync":
        fd = os.open(os.path.join(folder, rest), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    elif verb == "fdatasync":
        fd = os.open(os.path.join(folder, rest), os.O_RDONLY)
        os.fdatasync(fd)
        os.close(fd)
    elif verb == "syncdir":
        sync_folder()
    elif verb == "unlink":
        os.unlink(os.path.join(folder, rest))
    elif verb == "rename":
        old, new = rest.split(":")
        os.rename(os.path.join(folder, old), os.path.join(folder, new))
"""


def after_cut(
    shim: Path, tmp_path: Path, before: dict[str, bytes], *steps: str
) -> dict[str, bytes]:
    """Files ``before``, the child's ``steps`` under the shim, a cut: what is left."""
    folder = tmp_path / "watched"
    folder.mkdir(mode=0o700)
    for name, data in before.items():
        (folder / name).write_bytes(data)
    shadow = powercut.start_shadow(folder, tmp_path / "shadow")
    env = powercut.shim_environment(shim, shadow)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(shadow.watched), *steps],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    powercut.restore_view(shadow)
    assert shadow.violations() == []
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_writes_since_the_last_fsync_are_lost(shim: Path, tmp_path: Path) -> None:
    found = after_cut(
        shim, tmp_path, {"f": b"old"}, "write:f:-synced", "fsync:f", "write:f:-unsynced"
    )
    assert found == {"f": b"old-synced"}


def test_fdatasync_counts_and_positioned_writes_are_tracked(shim: Path, tmp_path: Path) -> None:
    found = after_cut(
        shim, tmp_path, {"f": b"0123456789"}, "pwrite:f:2:ab", "fdatasync:f", "pwrite:f:6:XY"
    )
    assert found == {"f": b"01ab456789"}


def test_truncation_is_durable_only_after_fsync(shim: Path, tmp_path: Path) -> None:
    assert after_cut(shim, tmp_path, {"f": b"0123456789"}, "truncate:f:4") == {"f": b"0123456789"}
    again = tmp_path / "again"
    again.mkdir()
    found = after_cut(shim, again, {"f": b"0123456789"}, "truncate:f:4", "write:f:zz", "fsync:f")
    assert found == {"f": b"0123zz"}


def test_a_new_file_needs_its_folder_synced(shim: Path, tmp_path: Path) -> None:
    found = after_cut(shim, tmp_path, {}, "write:new:data", "fsync:new")
    assert found == {}  # the content was synced, the name was not
    again = tmp_path / "again"
    again.mkdir()
    found = after_cut(shim, again, {}, "write:new:data", "fsync:new", "syncdir")
    assert found == {"new": b"data"}


def test_an_unlink_or_rename_needs_its_folder_synced(shim: Path, tmp_path: Path) -> None:
    assert after_cut(shim, tmp_path, {"f": b"kept"}, "unlink:f") == {"f": b"kept"}
    second, third = tmp_path / "second", tmp_path / "third"
    second.mkdir()
    third.mkdir()
    assert after_cut(shim, second, {"f": b"x"}, "rename:f:g") == {"f": b"x"}
    assert after_cut(shim, third, {"f": b"x"}, "rename:f:g", "syncdir") == {"g": b"x"}


@pytest.mark.parametrize("seed", range(5))
def test_the_mixed_view_keeps_synced_data_and_chooses_each_unsynced_block(seed: int) -> None:
    block = powercut.BLOCK
    durable, live = b"a" * block * 3, b"a" * block + b"b" * block + b"a" * block + b"c" * 10
    mixed = powercut.mixed_blocks(durable, live, random.Random(seed))
    assert mixed[:block] == b"a" * block  # the same in both: kept
    assert mixed[block : 2 * block] in (b"a" * block, b"b" * block)
    assert len(mixed) in (len(durable), len(live))


def test_without_a_compiler_the_shim_says_how_to_install_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(powercut.shutil, "which", lambda name: None)
    with pytest.raises(powercut.ShimUnavailable, match="make compiler"):
        powercut.compile_shim(tmp_path)
