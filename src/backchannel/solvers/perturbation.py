"""Random perturbations of the ratings, and the samples of a robustness sweep.

Definitions (stated the same way in ``docs/explanation/definitions.md``)
-----------------------------------------------------------------------
* A **rating** is a delegation's 0-100 score of one option of one issue. An additive
  utility holds it as ``table[o] = weight x rating / 100`` (see
  :mod:`backchannel.model.problem`), so a rating moved by ``delta`` points moves the
  table entry by ``weight x delta / 100``, kept inside ``[0, weight]`` (ratings are
  clipped to 0-100). Issues a delegation gives no weight do not count for it.
* A **perturbation of at most** ``noise`` **points** moves every rating of every
  delegation independently by ``delta``, drawn uniformly from ``[-noise, noise]``;
  its **size** is the largest change of one rating after clipping (the L-infinity
  norm, in rating points).
* A **sweep** of ``samples`` perturbations is cut into chunks of
  :data:`CHUNK_SIZE`; chunk ``k`` draws from ``SeedSequence(seed, spawn_key=(k,))``,
  so the samples, and every result built from them, do not depend on how many
  workers run the chunks, nor where.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backchannel.errors import AnalysisError
from backchannel.model.problem import AdditiveUtility, Package, Problem
from backchannel.model.results import SettlementRule, Status
from backchannel.solvers import engine
from backchannel.solvers.scoring import FloatArray

CHUNK_SIZE = 25
"""Samples per chunk: the unit of work sent to a process or a Ray worker."""


def require_ratings(problem: Problem) -> None:
    """Raise :class:`AnalysisError` unless every delegation rates options (additive utilities)."""
    if not problem.is_additive:
        raise AnalysisError(
            "robustness perturbs 0-100 ratings; this case has non-linear (rectangle) utilities",
            hint="use a case whose delegations give weights and ratings",
        )


def rating_count(problem: Problem) -> int:
    """How many ratings a perturbation draws: delegations x options of every issue."""
    return len(problem.utilities) * sum(issue.size for issue in problem.issues)


def chunks(samples: int) -> list[tuple[int, int]]:
    """``(chunk index, samples in it)`` for a sweep of ``samples`` perturbations."""
    full, rest = divmod(samples, CHUNK_SIZE)
    return [(k, CHUNK_SIZE) for k in range(full)] + ([(full, rest)] if rest else [])


def draws(seed: int, chunk: int, count: int, noise: float, ratings: int) -> FloatArray:
    """The rating changes of one chunk, shape ``(count, ratings)``, in points."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(chunk,)))
    changes: FloatArray = rng.uniform(-noise, noise, size=(count, ratings))
    return changes


def perturbed(problem: Problem, changes: FloatArray) -> tuple[Problem, float]:
    """The problem with every rating moved by ``changes`` (points), and the size of the move.

    ``changes`` holds one value per rating, delegation by delegation, issue by issue,
    option by option (:func:`rating_count` of them). Ratings are clipped to 0-100.
    """
    utilities: list[AdditiveUtility] = []
    size = 0.0
    at = 0
    for utility in problem.utilities:
        assert isinstance(utility, AdditiveUtility)
        tables = []
        for table, weight in zip(utility.tables, utility.weights, strict=True):
            step = changes[at : at + table.size]
            at += table.size
            if weight <= 0:
                tables.append(table)
                continue
            moved = np.clip(table + weight * step / 100.0, 0.0, weight)
            effective = np.minimum(np.abs(moved - table) * 100.0 / weight, np.abs(step))
            size = max(size, float(effective.max()))
            tables.append(moved)
        utilities.append(AdditiveUtility(tuple(tables), utility.weights))
    return _with_utilities(problem, utilities), size


def _with_utilities(problem: Problem, utilities: Sequence[AdditiveUtility]) -> Problem:
    return Problem(
        problem.title,
        problem.issues,
        problem.parties,
        problem.utility_parties,
        tuple(utilities),
        problem.disagreement,
        problem.constraints,
        problem.metadata,
    )


@dataclass(frozen=True)
class ChunkOutcome:
    """What one chunk of a sweep found, sample by sample.

    ``packages[s]`` is the package the rule recommends under sample ``s`` (``None``:
    no admissible package); ``sizes[s]`` the size of its perturbation (points);
    ``unproven`` how many solves hit the time limit (their best package is kept).
    """

    chunk: int
    packages: tuple[Package | None, ...]
    sizes: tuple[float, ...]
    unproven: int


def sample_chunk(
    problem: Problem,
    rule: SettlementRule,
    noise: float,
    seed: int,
    chunk: int,
    count: int,
    time_limit: float,
) -> ChunkOutcome:
    """Solve ``count`` perturbed copies of ``problem`` (chunk ``chunk`` of a sweep).

    A plain function of its arguments, so that a process pool or a Ray cluster can
    run it anywhere ``backchannel`` is installed.
    """
    changes = draws(seed, chunk, count, noise, rating_count(problem))
    packages: list[Package | None] = []
    sizes: list[float] = []
    unproven = 0
    for row in changes:
        copy, size = perturbed(problem, row)
        answer = engine.settle(copy, [rule], time_limit)[rule]
        packages.append(answer.package)
        sizes.append(size)
        unproven += answer.status in (Status.FEASIBLE, Status.UNKNOWN)
    return ChunkOutcome(chunk, tuple(packages), tuple(sizes), unproven)


SEARCH_STEPS = 20
"""Halvings of ``[0, 100]`` points in a directed search: about 1e-4 points apart."""


def towards(
    problem: Problem,
    current: Package,
    rival: Package,
    size: float,
    shared: Sequence[float] | None = None,
) -> FloatArray:
    """The rating changes that push ``rival`` against ``current`` by ``size`` points.

    Every delegation rates ``rival``'s options ``size`` points higher and ``current``'s
    ``size`` points lower on the issues where the two differ; on the issues where they
    agree, delegation ``p`` moves the common option by ``shared[p] x size`` (raised by
    default).
    """
    changes = np.zeros(rating_count(problem))
    at = 0
    for p in range(len(problem.utilities)):
        sign = 1.0 if shared is None else shared[p]
        for i, issue in enumerate(problem.issues):
            if rival[i] != current[i]:
                changes[at + current[i]] = -size
                changes[at + rival[i]] = size
            else:
                changes[at + rival[i]] = sign * size
            at += issue.size
    return changes


def _directions(problem: Problem, current: Package, rival: Package) -> list[tuple[float, ...]]:
    """Ways to move the options ``current`` and ``rival`` share, party by party.

    Raised for all, lowered for all, and lowered only for the parties whose gain at
    ``rival`` exceeds their gain at ``current`` (what favours ``rival`` under nash).
    """
    parties = len(problem.utilities)
    ahead = [
        -1.0 if problem.utilities[p].value(rival) > problem.utilities[p].value(current) else 1.0
        for p in range(parties)
    ]
    return list(dict.fromkeys([(1.0,) * parties, (-1.0,) * parties, tuple(ahead)]))


def directed_search(
    problem: Problem,
    rule: SettlementRule,
    current: Package,
    rivals: Sequence[Package],
    time_limit: float,
) -> float | None:
    """The smallest perturbation found that makes ``rule`` recommend something else.

    For each rival and each way of moving the options it shares with ``current``
    (:func:`_directions`), a bisection on the size of :func:`towards`; the size
    reported is the perturbation's own (after clipping), so it is a witness: an upper
    bound of the threshold. ``None`` when no rival is given or none could be pushed
    through.
    """
    best: float | None = None
    for rival in rivals:
        for shared in _directions(problem, current, rival):
            low, high = 0.0, 100.0
            for _ in range(SEARCH_STEPS):
                middle = (low + high) / 2
                push = towards(problem, current, rival, middle, shared)
                copy, size = perturbed(problem, push)
                answer = engine.settle(copy, [rule], time_limit)[rule]
                if answer.package != current and answer.status in (
                    Status.OPTIMAL,
                    Status.INFEASIBLE,
                ):
                    high = middle
                    best = size if best is None else min(best, size)
                else:
                    low = middle
    return best
