"""Run every benchmark script in ``benchmarks/``, one after another (``make bench``).

::

    .venv/bin/python benchmarks/run_all.py [--quick]

First makes sure the separate NegMAS environment ``.venv-bench`` exists (it is
created with ``python3.11 -m venv .venv-bench`` and ``pip install negmas==0.16.0``
when missing or incomplete; nothing happens when it is already there). NegMAS is
AGPL-licensed and only ever runs there, as an external baseline process.

Then runs ``negotiation_bench.py``, ``enumeration_bench.py``, ``cpsat_bench.py``,
``conflict_bench.py`` and any other ``*_bench.py`` present, with this interpreter,
printing their output as it comes. ``--quick`` is passed to the scripts that accept
it (those whose source mentions ``--quick``). The exit status is non-zero when a
script failed; the others still run.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
BENCH_VENV = ROOT / ".venv-bench"
BENCH_PYTHON = BENCH_VENV / "bin" / "python"
NEGMAS_REQUIREMENT = "negmas==0.16.0"
NEGMAS_VERSION = "0.16.0"
ORDER = ("negotiation_bench.py", "enumeration_bench.py", "cpsat_bench.py", "conflict_bench.py")


def negmas_ready(python: Path = BENCH_PYTHON) -> bool:
    """Whether the benchmark environment imports the pinned NegMAS."""
    if not python.exists():
        return False
    probe = f"import negmas, sys; sys.exit(negmas.__version__ != {NEGMAS_VERSION!r})"
    return (
        subprocess.run([str(python), "-c", probe], capture_output=True, check=False).returncode == 0
    )


def ensure_bench_venv() -> bool:
    """Create ``.venv-bench`` with NegMAS when needed (idempotent); False if that failed."""
    if negmas_ready():
        print(f"NegMAS baseline environment: {BENCH_VENV} (NegMAS {NEGMAS_VERSION}) is ready")
        return True
    if not BENCH_PYTHON.exists():
        base = shutil.which("python3.11") or sys.executable
        print(f"creating {BENCH_VENV} with {base} -m venv (NegMAS baseline only, AGPL)")
        made = subprocess.run([base, "-m", "venv", str(BENCH_VENV)], check=False)
        if made.returncode != 0:
            print("could not create the NegMAS environment; NegMAS columns will be empty")
            return False
    print(f"installing {NEGMAS_REQUIREMENT} into {BENCH_VENV}")
    pip = [str(BENCH_PYTHON), "-m", "pip", "install", "--quiet", NEGMAS_REQUIREMENT]
    if subprocess.run(pip, check=False).returncode != 0 or not negmas_ready():
        print("could not install NegMAS; NegMAS columns will be empty")
        return False
    return True


def scripts() -> list[Path]:
    """The benchmark scripts present, in the documented order, then any others."""
    present = {p.name: p for p in BENCH_DIR.glob("*_bench.py")}
    ordered = [present.pop(name) for name in ORDER if name in present]
    return ordered + sorted(present.values())


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; exit status 1 when any of them failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sets where supported")
    args = parser.parse_args(argv)
    ensure_bench_venv()
    failed: list[str] = []
    for script in scripts():
        command = [sys.executable, str(script)]
        if args.quick and "--quick" in script.read_text(encoding="utf-8"):
            command.append("--quick")
        print(f"\n===== {script.name} =====", flush=True)
        start = time.perf_counter()
        code = subprocess.run(command, cwd=ROOT, check=False).returncode
        print(f"===== {script.name}: exit {code}, {time.perf_counter() - start:.0f} s =====")
        if code != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
