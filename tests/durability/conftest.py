"""Fixtures of the durability trials: the compiled power-cut shim and a seeded database.

The shim (``benchmarks/powercut_shim.c``) is compiled with the system C compiler into a
temporary folder once per session; without a compiler the fixture fails and says how
to install one (these tests never skip).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import durability, powercut
from benchmarks.pgcluster import Cluster, ClusterError
from conftest import server_binaries


@pytest.fixture(scope="session")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The power-cut shim, compiled for this session."""
    try:
        return powercut.compile_shim(tmp_path_factory.mktemp("shim"))
    except powercut.ShimUnavailable as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def sqlite_world(tmp_path: Path) -> durability.World:
    """A seeded SQLite database in ``tmp_path/db`` (a folder of its own, mode 0700)."""
    (tmp_path / "db").mkdir(mode=0o700)
    return durability.seed(f"sqlite:///{tmp_path / 'db' / 'bc.db'}", tmp_path / "keys" / "kek.key")


@pytest.fixture
def crashable_postgres() -> Iterator[Cluster]:
    """A PostgreSQL server of this test alone: the trial crashes it (the shared one of
    ``tests/conftest.py`` serves other tests meanwhile and must not be crashed)."""
    server_binaries()
    cluster = Cluster()
    try:
        cluster.create()
    except ClusterError as error:
        cluster.remove()
        pytest.fail(str(error), pytrace=False)
    yield cluster
    cluster.remove()
