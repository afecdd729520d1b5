"""Pareto-frontier points kept as arrays, and evenly spread subsets of them.

A 2-party frontier can have 10^5 points of hundreds of issues each: the engines return
them as two arrays (:class:`FrontierPoints`), which printing reads block by block; a
:class:`~backchannel.model.results.FrontierPoint` is made only for a point asked for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from backchannel.model.results import FrontierPoint

IntMatrix = NDArray[np.integer[Any]]
"""Option indices: any integer type (the frontier programme uses the smallest that fits)."""
FloatMatrix = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class FrontierPoints(Sequence[FrontierPoint]):
    """Frontier points as arrays: a sequence of :class:`FrontierPoint` made on demand.

    ``packages`` holds one option-index vector per row, ``(points, issues)``, of any
    integer type and memory order (the 2-party frontier programme gives the smallest
    type that fits, in Fortran order: 10^5 points of 320 issues are 32 MB in bytes and
    256 MB in 64-bit integers);
    ``utilities`` the utilities of each party with preferences, ``(points, parties)``.
    """

    packages: IntMatrix
    utilities: FloatMatrix

    @classmethod
    def of(cls, points: Iterable[FrontierPoint], issues: int, parties: int) -> FrontierPoints:
        """The arrays of ``points`` (each of ``issues`` options and ``parties`` utilities)."""
        listed = list(points)
        packages = np.array([p.package for p in listed], dtype=np.int64).reshape(-1, issues)
        utilities = np.array([p.utilities for p in listed], dtype=np.float64)
        return cls(packages, utilities.reshape(-1, parties))

    def __len__(self) -> int:
        return int(self.packages.shape[0])

    @overload
    def __getitem__(self, index: int) -> FrontierPoint: ...

    @overload
    def __getitem__(self, index: slice) -> FrontierPoints: ...

    def __getitem__(self, index: int | slice) -> FrontierPoint | FrontierPoints:
        if isinstance(index, slice):
            return FrontierPoints(self.packages[index], self.utilities[index])
        package = tuple(int(o) for o in self.packages[index])
        return FrontierPoint(package, tuple(float(u) for u in self.utilities[index]))

    def __iter__(self) -> Iterator[FrontierPoint]:
        for package, utilities in zip(self.packages.tolist(), self.utilities.tolist(), strict=True):
            yield FrontierPoint(tuple(package), tuple(utilities))

    def take(self, rows: Sequence[int] | NDArray[np.int64]) -> FrontierPoints:
        """The points of ``rows``, in that order, their packages in the same memory order.

        Packages stored issue by issue (Fortran order) are read issue by issue: gathering
        whole rows of them would read each option from a different cache line.
        """
        index = np.asarray(rows, dtype=np.int64)
        packages, count = self.packages, len(self)
        if packages.ndim != 2 or abs(packages.strides[0]) >= abs(packages.strides[1]):
            return FrontierPoints(packages[index], self.utilities[index])
        index = np.where(index < 0, index + count, index)
        if packages.strides[0] < 0:  # the points stored last first: read them forward
            forward = np.take(packages[::-1].T, count - 1 - index[::-1], axis=1)
            return FrontierPoints(forward.T[::-1], self.utilities[index])
        return FrontierPoints(np.take(packages.T, index, axis=1).T, self.utilities[index])


def spread(utilities: FloatMatrix, limit: int) -> tuple[NDArray[np.int64], float]:
    """Rows of at most ``limit`` points spread evenly over the others, and their gap.

    Greedy farthest-point selection (Gonzalez's k-centre heuristic): first the point
    best for the first party (the first such row), then, each time, the point farthest
    (Euclidean distance in utility) from all chosen so far. On a 2-party frontier the
    second choice is the other end, and the next ones halve the largest remaining gaps.
    The gap is the largest distance from any point to its nearest chosen point; no set
    of ``limit`` points can have a gap below half of it.

    Parameters
    ----------
    utilities:
        ``(points, parties)``.
    limit:
        At least 1.

    Returns
    -------
    tuple
        The chosen rows in increasing order, and the gap (0.0 when every row is chosen).
    """
    n = utilities.shape[0]
    if limit >= n:
        return np.arange(n, dtype=np.int64), 0.0
    # squared distances, one contiguous column at a time into reused buffers: the same
    # choices as the distances themselves, 3-4 times faster at 10^5 points
    columns = np.ascontiguousarray(utilities.T, dtype=np.float64)
    chosen = np.empty(limit, dtype=np.int64)
    chosen[0] = int(np.argmax(columns[0]))
    nearest = np.empty(n)
    step = np.empty(n)
    _squared_distances(columns, chosen[0], nearest, step)
    nearest[chosen[0]] = -1.0  # never chosen twice, even among equal points
    distance = np.empty(n)
    for k in range(1, limit):
        chosen[k] = int(np.argmax(nearest))
        _squared_distances(columns, chosen[k], distance, step)
        np.minimum(nearest, distance, out=nearest)
        nearest[chosen[k]] = -1.0
    return np.sort(chosen), math.sqrt(max(float(nearest.max()), 0.0))


def _squared_distances(
    columns: FloatMatrix, row: int, out: NDArray[np.float64], step: NDArray[np.float64]
) -> None:
    """``out[i] = |u_i - u_row|^2`` over the points' utility ``columns``."""
    out.fill(0.0)
    for column in columns:
        np.subtract(column, column[row], out=step)
        np.multiply(step, step, out=step)
        out += step


def spread_points(points: Sequence[Sequence[float]], limit: int) -> list[list[float]]:
    """At most ``limit`` of ``points`` (utility vectors) chosen by :func:`spread`, sorted."""
    if len(points) > limit:
        rows, _ = spread(np.asarray(points, dtype=np.float64), limit)
        points = [points[int(r)] for r in rows]
    return sorted([list(p) for p in points])
