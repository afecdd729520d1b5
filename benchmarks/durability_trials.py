"""The long durability trials: power cuts and kill -9 through the HTTP server, with figures.

::

    .venv/bin/python benchmarks/durability_trials.py [--cuts 100] [--mixed-cuts 0]
        [--kills 20] [--control-cuts 3] [--normal-cuts 0] [--seed 1]
        [--only power|mixed|control|normal|sqlite|postgresql]

Runs, each on a freshly seeded database (see :mod:`benchmarks.durability` for what a
trial does and checks):

* ``--cuts`` power cuts on SQLite under the LD_PRELOAD shim (every unsynced write lost);
* ``--mixed-cuts`` power cuts where each unsynced 4 KiB block survives at random;
* the negative control: power cuts with ``synchronous=OFF`` forced, which must lose
  acknowledged writes (up to ``--control-cuts``, stopping at the first loss);
* ``--normal-cuts`` power cuts with ``synchronous=NORMAL`` forced (the WAL is synced only
  at checkpoints), reported with the losses they show (a loss is what it must show);
* ``--kills`` kill -9 trials on SQLite and on PostgreSQL (the app and every PostgreSQL
  process killed; a throw-away cluster, ``make postgres`` installs the binaries).

After every restart the audit chain is verified (``backchannel audit verify``'s function,
in this process), and after the last one the command itself runs too. Prints one line
per cut and the figures per series; exit status 1 when a safe series lost a write or
failed a check, or when the negative control lost nothing.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run by path: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import durability, powercut
from benchmarks.pgcluster import Cluster

SERIES = ("power", "mixed", "control", "normal", "sqlite", "postgresql")


def one_series(
    name: str, count: int, rng: random.Random, library: Path
) -> tuple[durability.Series, bool]:
    """Run series ``name``; return it and whether it behaved as it must."""
    tmp = Path(tempfile.mkdtemp(prefix="backchannel-durability-"))
    cluster: Cluster | None = None
    try:
        key = tmp / "keys" / "kek.key"
        if name == "postgresql":
            cluster = Cluster()
            cluster.create()
            world = durability.seed(cluster.create_database("trials"), key)
        else:
            (tmp / "db").mkdir(mode=0o700)
            world = durability.seed(f"sqlite:///{tmp / 'db' / 'bc.db'}", key)
        cut: durability.Cut
        if name in ("power", "mixed", "control", "normal"):
            mix = rng if name == "mixed" else None
            cut = durability.PowerCut(library, tmp / "db", tmp / "shadow", mix)
        else:
            cut = durability.KillCut(cluster)
        label = {
            "power": "power cut (SQLite, unsynced writes lost)",
            "mixed": "power cut (SQLite, unsynced blocks kept at random)",
            "control": "negative control (SQLite, synchronous=OFF forced)",
            "normal": "negative control (SQLite, synchronous=NORMAL forced)",
            "sqlite": "kill -9 (SQLite)",
            "postgresql": "kill -9 (PostgreSQL: app and database server)",
        }[name]
        say: Callable[[str], None] = lambda line: print(f"  {line}", flush=True)  # noqa: E731
        series = durability.run_series(
            label,
            world,
            cut,
            count,
            rng,
            synchronous={"control": "OFF", "normal": "NORMAL"}.get(name),
            cli_audit=True,
            stop_on_loss=name == "control",
            progress=say,
        )
        if name in ("control", "normal"):
            return series, series.lost > 0
        held = not series.lost and not series.problems and not series.refused
        return series, held and series.opened == series.audited == series.cuts
    finally:
        if cluster is not None:
            cluster.remove()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Run the series asked for; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cuts", type=int, default=100)
    parser.add_argument("--mixed-cuts", type=int, default=0)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--control-cuts", type=int, default=3)
    parser.add_argument("--normal-cuts", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=SERIES, action="append")
    args = parser.parse_args(argv)
    counts = {
        "power": args.cuts,
        "mixed": args.mixed_cuts,
        "control": args.control_cuts,
        "normal": args.normal_cuts,
        "sqlite": args.kills,
        "postgresql": args.kills,
    }
    chosen = [s for s in (args.only or SERIES) if counts[s] > 0]
    rng = random.Random(args.seed)
    build = Path(tempfile.mkdtemp(prefix="backchannel-shim-"))
    ok = True
    results = []
    try:
        library = powercut.compile_shim(build)
        for name in chosen:
            print(f"# {name}: {counts[name]}", flush=True)
            series, held = one_series(name, counts[name], rng, library)
            results.append((series, held))
            ok = ok and held
    finally:
        shutil.rmtree(build, ignore_errors=True)
    print("\n# figures")
    for series, held in results:
        print(f"{series.line()} -> {'as required' if held else 'NOT AS REQUIRED'}")
        for problem in series.problems[:10]:
            print(f"    {problem}")
        for refusal in series.refused[:5]:
            print(f"    refused: {refusal}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
