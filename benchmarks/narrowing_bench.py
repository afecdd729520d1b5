"""Nash and welfare for 3+ parties (issue 14 §2): the engine per rule, wall and CPU time.

::

    .venv/bin/python -m benchmarks.narrowing_bench [--seeds N] [--time-limit S]
        [--families opposed,integrative,...] [--sizes 3x160,3x80,6x40] [--rules nash,welfare]

Each cell: worst over the seeds of one ``engine.settle`` call for one rule (computation
only, validation included, after a warm-up), wall / CPU seconds, the method that
answered and whether the answer is proven. Run it with another checkout's ``src`` on
``PYTHONPATH`` for a before/after comparison in the same session.
"""

from __future__ import annotations

import argparse
import time

from backchannel.model.results import SettlementRule, Status
from backchannel.solvers import engine
from benchmarks.synthetic import make_family


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--families", default="opposed,integrative,mixed,near-ties,linked")
    parser.add_argument("--sizes", default="3x160,3x80,6x40")
    parser.add_argument("--rules", default="nash,welfare")
    args = parser.parse_args(argv)
    rules = [SettlementRule(r) for r in args.rules.split(",")]
    warm = make_family("opposed", 8, 3, 3, seed=0)
    engine.settle(warm, rules)
    print(
        "| family | parties × issues | rule | worst wall s | worst CPU s | seed | method | proven |"
    )
    print("|---|---|---|---:|---:|---|---|---|")
    for size in args.sizes.split(","):
        parties, issues = (int(v) for v in size.split("x"))
        for family in args.families.split(","):
            problems = [make_family(family, issues, 6, parties, seed=s) for s in range(args.seeds)]
            for rule in rules:
                worst = (-1.0, 0.0, 0, "", True)
                proven = True
                for seed, problem in enumerate(problems):
                    wall, cpu = time.perf_counter(), time.process_time()
                    answer = engine.settle(problem, [rule], args.time_limit)[rule]
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    ok = answer.status in (Status.OPTIMAL, Status.INFEASIBLE)
                    proven = proven and ok
                    if wall > worst[0]:
                        worst = (wall, cpu, seed, answer.method, ok)
                wall, cpu, seed, method, _ = worst
                print(
                    f"| {family} | {parties}×{issues}×6 | {rule.value} | {wall:.3f} | {cpu:.3f} "
                    f"| s{seed} | {method} | {'yes' if proven else 'no (time limit)'} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
