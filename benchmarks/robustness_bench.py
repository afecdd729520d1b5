"""Benchmark of ``backchannel robustness``: the whole process, as a user runs it.

Runs the CLI in a fresh process (start-up, loading, the sweep, the exact threshold,
the directed search and the printing all count) on a bundled case, ``--runs`` times
for each setting, and reports the worst and the median wall-clock time against the
target (1,000 samples of the US-Russia example in under 10 s on a 2-core machine).

Usage::

    .venv/bin/python -m benchmarks.robustness_bench [--runs 3] [--samples 1000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "us_russia_ukraine.yaml"
TARGET_SECONDS = 10.0
RULES = ("nash", "welfare")


def command(rule: str, samples: int, workers: int | None, noise: float) -> list[str]:
    """The CLI command line of one run (JSON output, a fixed seed)."""
    executable = shutil.which("backchannel", path=str(Path(sys.executable).parent))
    assert executable is not None, "install the project first (make .venv/.installed)"
    argv = [executable, "robustness", str(CASE), "--rule", rule, "--noise", f"{noise:g}"]
    argv += ["--samples", str(samples), "--seed", "1", "--json"]
    if workers is not None:
        argv += ["--workers", str(workers)]
    return argv


def timed(argv: list[str]) -> float:
    """Wall-clock seconds of one whole process (it must succeed)."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(argv)}\n{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per setting (worst reported)")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--noise", type=float, default=5.0)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"{CASE.name}, {args.samples} samples, ±{args.noise:g} points, {cores} cores")
    print(f"load average before: {os.getloadavg()[0]:.1f} (the machine may be shared)")
    print(f"{'rule':<8} {'workers':>8} {'worst s':>8} {'median s':>9}  target")
    for rule in RULES:
        for workers in (1, None):
            times = [
                timed(command(rule, args.samples, workers, args.noise)) for _ in range(args.runs)
            ]
            worst = max(times)
            verdict = "met" if worst < TARGET_SECONDS else "MISSED"
            label = str(workers) if workers is not None else f"all ({cores})"
            print(
                f"{rule:<8} {label:>8} {worst:>8.2f} {statistics.median(times):>9.2f}  "
                f"< {TARGET_SECONDS:g} s {verdict}"
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
