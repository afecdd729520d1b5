"""Worst cases that cannot hide: every generator family and size on many seeds.

Each family of :mod:`benchmarks.synthetic` (and today's generator, ``grid``) is built
for each party count and size on ``--seeds`` seeds, written as a case file and read
back, then timed two ways:

* **computation**: the engine's function alone (``check``, ``clashes``, ``settle`` one
  rule at a time, ``frontier`` for 2 parties), after a warm-up on the first seed;
* **process**: the whole CLI process on the written file (``backchannel check``,
  ``clashes``, ``settle --rule R``, ``frontier``), start-up and printing included.

Each row prints the median and the **worst** over the seeds (with the worst seed), and
for 2 parties the frontier's size (median and largest). The targets of issue 14 are
printed beside the rows they concern.

Usage: ``.venv/bin/python -m benchmarks.families_bench [--seeds N] [--quick] [--only TEXT]
[--process-seeds N] [--questions frontier,nash,...]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from backchannel.errors import BackchannelError
from backchannel.formats.case_file import dump_case
from backchannel.model.case import Case, Condition, Issue, Party, RedLine
from backchannel.model.compile import compile_case
from backchannel.model.problem import AdditiveUtility, ConstraintKind, Problem
from backchannel.model.results import SettlementRule, Status
from backchannel.solvers import engine
from benchmarks.synthetic import FAMILIES, make_family, make_problem

RULES = tuple(SettlementRule)
RULE_NAMES = {rule.value for rule in RULES}
SIZES: dict[int, tuple[tuple[int, int], ...]] = {
    2: ((80, 6), (320, 6)),
    3: ((160, 6),),
    6: ((40, 6),),
}
QUICK_SIZES: dict[int, tuple[tuple[int, int], ...]] = {2: ((12, 4),), 3: ((8, 3),), 6: ((6, 3),)}
TARGETS = {
    (2, "320×6"): "2 parties 320×6: check, clashes, each rule ≤ 0.1 s; frontier ≤ 1 s",
    (3, "160×6"): "3 parties 160×6: each rule ≤ 0.5 s",
    (6, "40×6"): "6 parties 40×6: each rule ≤ 5 s",
}
TIME_LIMIT = 60.0


def to_case(problem: Problem) -> Case:
    """A case file's model of a generated problem (additive utilities, conditional rules).

    Ratings are the tables divided by the issue weights (0-100), weights as generated
    (they sum to 1); each party's reservation is its walk-away utility.
    """
    issues = [Issue(name=d.name, kind=d.kind, options=list(d.labels)) for d in problem.issues]
    parties = []
    for q, (name, utility) in enumerate(zip(problem.parties, problem.utilities, strict=True)):
        assert isinstance(utility, AdditiveUtility)
        weights, ratings = {}, {}
        for domain, table, weight in zip(
            problem.issues, utility.tables, utility.weights.tolist(), strict=True
        ):
            weights[domain.name] = weight
            scale = 100.0 / weight if weight > 0 else 0.0
            ratings[domain.name] = {
                label: min(100.0, max(0.0, float(v) * scale))
                for label, v in zip(domain.labels, table.tolist(), strict=True)
            }
        red_lines = []
        for c in problem.constraints:
            if c.party != name or c.kind is not ConstraintKind.CONDITIONAL:
                continue
            (premise, then) = c.clauses[0]
            domain_a, domain_b = problem.issues[premise.issue], problem.issues[then.issue]
            (x,) = set(range(domain_a.size)) - set(premise.allowed)
            red_lines.append(
                RedLine.model_validate(
                    {
                        "id": c.id,
                        "if": [Condition(issue=domain_a.name, options=[domain_a.labels[x]])],
                        "then": [
                            Condition(
                                issue=domain_b.name,
                                options=[domain_b.labels[o] for o in sorted(then.allowed)],
                            )
                        ],
                    }
                )
            )
        parties.append(
            Party(
                name=name,
                weights=weights,
                ratings=ratings,
                red_lines=red_lines,
                reservation=problem.disagreement[q],
            )
        )
    return Case(title=problem.title, issues=issues, parties=parties)


@dataclass
class Series:
    """One question's times over the seeds."""

    times: list[float] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    limits: int = 0  # runs that reached the time limit
    failed: list[int] = field(default_factory=list)  # seeds whose answer was refused

    def add(self, seed: int, seconds: float) -> None:
        self.times.append(seconds)
        self.seeds.append(seed)

    def cell(self) -> str:
        refused = f", refused on seeds {self.failed}" if self.failed else ""
        if not self.times:
            return f"—{refused}"
        worst = max(range(len(self.times)), key=self.times.__getitem__)
        median = statistics.median(self.times)
        limited = f", {self.limits} at the limit" if self.limits else ""
        worst_seed = f"s{self.seeds[worst]}{limited}{refused}"
        return f"{median:.3f} / **{self.times[worst]:.3f}** ({worst_seed})"


def build(family: str, parties: int, n: int, k: int, seed: int) -> Problem:
    """A problem of ``family`` (``grid``: today's generator, 3 red lines per party)."""
    if family == "grid":
        return make_problem(n, k, parties, seed=seed)
    return make_family(family, n, k, parties, seed=seed)


def questions(problem: Problem, parties: int) -> dict[str, Callable[[], object]]:
    """The engine's questions for one problem, by name."""
    out: dict[str, Callable[[], object]] = {
        "check": lambda: engine.check(problem, TIME_LIMIT),
        "clashes": lambda: engine.clashes(problem, time_limit=TIME_LIMIT),
    }
    for rule in RULES:
        out[rule.value] = lambda rule=rule: engine.settle(problem, [rule], TIME_LIMIT)
    if parties == 2:
        out["frontier"] = lambda: engine.frontier(problem, TIME_LIMIT)
    return out


def commands(path: Path, parties: int) -> dict[str, list[str]]:
    """The CLI commands for one written case file, by question name."""
    cli = [str(Path(sys.executable).with_name("backchannel"))]
    out = {
        "check": [*cli, "check", str(path)],
        "clashes": [*cli, "clashes", str(path)],
    }
    for rule in RULES:
        out[rule.value] = [*cli, "settle", str(path), "--rule", rule.value]
    if parties == 2:
        out["frontier"] = [*cli, "frontier", str(path)]
    return out


CLOCK: list[Callable[[], float]] = [time.perf_counter]
"""The clock of the computation: wall time, or with ``--cpu`` this process's CPU time
(comparable across runs on a shared machine, where other work inflates wall time)."""


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    clock = CLOCK[0]
    start = clock()
    value = fn()
    return clock() - start, value


def run(
    family: str,
    parties: int,
    n: int,
    k: int,
    seeds: int,
    process: int,
    folder: Path,
    asked: Sequence[str] = (),
) -> tuple[dict[str, Series], dict[str, Series], list[int]]:
    """Computation and process series for one family and size, and the frontier sizes.

    The whole process is timed on the first ``process`` seeds only; ``asked`` names
    the questions to time (all when empty).
    """
    compute: dict[str, Series] = {}
    whole: dict[str, Series] = {}
    sizes: list[int] = []
    for seed in range(seeds):
        path = folder / f"{family}-{parties}-{n}x{k}-{seed}.json"
        path.write_text(dump_case(to_case(build(family, parties, n, k, seed)), json_syntax=True))
        problem = compile_case(Case.model_validate_json(path.read_text()), path.name)
        for name, fn in questions(problem, parties).items():
            if asked and name not in asked:
                continue
            try:
                if seed == 0:
                    fn()  # warm-up: imports and caches
                seconds, value = timed(fn)
            except BackchannelError:  # a refused answer (the validator's): counted, not timed
                compute.setdefault(name, Series()).failed.append(seed)
                continue
            compute.setdefault(name, Series()).add(seed, seconds)
            if name == "frontier":
                sizes.append(len(value.points))  # type: ignore[attr-defined]
            elif name in RULE_NAMES:
                answer = next(iter(value.values()))  # type: ignore[attr-defined]
                if answer.status not in (Status.OPTIMAL, Status.INFEASIBLE):
                    compute[name].limits += 1
        if seed < process:
            for name, argv in commands(path, parties).items():
                if asked and name not in asked:
                    continue
                start = time.perf_counter()
                done = subprocess.run(argv, check=False, capture_output=True, text=True)
                whole.setdefault(name, Series()).add(seed, time.perf_counter() - start)
                if done.returncode == 3:  # a time limit: the answer is not proven
                    whole[name].limits += 1
                elif done.returncode == 1:  # an internal error (a refused answer)
                    whole[name].failed.append(seed)
                elif done.returncode:
                    raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return compute, whole, sizes


def table(title: str, rows: Sequence[tuple[str, dict[str, Series], list[int]]]) -> str:
    names = ["check", "clashes", *(r.value for r in RULES), "frontier"]
    head = f"| {title} | " + " | ".join(names) + " | frontier points (median / largest) |"
    lines = [head, "|" + "---|" * (len(names) + 2)]
    for label, series, sizes in rows:
        cells = [series[n].cell() if n in series else "—" for n in names]
        points = f"{statistics.median(sizes):.0f} / {max(sizes)}" if sizes else "—"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {points} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per family and size")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 2 seeds")
    parser.add_argument("--only", default="", help="only rows whose label contains this")
    parser.add_argument("--parties", default="2,3,6", help="comma-separated party counts")
    parser.add_argument(
        "--process-seeds", type=int, default=None, help="seeds timed as whole processes (0: none)"
    )
    parser.add_argument(
        "--questions", default="", help="comma-separated questions to time (default: all)"
    )
    parser.add_argument(
        "--cpu", action="store_true", help="time the computation in CPU seconds, not wall"
    )
    args = parser.parse_args(argv)
    CLOCK[0] = time.process_time if args.cpu else time.perf_counter
    asked = [q for q in args.questions.split(",") if q]
    seeds = 2 if args.quick else args.seeds
    process = seeds if args.process_seeds is None else min(seeds, args.process_seeds)
    sizes = QUICK_SIZES if args.quick else SIZES
    compute_rows, process_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for parties in (int(p) for p in args.parties.split(",")):
            for n, k in sizes[parties]:
                for family in ("grid", *FAMILIES):
                    label = f"{family} p{parties} {n}×{k}"
                    if args.only not in label:
                        continue
                    compute, whole, points = run(
                        family, parties, n, k, seeds, process, Path(tmp), asked
                    )
                    compute_rows.append((label, compute, points))
                    process_rows.append((label, whole, points))
                    print(table("computation", [(label, compute, points)]), file=sys.stderr)
                    if process:
                        print(table("whole process", [(label, whole, points)]), file=sys.stderr)
                    print(f"done {label}", file=sys.stderr, flush=True)
    clock = "CPU seconds" if args.cpu else "seconds"
    print(f"{clock}, median / **worst** (worst seed); computation over {seeds} seeds\n")
    print(table("computation", compute_rows))
    if process:
        print(f"\nwhole CLI process over {process} seeds\n")
        print(table("whole process", process_rows))
    print()
    for (parties, size), text in TARGETS.items():
        print(f"- target {text} (rows p{parties} {size})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
