"""NegMAS baseline: Pareto frontier and bargaining points of one additive problem.

Benchmark-only. Run it with the separate benchmark environment, never with the
project's own::

    .venv-bench/bin/python benchmarks/negmas_baseline.py [--mem-gb 8] < problem.json

NegMAS is AGPL-licensed: it is used here only as an external baseline, in its own
virtual environment and its own process. Nothing in Backchannel imports this
script or NegMAS, and this script does not import Backchannel.

Input (JSON on stdin)::

    {"name": "...", "issues": [k_0, k_1, ...],
     "tables": [[[v_p00, v_p01, ...], ...issue 1..., ...], ...party 1..., ...],
     "reservations": [d_0, d_1, ...]}

``tables[p][i][o]`` is party ``p``'s utility contribution of option ``o`` of issue
``i``; the utility of a package is the plain sum of its contributions, so each
NegMAS ``LinearAdditiveUtilityFunction`` is built with weights 1 and table value
functions equal to these contributions, and ``reserved_value`` equal to the
reservation: the utilities are the same numbers as Backchannel's.

Output (one JSON object on stdout)::

    {"seconds", "cpu_seconds", "peak_rss_mb", "n_outcomes", "frontier_size",
     "nash_value", "welfare_value", "egalitarian_value", "ks_utilities", "error"}

``seconds`` is the wall time of ``pareto_frontier`` plus ``nash_points``,
``kalai_points`` (NegMAS' name for the egalitarian point), ``ks_points`` and
``max_welfare_points``; imports and ufun construction are excluded. The Nash value
is the product of the gains ``u_p - d_p`` at NegMAS' Nash point with ``d_p`` the
given reservation (the ranges passed to NegMAS use the reservation as their
lower end, so NegMAS maximises the same product). ``error`` is ``null`` on
success, else ``"MemoryError"`` or the exception's text; the process still exits
with status 0 and prints valid JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from typing import Any

GIB = 1024**3


def cap_memory(gigabytes: float) -> None:
    """Limit this process's address space so that an oversized run fails cleanly."""
    limit = int(gigabytes * GIB)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def peak_rss_mb() -> float:
    """Peak resident set of this process, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _product(values: list[float]) -> float:
    result = 1.0
    for value in values:
        result *= value
    return result


def solve(payload: dict[str, Any]) -> dict[str, Any]:
    """Build the NegMAS ufuns for ``payload`` and time frontier plus the four points."""
    from negmas import make_issue
    from negmas.preferences import LinearAdditiveUtilityFunction
    from negmas.preferences.ops import (
        kalai_points,
        ks_points,
        max_welfare_points,
        nash_points,
        pareto_frontier,
    )
    from negmas.preferences.value_fun import TableFun

    sizes = [int(k) for k in payload["issues"]]
    tables = payload["tables"]
    reservations = [float(r) for r in payload["reservations"]]
    issues = [make_issue(values=k, name=f"i{i}") for i, k in enumerate(sizes)]
    ufuns = [
        LinearAdditiveUtilityFunction(
            values=[TableFun({o: float(v) for o, v in enumerate(table)}) for table in party_tables],
            weights=[1.0] * len(sizes),
            issues=issues,
            reserved_value=reservation,
        )
        for party_tables, reservation in zip(tables, reservations, strict=True)
    ]
    highest = [sum(max(float(v) for v in table) for table in party) for party in tables]
    ranges = [(r, hi) for r, hi in zip(reservations, highest, strict=True)]

    wall0, cpu0 = time.perf_counter(), time.process_time()
    frontier, _indices = pareto_frontier(ufuns, issues=issues)
    nash = nash_points(ufuns, frontier, ranges=ranges) if frontier else ()
    egal = kalai_points(ufuns, frontier, ranges=ranges) if frontier else ()
    ks = ks_points(ufuns, frontier, ranges=ranges) if frontier else ()
    welfare = max_welfare_points(ufuns, frontier, ranges=ranges) if frontier else ()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0

    def gains(point: tuple[float, ...]) -> list[float]:
        return [max(0.0, float(u) - d) for u, d in zip(point, reservations, strict=True)]

    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak_rss_mb(),
        "n_outcomes": math.prod(sizes),
        "frontier_size": len(frontier),
        "nash_value": _product(gains(nash[0][0])) if nash else None,
        "welfare_value": float(sum(welfare[0][0])) if welfare else None,
        "egalitarian_value": min(gains(egal[0][0])) if egal else None,
        "ks_utilities": [float(u) for u in ks[0][0]] if ks else None,
        "error": None,
    }


def main(argv: list[str] | None = None) -> int:
    """Read the problem on stdin, print the result as JSON on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mem-gb", type=float, default=8.0, help="address-space cap (GB)")
    args = parser.parse_args(argv)
    cap_memory(args.mem_gb)
    payload = json.load(sys.stdin)
    try:
        result = solve(payload)
    except MemoryError:
        result = {"error": "MemoryError", "peak_rss_mb": peak_rss_mb()}
    except Exception as error:  # report any failure as data, not as a crash
        result = {"error": f"{type(error).__name__}: {error}", "peak_rss_mb": peak_rss_mb()}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
