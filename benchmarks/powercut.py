"""Simulated power cuts: the LD_PRELOAD shim ``powercut_shim.c`` and the durable view.

A process started with :func:`shim_environment` runs on the real files of one folder
while the shim keeps, in a *shadow* folder beside it, what a disk that honours fsync
would hold if the power failed now:

* each file's content as of its last ``fsync``/``fdatasync`` (writes since are lost);
* the folder's listing as of its last ``fsync`` of the folder itself (a file created,
  unlinked or renamed since is, durably, not yet created, unlinked or renamed).

A *cut* is :func:`cut`: SIGKILL the process, then replace the folder by that durable
view (:func:`restore_view`). ``mix=True`` is the harsher variant: every 4 KiB block
written since the last sync survives or not at random, independently (a disk that
reorders and tears writes); the names stay as durable. The model and its limits are in
``docs/explanation/durability.md``.

:func:`compile_shim` builds the library with the system C compiler into a folder the
caller gives (a temporary one): no binary is kept in the repository.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "powercut_shim.c"
BLOCK = 4096


class ShimUnavailable(RuntimeError):
    """The shim could not be compiled (no C compiler)."""


def compile_shim(folder: Path) -> Path:
    """Compile ``powercut_shim.c`` into ``folder``; return the shared library's path."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise ShimUnavailable(
            "no C compiler (gcc or cc) on PATH: `make compiler` installs gcc (what `make test` "
            "runs first), or `apt-get install -y gcc`"
        )
    library = folder / "powercut_shim.so"
    command = [compiler, "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", str(library)]
    done = subprocess.run(
        [*command, str(SOURCE), "-ldl", "-lpthread"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise ShimUnavailable(f"compiling the power-cut shim failed:\n{done.stderr}")
    return library


@dataclass(frozen=True)
class Shadow:
    """The watched folder and the shadow folder the shim writes beside it."""

    watched: Path
    shadow: Path

    @property
    def blobs(self) -> Path:
        return self.shadow / "blobs"

    def violations(self) -> list[str]:
        """Operations the shim saw that its model does not cover (should be none)."""
        path = self.shadow / "violations"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def start_shadow(watched: Path, shadow: Path) -> Shadow:
    """A fresh shadow in which every file now in ``watched`` is durable as it is."""
    watched = watched.resolve()
    if shadow.exists():
        shutil.rmtree(shadow)
    (shadow / "blobs").mkdir(parents=True, mode=0o700)
    lines = []
    for k, path in enumerate(sorted(p for p in watched.iterdir() if p.is_file())):
        blob = shadow / "blobs" / f"start-{k}"
        shutil.copyfile(path, blob)
        lines.append(f"start-{k}\t{path.name}\n")
    (shadow / "names").write_text("".join(lines), encoding="utf-8")
    return Shadow(watched, shadow)


def shim_environment(library: Path, shadow: Shadow) -> dict[str, str]:
    """The environment variables that put a process under the shim."""
    return {
        "LD_PRELOAD": str(library),
        "POWERCUT_DIR": str(shadow.watched),
        "POWERCUT_SHADOW": str(shadow.shadow),
    }


def _listing(path: Path) -> dict[str, str]:
    """``name -> object id`` from a listing the shim wrote."""
    if not path.exists():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        ident, _, name = line.partition("\t")
        found[name] = ident
    return found


def mixed_blocks(durable: bytes, live: bytes, rng: random.Random) -> bytes:
    """Each block that differs comes from ``live`` or ``durable`` at random; the size too."""
    size = len(live) if rng.random() < 0.5 else len(durable)
    out = bytearray(durable[:size].ljust(size, b"\0"))
    for start in range(0, size, BLOCK):
        new = live[start : start + BLOCK]
        if out[start : start + len(new)] != new and rng.random() < 0.5:
            out[start : start + len(new)] = new
    return bytes(out[:size])


def restore_view(shadow: Shadow, mix: random.Random | None = None) -> dict[str, int]:
    """Replace the watched folder by its durable view; return the files and their sizes.

    With ``mix`` (a random generator), unsynced blocks survive at random (see the module).
    """
    durable = _listing(shadow.shadow / "names")
    live_names = {ident: name for name, ident in _listing(shadow.shadow / "live").items()}
    if not (shadow.shadow / "live").exists():  # no name changed: the durable names are live
        live_names = {ident: name for name, ident in durable.items()}
    contents = {}
    for name, ident in durable.items():
        blob = shadow.blobs / ident
        data = blob.read_bytes() if blob.exists() else b""
        live_name = live_names.get(ident)
        if mix is not None and live_name is not None:
            live_path = shadow.watched / live_name
            if live_path.exists():
                data = mixed_blocks(data, live_path.read_bytes(), mix)
        contents[name] = data
    for path in shadow.watched.iterdir():
        path.unlink()
    for name, data in contents.items():
        descriptor = os.open(shadow.watched / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    return {name: len(data) for name, data in contents.items()}


def cut(
    process: subprocess.Popen[bytes], shadow: Shadow, mix: random.Random | None = None
) -> dict[str, int]:
    """Cut the power: SIGKILL ``process``, wait for it, restore the durable view."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    return restore_view(shadow, mix)
