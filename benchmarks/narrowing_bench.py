"""The four rules for 3+ parties (issue 14 §2): the engine per rule, wall and CPU time.

::

    .venv/bin/python -m benchmarks.narrowing_bench [--seeds N] [--time-limit S]
        [--families opposed,integrative,...] [--sizes 3x160,3x80,6x40]
        [--rules nash,welfare,egalitarian,ks]

Each row: one rule on one family and size over the seeds, one ``engine.settle`` call
per seed (computation only, validation included, after a warm-up): the worst wall and
CPU seconds (and the seed), the median CPU seconds, on how many seeds Lagrangian
narrowing answered (the others went to CP-SAT) and the worst CPU seconds among those,
the method of the worst seed and whether every answer is proven. Run it with another
checkout's ``src`` on ``PYTHONPATH`` for a before/after comparison in the same session.
"""

from __future__ import annotations

import argparse
import statistics
import time

from backchannel.model.results import SettlementRule, Status
from backchannel.solvers import engine
from benchmarks.synthetic import make_family

NARROWING = "lagrange+enumeration"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--families", default="opposed,integrative,mixed,near-ties,linked")
    parser.add_argument("--sizes", default="3x160,3x80,6x40")
    parser.add_argument("--rules", default="nash,welfare,egalitarian,ks")
    args = parser.parse_args(argv)
    rules = [SettlementRule(r) for r in args.rules.split(",")]
    warm = make_family("opposed", 8, 3, 3, seed=0)
    engine.settle(warm, rules)
    print(
        "| family | parties × issues | rule | worst wall s | worst CPU s | seed "
        "| median CPU s | narrowing | worst CPU s narrowing | method (worst) | proven |"
    )
    print("|---|---|---|---:|---:|---|---:|---|---:|---|---|")
    for size in args.sizes.split(","):
        parties, issues = (int(v) for v in size.split("x"))
        for family in args.families.split(","):
            problems = [make_family(family, issues, 6, parties, seed=s) for s in range(args.seeds)]
            for rule in rules:
                worst = (-1.0, 0.0, 0, "")
                cpus: list[float] = []
                by_narrowing: list[float] = []
                proven, narrowed = True, 0
                for seed, problem in enumerate(problems):
                    wall, cpu = time.perf_counter(), time.process_time()
                    answer = engine.settle(problem, [rule], args.time_limit)[rule]
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    cpus.append(cpu)
                    proven = proven and answer.status in (Status.OPTIMAL, Status.INFEASIBLE)
                    if answer.method == NARROWING:
                        narrowed += 1
                        by_narrowing.append(cpu)
                    if cpu > worst[1]:
                        worst = (wall, cpu, seed, answer.method)
                wall, cpu, seed, method = worst
                alone = f"{max(by_narrowing):.3f}" if by_narrowing else "–"
                print(
                    f"| {family} | {parties}×{issues}×6 | {rule.value} | {wall:.3f} | {cpu:.3f} "
                    f"| s{seed} | {statistics.median(cpus):.3f} | {narrowed}/{len(problems)} "
                    f"| {alone} | {method} | {'yes' if proven else 'no (time limit)'} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
