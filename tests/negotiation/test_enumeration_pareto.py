"""The Pareto filter on utility keys equals a quadratic definition-level filter."""

from __future__ import annotations

import numpy as np
import pytest

from backchannel.solvers.scoring import nondominated


def naive(points: np.ndarray, order: np.ndarray) -> set[int]:
    """Rows not dominated by any other row; the smallest ``order`` among equal rows."""
    kept = set()
    for row in points:
        beaten = np.all(points >= row, axis=1) & np.any(points != row, axis=1)
        if beaten.any():
            continue
        same = np.flatnonzero(np.all(points == row, axis=1))
        kept.add(int(same[np.argmin(order[same])]))
    return kept


@pytest.mark.parametrize("parties", [1, 2, 3, 6])
def test_nondominated_equals_quadratic_filter(parties: int) -> None:
    rng = np.random.default_rng(parties)
    # Large enough for the pivot pre-filter and several blocks; small ranges make duplicates.
    points = rng.integers(0, 12, size=(4500, parties)).astype(np.int64)
    points[:, 0] = 11 - points[:, 1 % parties] // 2 if parties > 1 else points[:, 0]
    order = rng.permutation(points.shape[0]).astype(np.int64)
    got = nondominated(points, order)
    assert set(got.tolist()) == naive(points, order)
    assert len(got) == len(set(got.tolist()))
    keys = [tuple(points[i]) for i in got]
    assert keys == sorted(keys)


def test_empty_input() -> None:
    assert nondominated(np.zeros((0, 3), dtype=np.int64), np.zeros(0, dtype=np.int64)).size == 0
