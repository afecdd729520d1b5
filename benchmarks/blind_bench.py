"""Benchmark of blind mode: whole runs on loopback, one OS process per party.

Each line is the worst of ``--runs`` runs of one finding on one synthetic agenda
(random ratings, a few red lines each, reservation 0.3), with 3 parties (2 delegations
and 1 helper) and 5 parties (2 delegations and 3 helpers). Columns: wall time of the
whole run including process start-up, the slowest party's own time (from its job read
to its shutdown, start-up of Python excluded), the largest peak resident memory of a
party and the bytes party 0 sent. The opened finding is printed too, and the load average
(1 minute) when the line's runs ended.

Usage::

    .venv/bin/python benchmarks/blind_bench.py [--runs 3] [--quick] [--only FINDING]
        [--parties 3|5] [--issues N] [--tls] [--cold]

The parties are forked from a warm party server (:mod:`backchannel.blind.warm`), as
``backchannel blind evaluate`` runs them; the server is started (and its start-up timed,
with a first small run) before the first line. ``--cold`` starts a fresh interpreter per
party instead, as a real node's ``backchannel node run`` does. With ``--tls`` the parties
connect as real nodes do (``backchannel node run``): over TLS,
each with a throwaway certificate that the others pin to its index (what ``backchannel
blind evaluate`` does too); without it, over plain loopback TCP.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from backchannel.blind.local import links
from backchannel.blind.plan import Finding, make_plan
from backchannel.blind.run import BlindResult, run_blind
from backchannel.model.case import Case
from backchannel.model.compile import compile_case
from backchannel.services.node import private_folder, throwaway_credentials

# (finding, issues, options): the targets of issue 13
SIZES = [
    (Finding.OVERLAP, 8, 6),
    (Finding.REDLINES, 8, 6),
    (Finding.EXISTS, 7, 4),
    (Finding.EXISTS, 8, 4),
    (Finding.NASH, 7, 4),
    (Finding.NASH, 8, 4),
    (Finding.RANDOM, 4, 4),
]
QUICK = SIZES[:3] + SIZES[4:5]


def synthetic_case(issues: int, options: int, delegations: int = 2, seed: int = 7) -> Case:
    """A random agenda whose delegations each hold two red lines and a reservation of 0.3."""
    rng = np.random.default_rng(seed)
    names = [f"i{k}" for k in range(issues)]
    parties: list[dict[str, Any]] = []
    for d in range(delegations):
        weights = rng.multinomial(100, np.full(issues, 1 / issues))
        parties.append(
            {
                "name": f"side{d}",
                "weights": {n: int(w) for n, w in zip(names, weights, strict=True)},
                "ratings": {
                    n: {f"o{o}": int(rng.integers(0, 11)) * 10 for o in range(options)}
                    for n in names
                },
                "red_lines": [
                    {"id": f"s{d}a", "forbid": {"issue": names[d], "options": ["o0"]}},
                    {
                        "id": f"s{d}b",
                        "if": {"issue": names[1 + d], "options": ["o1"]},
                        "then": {"issue": names[2 + d], "options": ["o1", "o2"]},
                    },
                ],
                "reservation": 0.3,
            }
        )
    issue_docs = [
        {"name": n, "kind": "ordered", "options": [f"o{o}" for o in range(options)]} for n in names
    ]
    return Case.model_validate({"title": "blind bench", "issues": issue_docs, "parties": parties})


def _opened(result: BlindResult) -> str:
    o = result.opened
    if o.overlap is not None:
        return "overlap " + "".join("1" if b else "0" for b in o.overlap)
    if result.plan.finding in (Finding.NASH, Finding.RANDOM):
        return f"package {o.package}"
    return f"exists {o.exists}"


def run(
    finding: Finding,
    issues: int,
    options: int,
    helpers: int,
    runs: int,
    tls: bool = False,
    cold: bool = False,
) -> str:
    """Worst of ``runs`` whole runs of one finding; one formatted line."""
    case = synthetic_case(issues, options)
    plan = make_plan(finding, (options,) * issues, 2, helpers, links(compile_case(case)))
    with private_folder() as folder:
        parties = throwaway_credentials(plan.parties, Path(folder)) if tls else None
        results = [
            run_blind(case, plan, timeout=3600, credentials=parties, warm=not cold)
            for _ in range(runs)
        ]
    wall = max(r.wall_seconds for r in results)
    party = max(p.seconds for r in results for p in r.parties)
    rss = max(p.peak_rss_bytes for r in results for p in r.parties) / 2**20
    sent = max(sum(r.parties[0].bytes_sent.values()) for r in results) / 2**20
    return (
        f"| {finding.value} | {issues} x {options} | {plan.packages:,} | {plan.parties} "
        f"| {wall:.2f} | {party:.2f} | {rss:.0f} | {sent:.1f} | {_opened(results[0])} "
        f"| {os.getloadavg()[0]:.1f} |"
    )


def main(argv: list[str] | None = None) -> None:
    """Print one Markdown table row per finding, agenda and party count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per line (worst is shown)")
    parser.add_argument("--quick", action="store_true", help="smaller set: 16,384 packages")
    parser.add_argument("--only", choices=[f.value for f in Finding], help="one finding only")
    parser.add_argument("--parties", type=int, choices=[3, 5], help="one party count only")
    parser.add_argument("--issues", type=int, help="agendas with this many issues only")
    parser.add_argument("--tls", action="store_true", help="pinned TLS between the parties")
    parser.add_argument(
        "--cold", action="store_true", help="a fresh interpreter per party, not forked warm"
    )
    args = parser.parse_args(argv)
    if not args.cold:
        started = time.perf_counter()
        plan = make_plan(Finding.OVERLAP, (3,) * 4, 2, 1)
        run_blind(synthetic_case(4, 3), plan, timeout=600, warm=True)
        print(f"party server started and a first run done in {time.perf_counter() - started:.2f} s")
    print("| finding | agenda | packages | parties | wall s | slowest party s ", end="")
    print("| peak MB | MB sent | opened | load |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for finding, issues, options in QUICK if args.quick else SIZES:
        if (args.only and finding.value != args.only) or args.issues not in (None, issues):
            continue
        for parties in (3, 5):
            if args.parties and parties != args.parties:
                continue
            line = run(finding, issues, options, parties - 2, args.runs, args.tls, args.cold)
            print(line, flush=True)


if __name__ == "__main__":
    main()
