"""Power-cut trials (G19): SQLite under the LD_PRELOAD shim, cut during write bursts.

A cut keeps only what was fsynced (``benchmarks/powercut.py``); the restarted server
must have every acknowledged write, an intact database and a verifying audit log. The
negative control forces ``synchronous=OFF`` and must lose acknowledged writes: it
shows that the trial sees a loss when there is one. Bounded for the suite (10 cuts);
``benchmarks/durability_trials.py`` runs 100.
"""

from __future__ import annotations

import random
from pathlib import Path

from benchmarks import durability

CUTS = 10


def power_cut(
    shim: Path, world: durability.World, mix: random.Random | None = None
) -> durability.PowerCut:
    folder = world.key.parent.parent
    return durability.PowerCut(shim, folder / "db", folder / "shadow", mix)


def test_power_cuts_lose_no_acknowledged_write(shim: Path, sqlite_world: durability.World) -> None:
    rng = random.Random(19)
    series = durability.run_series(
        "power cut", sqlite_world, power_cut(shim, sqlite_world), CUTS, rng
    )
    assert series.cuts == CUTS
    assert series.acknowledged >= CUTS, series.line()
    assert series.lost == 0, series.problems
    assert series.opened == series.audited == CUTS, series.problems
    assert series.problems == [], series.problems  # the shim saw nothing outside its model
    assert series.refused == [], series.refused


def test_negative_control_synchronous_off_loses_acknowledged_writes(
    shim: Path, sqlite_world: durability.World
) -> None:
    series = durability.run_series(
        "power cut, synchronous=OFF",
        sqlite_world,
        power_cut(shim, sqlite_world),
        3,
        random.Random(20),
        synchronous="OFF",
        stop_on_loss=True,
    )
    assert series.lost > 0, series.line()
    assert any("lost" in p for p in series.problems)
