"""Benchmark of the GMCR stability engine: Nash + GMR + SMR + SEQ for every DM.

Generated conflicts in option form (options split among the DMs, random two-literal
infeasibility rules, six option-prioritisation statements per DM, all options
reversible), built without enumerating all 2^m codes. Each size runs in a fresh process
so that peak RSS (``resource.getrusage``) belongs to that size alone.

Usage::

    .venv/bin/python benchmarks/conflict_bench.py [--runs 3] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

from backchannel.conflict import analyze
from backchannel.conflict.compiled_conflict import CompiledConflict, Reversibility

CONCEPTS = ("nash", "gmr", "smr", "seq")

# (label, DMs, options, infeasibility rules, seed): sizes tuned to 1e4, 1e5, 1e6 states
CASES = [
    ("1e4 states, 2 DMs", 2, 15, 2, 1),
    ("1e4 states, 4 DMs", 4, 15, 2, 1),
    ("1e5 states, 2 DMs", 2, 18, 4, 1),
    ("1e5 states, 4 DMs", 4, 18, 4, 1),
    ("1e6 states, 4 DMs", 4, 22, 5, 1),
    ("30 options, 4 DMs, constrained", 4, 30, 37, 3),
    ("30 options, 4 DMs, ~1e6 feasible", 4, 30, 24, 3),
]


def feasible_states(n_options: int, rules: list[list[tuple[int, bool]]]) -> np.ndarray:
    """Codes that match no rule, built option by option (prune once a rule is decided)."""
    codes = np.zeros(1, dtype=np.uint64)
    for option in range(n_options):
        codes = np.concatenate([codes, codes | np.uint64(1 << option)])
        for rule in rules:
            if max(o for o, _ in rule) != option:
                continue
            hit = np.ones(codes.size, dtype=bool)
            for o, taken in rule:
                bit = (codes >> np.uint64(o)) & np.uint64(1)
                hit &= bit == np.uint64(taken)
            codes = codes[~hit]
    return np.sort(codes)


def generate(n_dms: int, n_options: int, n_rules: int, seed: int) -> CompiledConflict:
    """A random conflict with the given shape."""
    rng = np.random.default_rng(seed)
    owner = np.sort(np.arange(n_options) % n_dms)
    rules = []
    for _ in range(n_rules):
        a, b = rng.choice(n_options, 2, replace=False)
        rules.append([(int(a), bool(rng.integers(2))), (int(b), bool(rng.integers(2)))])
    states = feasible_states(n_options, rules)
    payoffs = np.zeros((n_dms, states.size), dtype=np.int64)
    for dm in range(n_dms):
        for k in range(6):
            size = 1 + int(rng.integers(2))
            literals = rng.choice(n_options, size, replace=False)
            holds = np.ones(states.size, dtype=bool)
            for o in literals:
                bit = (states >> np.uint64(int(o))) & np.uint64(1)
                holds &= bit == np.uint64(rng.integers(2))
            payoffs[dm] += holds.astype(np.int64) << (6 - k)
    return CompiledConflict(
        title="generated",
        option_ids=tuple(f"o{j}" for j in range(n_options)),
        dm_ids=tuple(f"DM{k}" for k in range(n_dms)),
        dm_options=tuple(tuple(np.flatnonzero(owner == k).tolist()) for k in range(n_dms)),
        states=states,
        payoffs=payoffs,
        reversibility=(Reversibility.BOTH,) * n_options,
    )


def conflict_document(n_dms: int, n_options: int, seed: int) -> dict[str, object]:
    """A conflict file (as a JSON-ready document) with every state feasible.

    ``n_options`` options split evenly among ``n_dms`` decision makers, no infeasibility
    rule (``2 ** n_options`` states), six random option-prioritisation statements per
    decision maker (a literal, two literals joined by ``&``, or ``a iff b``), all options
    reversible: the shape of issue 14's "random 4-DM conflict of 20 options".
    """
    rng = np.random.default_rng(seed)
    owner = np.sort(np.arange(n_options) % n_dms)
    options = [f"o{j}" for j in range(n_options)]
    preferences: dict[str, object] = {}
    for dm in range(n_dms):
        statements = []
        for _ in range(6):
            picked = rng.choice(n_options, 1 + int(rng.integers(2)), replace=False)
            words = [("-" if rng.integers(2) else "") + options[int(o)] for o in picked]
            joint = " iff " if len(words) == 2 and rng.integers(2) else " & "
            statements.append(joint.join(words))
        preferences[f"DM{dm}"] = {"statements": statements}
    return {
        "title": f"generated {n_dms} DMs, {n_options} options, seed {seed}",
        "decision_makers": [
            {"id": f"DM{k}", "options": [options[j] for j in np.flatnonzero(owner == k)]}
            for k in range(n_dms)
        ],
        "options": [{"id": option} for option in options],
        "preferences": preferences,
    }


def run_case(index: int) -> dict[str, object]:
    """Build and analyse one case in this process; return timings and peak RSS."""
    label, n_dms, n_options, n_rules, seed = CASES[index]
    start = time.perf_counter()
    conflict = generate(n_dms, n_options, n_rules, seed)
    built = time.perf_counter() - start
    start = time.perf_counter()
    report = analyze(conflict, CONCEPTS)
    solved = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "label": label,
        "dms": n_dms,
        "options": n_options,
        "states": conflict.n_states,
        "build": built,
        "solve": solved,
        "rss_mb": rss,
        "equilibria": [int(report.equilibria[c].size) for c in CONCEPTS],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--case", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case is not None:
        print(json.dumps(run_case(args.case)))
        return
    print(
        "| case | DMs | options | states | build s | Nash+GMR+SMR+SEQ s (median) "
        "| peak RSS MB | equilibria N/G/S/Q | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for index in range(len(CASES)):
        runs = []
        for _ in range(args.runs):
            out = subprocess.run(
                [sys.executable, __file__, "--case", str(index)],
                check=True,
                capture_output=True,
                text=True,
            )
            runs.append(json.loads(out.stdout))
        solve = statistics.median(r["solve"] for r in runs)
        build = statistics.median(r["build"] for r in runs)
        rss = max(r["rss_mb"] for r in runs)
        first = runs[0]
        states = int(first["states"])
        if states >= 500_000:
            target = "< 10 s, < 1 GB"
            met = solve < 10 and rss < 1024
        elif states >= 50_000:
            target = "< 1 s"
            met = solve < 1
        else:
            target = "(gmcr-py: 156 s at 8,192 states, 4 DMs)"
            met = True
        verdict = ("met" if met else "MISSED") if target.startswith("<") else ""
        counts = "/".join(str(c) for c in first["equilibria"])
        print(
            f"| {first['label']} | {first['dms']} | {first['options']} | {states:,} | "
            f"{build:.2f} | {solve:.2f} | {rss:.0f} | {counts} | {target} {verdict} |"
        )


if __name__ == "__main__":
    main()
