"""Whole-process start-up benchmark: short commands as a user runs them.

Each command runs ``--runs`` times as a subprocess of the console script (start-up,
imports, reading the file, the analysis and printing included; output drained); the
table reports the worst and the median wall time against issue 14's targets:
``backchannel --help`` under 0.3 s, ``backchannel check`` on each bundled example under
0.5 s; ``conflict analyze`` on each bundled conflict is shown beside them (no target).
``.venv/bin/python -X importtime .venv/bin/backchannel ...`` shows where a slow start goes.

Usage::

    .venv/bin/python benchmarks/startup_bench.py [--runs 10] [--only TEXT]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "backchannel")
"""The console script, as a user runs it."""


@dataclass(frozen=True)
class Case:
    """One command and its target (seconds, whole process; None: shown, no target)."""

    label: str
    argv: tuple[str, ...]
    seconds: float | None


def cases() -> list[Case]:
    """``--help`` and ``check`` on each bundled case, ``conflict analyze`` on each conflict."""
    found = [Case("backchannel --help", ("--help",), 0.3)]
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        found.append(Case(f"check {path.name}", ("check", str(path)), 0.5))
    for path in sorted((ROOT / "examples" / "conflicts").glob("*.yaml")):
        argv = ("conflict", "analyze", str(path))
        found.append(Case(f"conflict analyze {path.name}", argv, None))
    return found


def measure(argv: tuple[str, ...]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of the CLI with ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([CLI, *argv], cwd=ROOT, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"backchannel {' '.join(argv)} exited with {done.returncode}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", default="", help="Run the commands whose label contains TEXT.")
    args = parser.parse_args()
    print("| command | runs | worst s | median s | worst CPU s | target |")
    print("|---|---|---|---|---|---|")
    for case in cases():
        if args.only not in case.label:
            continue
        measure(case.argv)  # warm the file cache, as a second run by a user would be
        runs = [measure(case.argv) for _ in range(args.runs)]
        seconds = sorted(wall for wall, _ in runs)
        worst, median = seconds[-1], statistics.median(seconds)
        cpu = max(cpu for _, cpu in runs)
        target = "-"
        if case.seconds is not None:
            target = f"< {case.seconds:g} s: " + ("met" if worst < case.seconds else "MISSED")
        print(
            f"| `{case.label}` | {args.runs} | {worst:.3f} | {median:.3f} | {cpu:.3f} | {target} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
