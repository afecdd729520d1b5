"""Negotiation engine versus brute force versus NegMAS, side by side, with the targets.

Run with the project's environment (NegMAS runs in its own, ``.venv-bench``)::

    .venv/bin/python benchmarks/negotiation_bench.py [--quick]

For every instance (the Genius anchor domains, synthetic agendas with and without
red lines, and the sizes the targets name) it times, in one process and one run:

* the **engine** (``backchannel.solvers.engine``: the dispatcher a user calls):
  ``check`` (zone), ``clashes``, ``settle`` with the four rules and ``frontier``;
* the **brute force** (the NumPy enumeration, ``enumerate_settlements`` plus
  ``enumerate_frontier``), only up to :data:`BRUTE_FORCE_LIMIT` packages;
* **NegMAS** 0.16 (``pareto_frontier`` plus the four point functions), in a
  subprocess of ``.venv-bench`` with an address-space cap and a timeout (see
  ``negmas_baseline.py``), only without red lines (NegMAS has none), only for
  additive utilities and only up to :data:`NEGMAS_LIMIT` packages.

The comparable work is "every settlement rule plus the Pareto frontier" (engine
``settle`` + ``frontier``, brute force ``enumerate_settlements`` +
``enumerate_frontier``, NegMAS frontier + points); the ratios divide those. The
agreement column checks that the Nash values of all that ran are equal within
:data:`AGREEMENT_TOLERANCE`.

Times are medians of :data:`REPEATS` runs of the computation only (problem
generation, file loading and imports excluded; one untimed warm-up call first).
A method whose first run exceeds :data:`SLOW_SECONDS` is run once (``n=1``).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
NEGMAS_SCRIPT = BENCH_DIR / "negmas_baseline.py"
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
ANCHORS = Path(os.environ.get("BACKCHANNEL_ANCHORS", ROOT.parent / "shared/anchors/genius-domains"))

for _path in (ROOT / "src", ROOT):  # run as a script, even without an editable install
    if str(_path) not in sys.path:
        sys.path.insert(1, str(_path))

from backchannel.model.problem import (  # noqa: E402
    AdditiveUtility,
    ConstraintKind,
    Problem,
)

REPEATS = 3
SLOW_SECONDS = 20.0
TIME_LIMIT = 30.0
"""Per-call time limit handed to the engine (CP-SAT answers are anytime beyond it)."""
BRUTE_FORCE_LIMIT = 10**8
NEGMAS_LIMIT = 10**7
NEGMAS_TIMEOUT = 300.0
NEGMAS_MEM_GB = 12.0
AGREEMENT_TOLERANCE = 1e-6
DASH = "—"

T = TypeVar("T")


# --------------------------------------------------------------------------- helpers


def red_line_count(problem: Problem) -> int:
    """Number of red lines (every constraint that is not a reservation value)."""
    return sum(1 for c in problem.constraints if c.kind is not ConstraintKind.RESERVATION)


def negmas_payload(problem: Problem, name: str = "") -> dict[str, Any]:
    """The JSON problem ``negmas_baseline.py`` reads: option counts, tables, reservations.

    Raises ``ValueError`` for problems NegMAS cannot express (red lines, non-additive).
    """
    if red_line_count(problem):
        raise ValueError("NegMAS has no red lines")
    tables: list[list[list[float]]] = []
    for utility in problem.utilities:
        if not isinstance(utility, AdditiveUtility):
            raise ValueError("NegMAS baseline needs additive utilities")
        tables.append([[float(v) for v in table] for table in utility.tables])
    return {
        "name": name or problem.title,
        "issues": [issue.size for issue in problem.issues],
        "tables": tables,
        "reservations": [float(d) for d in problem.disagreement],
    }


def negmas_memory_gb(n_packages: int, parties: int) -> float:
    """NegMAS' peak memory for the exact frontier, extrapolated from research/perf.md §2.

    About 300 + 35·p bytes per outcome (340 B at p=2, 510 B at p=6 for 5^10
    outcomes) plus 150 MB of imports.
    """
    return (n_packages * (300 + 35 * parties) + 150e6) / 1e9


def fmt_seconds(value: float | None) -> str:
    """Seconds with 2-3 significant digits; ``—`` for missing."""
    if value is None:
        return DASH
    if value < 0.001:
        return "<0.001"
    if value < 1:
        return f"{value:.3f}"
    if value < 100:
        return f"{value:.3g}"
    return f"{value:.0f}"


def fmt_count(n: int) -> str:
    """A package count: exact below 10^5, else mantissa·10^e."""
    if n < 100_000:
        return str(n)
    exponent = len(str(n)) - 1
    return f"{n / 10**exponent:.2g}e{exponent}"


def fmt_ratio(numerator: float | None, denominator: float | None) -> str:
    """``a ÷ b`` as ``12×``; ``—`` when either is missing."""
    if numerator is None or denominator is None:
        return DASH
    if denominator <= 0:
        return "∞"
    ratio = numerator / denominator
    return f"{ratio:.2g}×" if ratio < 10 else f"{ratio:,.0f}×"


def values_agree(values: Sequence[float | None], tol: float = AGREEMENT_TOLERANCE) -> bool | None:
    """Whether every non-missing value is within ``tol`` of the others (None: fewer than 2)."""
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return None
    return max(present) - min(present) <= tol * max(1.0, *(abs(v) for v in present))


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table (cells are written as given)."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def with_reservations(problem: Problem, values: Sequence[float]) -> Problem:
    """The same problem with new reservation values (disagreement point and bounds)."""
    constraints = tuple(
        replace(c, bound=values[c.utility_party])
        if c.kind is ConstraintKind.RESERVATION and c.utility_party is not None
        else c
        for c in problem.constraints
    )
    return replace(
        problem,
        disagreement=tuple(float(v) for v in values),
        constraints=constraints,
        title=f"{problem.title}, reservations raised",
    )


def measure(fn: Callable[[], T], repeats: int, warm_up: bool = True) -> tuple[float, int, T]:
    """Median wall seconds of ``repeats`` calls (one untimed warm-up), run count, last result.

    A first timed call slower than :data:`SLOW_SECONDS` is not repeated.
    """
    if warm_up:
        start = time.perf_counter()
        result = fn()
        if time.perf_counter() - start > SLOW_SECONDS:
            return time.perf_counter() - start, 1, result
    times: list[float] = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        if times[-1] > SLOW_SECONDS:
            break
    return statistics.median(times), len(times), result


# --------------------------------------------------------------------------- NegMAS


def run_negmas(
    problem: Problem,
    timeout: float = NEGMAS_TIMEOUT,
    mem_gb: float = NEGMAS_MEM_GB,
    python: Path = BENCH_PYTHON,
) -> dict[str, Any]:
    """One NegMAS run in a capped subprocess; errors come back as ``{"error": ...}``."""
    payload = json.dumps(negmas_payload(problem))
    try:
        proc = subprocess.run(
            [str(python), str(NEGMAS_SCRIPT), "--mem-gb", str(mem_gb)],
            input=payload,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    except OSError as error:
        return {"error": f"cannot start {python}: {error.strerror}"}
    try:
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {tail[0][:120]}"}
    return result


def negmas_runs(problem: Problem, repeats: int) -> dict[str, Any]:
    """Median of up to ``repeats`` NegMAS runs (one when a run exceeds SLOW_SECONDS)."""
    results: list[dict[str, Any]] = []
    for _ in range(max(1, repeats)):
        result = run_negmas(problem)
        if result.get("error"):
            return result
        results.append(result)
        if result["seconds"] > SLOW_SECONDS:
            break
    best = dict(results[-1])
    best["seconds"] = statistics.median(r["seconds"] for r in results)
    best["cpu_seconds"] = statistics.median(r["cpu_seconds"] for r in results)
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in results)
    best["runs"] = len(results)
    return best


def negmas_reason(problem: Problem, anchor: bool) -> str | None:
    """Why NegMAS is not run on this problem (None: it runs)."""
    if not problem.is_additive:
        return f"{DASH} (non-linear)"
    if red_line_count(problem):
        return f"{DASH} (red lines)"
    if anchor and len(problem.utility_parties) != 2:
        return f"{DASH} ({len(problem.utility_parties)} parties)"
    if problem.n_packages > NEGMAS_LIMIT:
        need = negmas_memory_gb(problem.n_packages, len(problem.utility_parties))
        return f"cannot run (≈ {need:.3g} GB needed)"
    return None


# --------------------------------------------------------------------------- instances


@dataclass(frozen=True)
class Instance:
    """A benchmark problem: how to build it and what to run on it."""

    name: str
    build: Callable[[], Problem]
    anchor: bool = False
    negmas: bool = True


@dataclass
class Row:
    """Everything measured on one instance."""

    name: str
    parties: int = 0
    packages: int = 0
    red_lines: int = 0
    zone: float | None = None
    clashes: float | None = None
    settle: float | None = None
    per_rule: dict[str, float] = field(default_factory=dict)
    frontier: float | None = None
    frontier_points: int | None = None
    feasible: bool | None = None
    brute_force: float | None = None
    brute_force_note: str = DASH
    negmas: float | None = None
    negmas_mb: float | None = None
    negmas_note: str = DASH
    nash: dict[str, float | None] = field(default_factory=dict)
    welfare: dict[str, float | None] = field(default_factory=dict)
    clash_sizes: tuple[int, ...] = ()
    relaxation_cost: float | None = None
    minimal_set: float | None = None
    relaxation: float | None = None
    runs: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def engine_total(self) -> float | None:
        """Engine time for the comparable work: the four rules plus the frontier."""
        if self.settle is None or self.frontier is None:
            return None
        return self.settle + self.frontier

    @property
    def everything(self) -> float | None:
        """Engine time for every question: zone, clashes, four rules, frontier."""
        parts = (self.zone, self.clashes, self.settle, self.frontier)
        if any(p is None for p in parts):
            return None
        return sum(p for p in parts if p is not None)


def _synthetic(n: int, k: int, p: int, red_lines: int, seed: int = 0) -> Callable[[], Problem]:
    def build() -> Problem:
        from benchmarks.synthetic import make_problem

        return make_problem(n, k, p, red_lines_per_party=red_lines, seed=seed)

    return build


def _near_boundary(n: int, k: int, p: int, margin: float = 0.01) -> Callable[[], Problem]:
    """Reservations all set ``margin`` above the best max-min utility: infeasible."""

    def build() -> Problem:
        from backchannel.model.results import SettlementRule
        from backchannel.solvers import engine
        from benchmarks.synthetic import make_problem

        problem = make_problem(n, k, p, red_lines_per_party=3, seed=1)
        zero = with_reservations(problem, [0.0] * p)
        best = engine.settle(zero, [SettlementRule.EGALITARIAN], TIME_LIMIT)[
            SettlementRule.EGALITARIAN
        ]
        level = (best.value or 0.0) + margin
        return with_reservations(problem, [level] * p)

    return build


def _anchor(folder: Path) -> Callable[[], Problem]:
    def build() -> Problem:
        from backchannel.formats.cases import load_problem

        return load_problem(folder)[1]

    return build


def _label(n: int, k: int) -> str:
    return f"{k}^{n}" if n <= 12 else f"{n}×{k}"


def instances(quick: bool) -> list[Instance]:
    """The benchmark set (``quick``: a smoke-test subset)."""
    out: list[Instance] = []
    folders = sorted(p for p in ANCHORS.iterdir() if p.is_dir()) if ANCHORS.is_dir() else []
    if quick:
        keep = ("anac2010-EnglandZimbabwe", "anac2013-Ultimatum", "anac2015-group2-politics")
        folders = [f for f in folders if f.name in keep]
    out += [Instance(f"anchor {f.name}", _anchor(f), anchor=True) for f in folders]

    def synth(n: int, k: int, p: int, rl: int) -> Instance:
        tag = "+RL" if rl else "no RL"
        return Instance(f"{_label(n, k)} p{p} {tag}", _synthetic(n, k, p, rl))

    if quick:
        out += [synth(8, 5, 2, 0), synth(8, 5, 2, 3), synth(40, 6, 2, 3), synth(8, 5, 3, 3)]
        out.append(Instance("20×6 p2 infeasible", _near_boundary(20, 6, 2), negmas=False))
        return out
    for n, k in ((8, 5), (8, 6), (10, 5), (50, 5)):  # 2 parties
        out += [synth(n, k, 2, 0), synth(n, k, 2, 3)]
    out += [synth(n, 6, 2, 3) for n in (40, 80, 160, 320)]
    for p in (3, 6):
        for n, k in ((8, 5), (8, 6), (40, 6)):
            out += [synth(n, k, p, 0), synth(n, k, p, 3)]
    out += [synth(n, 6, 3, 3) for n in (80, 160, 320)]
    out += [
        Instance(f"{n}×6 p2 infeasible", _near_boundary(n, 6, 2), negmas=False)
        for n in (20, 40, 80)
    ]
    return out


# --------------------------------------------------------------------------- measuring


def clash_parts(
    problem: Problem,
) -> tuple[Callable[[], object], Callable[[], object]] | None:
    """The two halves of ``clashes`` as separate calls, to time them apart.

    ``engine.clashes`` answers both in one call (one guarded model, one
    infeasibility proof, then the clash sets and the relaxations). Timing the
    halves reaches into the CP-SAT module's internals (read-only): the minimal set
    is model + proof + one minimal set; the relaxation is model + weighted MaxSAT.
    Returns None when those internals are not there.
    """
    from backchannel.solvers.cpsat import clashes as module
    from backchannel.solvers.cpsat.package_model import Budget

    guarded = getattr(module, "Guarded", None)
    sets = getattr(module, "_clash_sets", None)
    relax = getattr(module, "_relaxations", None)
    if guarded is None or sets is None or relax is None:
        return None

    def minimal_set() -> object:
        g = guarded(problem, Budget(TIME_LIMIT))
        g.satisfiable(list(range(len(g.guards))))
        return sets(g, 1)

    def relaxation() -> object:
        return relax(guarded(problem, Budget(TIME_LIMIT)), 1)

    return minimal_set, relaxation


def _settle_value(answers: dict[Any, Any], rule: Any) -> float | None:
    settlement = answers.get(rule)
    return None if settlement is None else settlement.value


def bench_instance(inst: Instance, repeats: int) -> Row:
    """Measure one instance with the engine, the brute force and NegMAS."""
    from backchannel.model.results import SettlementRule, Status
    from backchannel.solvers import engine

    row = Row(inst.name)
    try:
        problem = inst.build()
    except Exception as error:
        row.notes.append(f"load failed: {type(error).__name__}: {error}")
        return row
    row.parties = len(problem.utility_parties)
    row.packages = problem.n_packages
    row.red_lines = red_line_count(problem)
    rules = list(SettlementRule)
    small = problem.n_packages <= engine.ENUMERATION_LIMIT

    def attempt(label: str, fn: Callable[[], T]) -> tuple[float | None, T | None]:
        try:
            seconds, runs, result = measure(fn, repeats)
        except Exception as error:
            row.notes.append(f"{label}: {type(error).__name__}: {str(error)[:100]}")
            return None, None
        row.runs = max(row.runs, runs)
        if runs == 1 and repeats > 1:
            row.notes.append(f"{label} n=1")
        return seconds, result

    row.zone, zone = attempt("check", lambda: engine.check(problem, TIME_LIMIT))
    if zone is not None:
        row.feasible = zone.exists
    row.clashes, found = attempt("clashes", lambda: engine.clashes(problem, 1, TIME_LIMIT))
    if found is not None and not found.feasible:
        row.clash_sizes = tuple(len(s.constraint_ids) for s in found.clash_sets)
        if found.relaxations:
            row.relaxation_cost = found.relaxations[0].cost
        parts = clash_parts(problem)
        if parts is None:
            row.notes.append("clash parts not measurable (CP-SAT internals changed)")
        else:
            row.minimal_set, _ = attempt("minimal clash set", parts[0])
            row.relaxation, _ = attempt("cheapest relaxation", parts[1])
            row.notes.append(
                f"minimal clash set {fmt_seconds(row.minimal_set)} s "
                f"(size {', '.join(map(str, row.clash_sizes)) or '?'}), cheapest "
                f"relaxation {fmt_seconds(row.relaxation)} s (cost {row.relaxation_cost})"
            )
    if row.parties >= 3 and not small:  # each rule is its own CP-SAT solve: time them apart
        answers: dict[Any, Any] = {}
        total = 0.0
        for rule in rules:
            one_rule = functools.partial(engine.settle, problem, [rule], TIME_LIMIT)
            seconds, one = attempt(f"settle {rule.value}", one_rule)
            if seconds is None or one is None:
                total = math.nan
                continue
            row.per_rule[rule.value] = seconds
            total += seconds
            answers.update(one)
        row.settle = None if math.isnan(total) else total
    else:
        row.settle, answers_or_none = attempt(
            "settle", lambda: engine.settle(problem, rules, TIME_LIMIT)
        )
        answers = answers_or_none or {}
    for rule, settlement in answers.items():
        if settlement.status not in (Status.OPTIMAL, Status.INFEASIBLE):
            row.notes.append(f"{rule.value}: {settlement.status.value}")
    row.frontier, front = attempt("frontier", lambda: engine.frontier(problem, TIME_LIMIT))
    if front is not None:
        row.frontier_points = len(front.points)
    row.nash["engine"] = _settle_value(answers, SettlementRule.NASH)
    row.welfare["engine"] = _settle_value(answers, SettlementRule.WELFARE)

    if problem.n_packages <= BRUTE_FORCE_LIMIT:
        from backchannel.solvers.enumeration import enumerate_frontier, enumerate_settlements

        def brute() -> dict[Any, Any]:
            found_answers = enumerate_settlements(problem, rules)
            enumerate_frontier(problem)
            return found_answers

        row.brute_force, bf = attempt("brute force", brute)
        if bf is not None:
            row.nash["brute force"] = _settle_value(bf, SettlementRule.NASH)
            row.welfare["brute force"] = _settle_value(bf, SettlementRule.WELFARE)
    else:
        row.brute_force_note = f"{DASH} (> 10^8)"

    reason = negmas_reason(problem, inst.anchor) if inst.negmas else f"{DASH} (red lines)"
    if reason is not None:
        row.negmas_note = reason
    elif not BENCH_PYTHON.exists():
        row.negmas_note = f"{DASH} (no .venv-bench)"
    else:
        result = negmas_runs(problem, repeats)
        if result.get("error"):
            row.negmas_note = str(result["error"])
            row.negmas_mb = result.get("peak_rss_mb")
        else:
            row.negmas = float(result["seconds"])
            row.negmas_mb = float(result["peak_rss_mb"])
            row.nash["NegMAS"] = result["nash_value"]
            row.welfare["NegMAS"] = result["welfare_value"]
            if result.get("runs", 1) == 1 and repeats > 1:
                row.notes.append("NegMAS n=1")
            if row.parties == 2 and row.frontier_points != result["frontier_size"]:
                row.notes.append(
                    f"frontier points engine {row.frontier_points} / NegMAS "
                    f"{result['frontier_size']}"
                )
    if values_agree(list(row.welfare.values())) is False:
        row.notes.append(
            "welfare differs: " + ", ".join(f"{k} {v!r}" for k, v in row.welfare.items())
        )
    return row


# --------------------------------------------------------------------------- reporting

HEADERS = (
    "instance",
    "p",
    "packages",
    "RL",
    "zone",
    "clashes",
    "settle (4 rules)",
    "frontier (pts)",
    "engine S+F",
    "brute force S+F",
    "NegMAS F+4",
    "NegMAS MB",
    "BF ÷ engine",
    "NegMAS ÷ engine",
    "Nash agrees",
)


def agreement_cell(row: Row) -> str:
    """``yes (3)``: all that ran agree on the Nash value; ``NO`` with the values otherwise."""
    values = list(row.nash.values())
    verdict = values_agree(values)
    present = [v for v in values if v is not None]
    if verdict is None:
        if row.feasible is False:
            return "n/a (no zone)"
        return f"{DASH} (1 method)" if present else DASH
    if verdict:
        return f"yes ({len(present)})"
    return "NO: " + ", ".join(f"{k} {v:.9g}" for k, v in row.nash.items() if v is not None)


def table_row(row: Row) -> list[str]:
    """The cells of one row of the main table."""
    settle = fmt_seconds(row.settle)
    if row.per_rule:
        settle += f" (max {fmt_seconds(max(row.per_rule.values()))})"
    frontier = fmt_seconds(row.frontier)
    if row.frontier_points is not None:
        frontier += f" ({row.frontier_points})"
    brute = fmt_seconds(row.brute_force) if row.brute_force is not None else row.brute_force_note
    negmas = fmt_seconds(row.negmas) if row.negmas is not None else row.negmas_note
    return [
        row.name,
        str(row.parties),
        fmt_count(row.packages),
        str(row.red_lines),
        fmt_seconds(row.zone),
        fmt_seconds(row.clashes),
        settle,
        frontier,
        fmt_seconds(row.engine_total),
        brute,
        negmas,
        f"{row.negmas_mb:.0f}" if row.negmas_mb is not None else DASH,
        fmt_ratio(row.brute_force, row.engine_total),
        fmt_ratio(row.negmas, row.engine_total),
        agreement_cell(row),
    ]


@dataclass(frozen=True)
class Target:
    """One performance target: a limit on a measured quantity over some rows."""

    text: str
    limit: float
    rows: tuple[str, ...]
    measure: Callable[[Row], float | None]
    higher_is_better: bool = False


def targets() -> list[Target]:
    """The targets of the issue, each tied to the rows that measure it."""

    def small(p: int, rl: str = "+RL") -> tuple[str, ...]:
        return (f"5^8 p{p} {rl}", f"6^8 p{p} {rl}")

    def rule_max(row: Row) -> float | None:
        return max(row.per_rule.values()) if len(row.per_rule) == 4 else None

    def speed_up(row: Row) -> float | None:
        if row.negmas is None or not row.engine_total:
            return None
        return row.negmas / row.engine_total

    def two_party_max(row: Row) -> float | None:
        parts = (row.zone, row.clashes, row.settle, row.frontier)
        return None if any(x is None for x in parts) else max(x for x in parts if x is not None)

    sizes_2p = ("40×6 p2 +RL", "80×6 p2 +RL", "160×6 p2 +RL", "320×6 p2 +RL")
    infeasible = ("20×6 p2 infeasible", "40×6 p2 infeasible", "80×6 p2 infeasible")
    return [
        Target(
            "small agendas (≤ 2·10^6), 2 parties: every question exact ≤ 0.3 s",
            0.3,
            small(2),
            lambda r: r.everything,
        ),
        Target(
            "small agendas (≤ 2·10^6), 3 parties: every question exact ≤ 0.3 s",
            0.3,
            small(3),
            lambda r: r.everything,
        ),
        Target(
            "small agendas (≤ 2·10^6), 6 parties: every question exact ≤ 0.5 s",
            0.5,
            small(6),
            lambda r: r.everything,
        ),
        Target(
            "6^8: engine ≥ 50× faster than NegMAS (rules + frontier, no red lines)",
            50.0,
            ("6^8 p2 no RL", "6^8 p3 no RL", "6^8 p6 no RL"),
            speed_up,
            higher_is_better=True,
        ),
        Target(
            "2 parties: zone, clashes, 4 rules, exact frontier each ≤ 0.1 s up to 320×6",
            0.1,
            sizes_2p,
            two_party_max,
        ),
        Target(
            "3 parties: each rule ≤ 0.5 s up to 160×6",
            0.5,
            ("40×6 p3 +RL", "80×6 p3 +RL", "160×6 p3 +RL"),
            rule_max,
        ),
        Target("3 parties: each rule ≤ 1.5 s at 320×6", 1.5, ("320×6 p3 +RL",), rule_max),
        Target("6 parties: each rule ≤ 5 s at 40×6", 5.0, ("40×6 p6 +RL",), rule_max),
        Target(
            "2 parties, infeasible: minimal clash set ≤ 0.3 s up to 80×6",
            0.3,
            infeasible,
            lambda r: r.minimal_set,
        ),
        Target(
            "2 parties, infeasible: cheapest relaxation ≤ 0.1 s up to 80×6",
            0.1,
            infeasible,
            lambda r: r.relaxation,
        ),
    ]


def target_rows(rows: Sequence[Row]) -> list[list[str]]:
    """One line per target: the worst measured value over its rows and PASS/MISS."""
    by_name = {r.name: r for r in rows}
    out: list[list[str]] = []
    for target in targets():
        measured = [
            (name, target.measure(by_name[name])) for name in target.rows if name in by_name
        ]
        values = [(n, v) for n, v in measured if v is not None]
        if not measured:
            out.append([target.text, DASH, "not run"])
            continue
        if len(values) < len(measured):
            missing = ", ".join(n for n, v in measured if v is None)
            out.append([target.text, f"no figure for {missing}", "MISS"])
            continue
        pick = min if target.higher_is_better else max
        name, worst = pick(values, key=lambda item: item[1])
        ok = worst >= target.limit if target.higher_is_better else worst <= target.limit
        shown = fmt_ratio(worst, 1.0) if target.higher_is_better else f"{fmt_seconds(worst)} s"
        detail = f"worst {shown} ({name}); " + ", ".join(
            f"{n}: {fmt_ratio(v, 1.0) if target.higher_is_better else fmt_seconds(v)}"
            for n, v in values
        )
        out.append([target.text, detail, "PASS" if ok else "MISS"])
    return out


def machine() -> str:
    """A one-line description of the machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages / 2**30:.0f} GiB"
    except (ValueError, OSError):
        memory = "? GiB"
    return f"{os.cpu_count()} cores ({cpu}), {memory}, Python {platform.python_version()}"


def report(rows: Sequence[Row]) -> str:
    """The main table, the targets table and the notes, as Markdown."""
    parts = [format_table(HEADERS, [table_row(r) for r in rows])]
    notes = [f"* {r.name}: {'; '.join(r.notes)}" for r in rows if r.notes]
    if notes:
        parts += ["", "Notes:", *notes]
    parts += ["", format_table(("target", "measured", "result"), target_rows(rows))]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a reduced set, one run each")
    parser.add_argument("--only", default="", help="run only instances whose name contains this")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else REPEATS
    chosen = [i for i in instances(args.quick) if args.only in i.name]

    from backchannel.model.results import SettlementRule
    from backchannel.solvers import engine
    from benchmarks.synthetic import make_problem

    warm = make_problem(4, 3, 2)  # load every lazy import before timing
    engine.check(warm), engine.settle(warm, list(SettlementRule)), engine.frontier(warm)

    print(f"# Negotiation engine benchmark ({'quick' if args.quick else 'full'})")
    print(f"machine: {machine()}")
    print(f"NegMAS: {BENCH_PYTHON if BENCH_PYTHON.exists() else 'not installed'}")
    print(f"runs: median of {repeats} after a warm-up; engine time limit {TIME_LIMIT:.0f} s\n")
    rows: list[Row] = []
    started = time.perf_counter()
    for inst in chosen:
        t0 = time.perf_counter()
        rows.append(bench_instance(inst, repeats))
        print(f"  {inst.name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    print(report(rows))
    print(f"\ntotal benchmark wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
