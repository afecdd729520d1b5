"""Whole-process benchmark of large results: the CLI run as a user runs it.

Each command runs as a subprocess of a fresh measuring process, which drains its
standard output (counting the bytes, as a pipe into a file or another program would)
and reads the child's peak resident memory with ``resource.getrusage(RUSAGE_CHILDREN)``;
start-up, reading the file, the analysis and printing are all included. The tables
report the worst of ``--runs`` runs.

Cases: generated GMCR conflicts of 4 decision makers with every state feasible
(:func:`benchmarks.conflict_bench.conflict_document`; 20 options: 1,048,576 states,
22 options: 4,194,304), analysed under Nash, GMR, SMR and SEQ (SIM, a default concept,
refuses conflicts this large), printed as tables, as ``--json`` and as the bitmap
container (``-o RESULT.npz``).

Usage::

    .venv/bin/python benchmarks/cli_bench.py [--runs 3] [--only TEXT]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # run as a script: benchmarks.*

import numpy as np

from benchmarks.conflict_bench import conflict_document

ROOT = Path(__file__).resolve().parents[1]
CLI = [str(Path(sys.executable).parent / "backchannel")]
"""The console script, as a user runs it."""


@dataclass(frozen=True)
class Case:
    """One command on one generated input, with its targets (seconds, MiB)."""

    label: str
    make: Callable[[Path], Path]
    argv: tuple[str, ...]
    seconds: float
    mib: float


def _conflict(options: int) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / f"conflict-4x{options}.json"
        if not path.exists():
            path.write_text(json.dumps(conflict_document(4, options, 1)), encoding="utf-8")
        return path

    return make


def opposed_case(issues: int, options: int, seed: int) -> dict[str, object]:
    """A 2-party case of issue 14: half the issues ordered and rated in opposite
    directions by the two sides, the others rated at random; random weights; walk-away
    0.3 each. Its exact frontier is large (88,822 points at 320 × 6, seed 0)."""
    rng = np.random.default_rng(seed)
    agenda: list[dict[str, object]] = []
    sides: list[tuple[dict[str, float], dict[str, dict[str, float]]]] = [({}, {}), ({}, {})]
    for k in range(issues):
        names = [f"o{j}" for j in range(options)]
        opposed = k % 2 == 0
        agenda.append(
            {"name": f"i{k}", "kind": "ordered" if opposed else "unordered", "options": names}
        )
        rising = np.round(np.linspace(0, 100, options), 2)
        for p, (weights, ratings) in enumerate(sides):
            if opposed:
                values = rising if p == 0 else rising[::-1]
            else:
                values = np.round(rng.uniform(0, 100, options), 2)
            ratings[f"i{k}"] = dict(zip(names, values.tolist(), strict=True))
            weights[f"i{k}"] = float(rng.uniform(1, 10))
    parties = []
    for name, (weights, ratings) in zip(("A", "B"), sides, strict=True):
        total = sum(weights.values())
        shares = {issue: w / total for issue, w in weights.items()}
        shares[f"i{issues - 1}"] += 1.0 - sum(shares.values())  # exactly 1
        parties.append({"name": name, "weights": shares, "ratings": ratings, "reservation": 0.3})
    return {"title": f"opposed {issues}x{options}", "issues": agenda, "parties": parties}


def _opposed(issues: int, options: int) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / f"opposed-{issues}x{options}.json"
        if not path.exists():
            path.write_text(json.dumps(opposed_case(issues, options, 0)), encoding="utf-8")
        return path

    return make


GMCR = ("--concepts", "nash,gmr,smr,seq")
CASES = [
    Case(f"GMCR 4 DMs × {m} options, {kind}", _conflict(m), extra, seconds, mib)
    for m, seconds, mib in ((20, 10.0, 1024.0), (22, 40.0, 4096.0))
    for kind, extra in (
        ("table", ("conflict", "analyze", "{input}", *GMCR)),
        ("--json", ("conflict", "analyze", "{input}", *GMCR, "--json")),
        ("-o .npz", ("conflict", "analyze", "{input}", *GMCR, "-o", "{out}.npz", "--force")),
    )
] + [
    Case(f"frontier 2 parties opposed 320 × 6, {kind}", _opposed(320, 6), extra, 10.0, 2048.0)
    for kind, extra in (
        ("table", ("frontier", "{input}")),
        ("--json", ("frontier", "{input}", "--json")),
        ("--json --limit 1000", ("frontier", "{input}", "--json", "--limit", "1000")),
    )
]


def measure(argv: list[str]) -> dict[str, float]:
    """Run ``argv``, drain its output; wall and CPU seconds, peak RSS (MiB), bytes printed."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=ROOT)
    assert child.stdout is not None
    printed = 0
    while chunk := child.stdout.read(1 << 20):
        printed += len(chunk)
    code = child.wait()
    wall = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {code}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    return {"seconds": wall, "cpu": cpu, "mib": usage.ru_maxrss / 1024, "bytes": printed}


def run(case: Case, folder: Path) -> dict[str, float]:
    """One run of ``case`` in a fresh measuring process (its own RUSAGE_CHILDREN)."""
    path = case.make(folder)
    argv = [a.format(input=path, out=folder / "result") for a in case.argv]
    done = subprocess.run(
        [sys.executable, __file__, "--measure", *CLI, *argv],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="Run the cases whose label contains TEXT.")
    parser.add_argument("--measure", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    print(
        "| case | runs | worst s | median s | worst CPU s | worst peak RSS MB | printed MB "
        "| target |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if args.only not in case.label:
                continue
            runs = [run(case, Path(tmp)) for _ in range(args.runs)]
            seconds = sorted(r["seconds"] for r in runs)
            worst, peak = seconds[-1], max(r["mib"] for r in runs)
            cpu = max(r["cpu"] for r in runs)
            met = worst < case.seconds and peak < case.mib
            print(
                f"| {case.label} | {len(runs)} | {worst:.2f} | {seconds[len(seconds) // 2]:.2f} "
                f"| {cpu:.2f} | {peak:.0f} | {runs[0]['bytes'] / 1e6:.3g} | < {case.seconds:g} s, "
                f"< {case.mib / 1024:g} GB: {'met' if met else 'MISSED'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
