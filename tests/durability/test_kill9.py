"""Kill -9 trials (G18): the server SIGKILLed during write bursts, restarted, checked.

Bounded for the suite (5 kills per backend); ``benchmarks/durability_trials.py`` runs
longer series. What each restart checks is in :mod:`benchmarks.durability`.
"""

from __future__ import annotations

import random
from pathlib import Path

from benchmarks import durability
from benchmarks.pgcluster import Cluster

KILLS = 5


def assert_held(series: durability.Series) -> None:
    assert series.cuts == KILLS
    assert series.acknowledged >= KILLS, series.line()  # every kill came during writes
    assert series.lost == 0, series.problems
    assert series.opened == series.audited == KILLS, series.problems
    assert series.problems == [], series.problems
    assert series.refused == [], series.refused


def test_kill_9_on_sqlite_loses_no_acknowledged_write(sqlite_world: durability.World) -> None:
    series = durability.run_series(
        "kill -9, SQLite", sqlite_world, durability.KillCut(), KILLS, random.Random(12)
    )
    assert_held(series)


def test_kill_9_on_postgresql_loses_no_acknowledged_write(
    crashable_postgres: Cluster, tmp_path: Path
) -> None:
    url = crashable_postgres.create_database("trials")
    world = durability.seed(url, tmp_path / "keys" / "kek.key")
    cut = durability.KillCut(crashable_postgres)  # the app and every PostgreSQL process
    series = durability.run_series("kill -9, PostgreSQL", world, cut, KILLS, random.Random(13))
    assert_held(series)
    log = crashable_postgres.log.read_text()
    assert log.count("automatic recovery in progress") >= KILLS  # a crash recovery per kill
