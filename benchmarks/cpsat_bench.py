"""Median wall-clock times of the CP-SAT engine against the issue's targets.

::

    .venv/bin/python benchmarks/cpsat_bench.py [--quick] [--repeats N]

Settlements (every rule) at 40/80/160/320 x 6 for 2, 3 and 6 parties (6 parties
only at 40 x 6 and 80 x 6), 3 red lines per party, instances from
``benchmarks/synthetic.py``; minimal clash set and cheapest relaxation for 2
parties up to 80 x 6 on instances made infeasible by raising every reservation by
0.15 (or by steps of 0.05 more, until no package is admissible). Times include model
building; medians over instances (seeds) and repeats.

Targets: 3 parties each rule <= 0.5 s up to 160 x 6 and <= 1.5 s at 320 x 6;
6 parties each rule <= 5 s at 40 x 6; 2 parties minimal clash set <= 0.3 s and
cheapest relaxation <= 0.1 s up to 80 x 6.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # run as a script: benchmarks.*

from backchannel.model.problem import Problem
from backchannel.model.results import SettlementRule
from backchannel.solvers.cpsat import cpsat_clashes, cpsat_settle
from backchannel.solvers.cpsat.clashes import Guarded, _relaxations
from backchannel.solvers.cpsat.package_model import Budget
from benchmarks.synthetic import make_problem

TARGETS = {(3, 160): 0.5, (3, 320): 1.5, (6, 40): 5.0}


def _median(times: list[float]) -> float:
    return statistics.median(times)


def _infeasible(problem: Problem) -> Problem:
    """Every reservation raised by 0.15, then by 0.05 more until nothing is admissible."""
    from backchannel.solvers import engine

    raise_by = 0.15
    while True:
        raised = tuple(
            dataclasses.replace(c, bound=c.bound + raise_by) if c.is_utility else c
            for c in problem.constraints
        )
        candidate = dataclasses.replace(problem, constraints=raised)
        if engine.check(candidate).witness is None:
            return candidate
        raise_by += 0.05


def settlements(sizes: list[int], parties: list[int], seeds: int, repeats: int) -> None:
    print("rule        p  issues  median s  target  statuses")
    for p in parties:
        for n in sizes:
            if p == 6 and n > 80:
                continue
            for rule in SettlementRule:
                times, statuses = [], set()
                for seed in range(seeds):
                    problem = make_problem(n, 6, p, red_lines_per_party=3, seed=seed)
                    for _ in range(repeats):
                        start = time.perf_counter()
                        result = cpsat_settle(problem, rule, time_limit=30.0)
                        times.append(time.perf_counter() - start)
                        statuses.add(result.status.value)
                target = TARGETS.get((p, n)) or (0.5 if p == 3 and n <= 160 else None)
                mark = "" if target is None else f"{target:6.1f}"
                status = ",".join(sorted(statuses))
                print(f"{rule.value:10} {p:2} {n:4}x6  {_median(times):8.3f}  {mark:6}  {status}")


def clashes(sizes: list[int], seeds: int, repeats: int) -> None:
    print("\nclashes, 2 parties   minimal set s (target 0.3)   cheapest relaxation s (target 0.1)")
    for n in sizes:
        core_times, relax_times = [], []
        for seed in range(seeds):
            problem = _infeasible(make_problem(n, 6, 2, red_lines_per_party=3, seed=seed))
            for _ in range(repeats):
                start = time.perf_counter()
                result = cpsat_clashes(problem, limit=1, time_limit=30.0)
                core_times.append(time.perf_counter() - start)
                assert not result.feasible
                start = time.perf_counter()
                _relaxations(Guarded(problem, Budget(30.0)), 1)
                relax_times.append(time.perf_counter() - start)
        print(
            f"{n:4}x6                 {_median(core_times):8.3f}"
            f"                      {_median(relax_times):8.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    seeds = 1 if args.quick else 2
    sizes = [40, 160] if args.quick else [40, 80, 160, 320]
    settlements(sizes, [2, 3, 6], seeds, repeats)
    clashes([40, 80], seeds, repeats)


if __name__ == "__main__":
    main()
