"""Use-case: how robust is a recommendation to the roughness of the ratings?

Delegations enter 0-100 ratings by feel; a recommendation that hinges on a point or
two should say so. :func:`robustness` perturbs every rating (see
:mod:`backchannel.solvers.perturbation`), re-solves the rule under each sample, in
parallel on this machine's cores or on a Ray cluster, and reports how often each
package is recommended, how stable each issue's choice is, and how small a change of
the ratings can change the answer (:mod:`backchannel.solvers.sensitivity`). The CLI
calls :func:`robustness` on a case file, the facilitator's analysis page
:func:`robustness_of_round` on a round's agenda and positions; both answer a
:class:`RobustnessResult`, and :func:`robustness_doc` gives its machine format.
"""

from __future__ import annotations

import math
import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from backchannel.errors import AnalysisError, InputError, listing
from backchannel.model.compile import compile_case
from backchannel.model.dialogue import Agenda, Side, build_case
from backchannel.model.problem import Package, Problem
from backchannel.model.results import Settlement, SettlementRule, Status
from backchannel.services.documents import FORMAT_VERSION, package_doc, settlement_doc
from backchannel.services.negotiation import Loaded, load
from backchannel.solvers import engine
from backchannel.solvers.perturbation import (
    ChunkOutcome,
    chunks,
    directed_search,
    require_ratings,
    sample_chunk,
)
from backchannel.solvers.redline_map import overlapping_issues
from backchannel.solvers.sensitivity import Threshold, runner_ups, threshold

MAX_SAMPLES = 1_000_000
"""The most samples one sweep may draw."""

SEARCH_RIVALS = 3
"""Packages the directed search pushes towards, from the samples and from the runner-ups."""

RAY_CONNECT_SECONDS = 5.0
"""How long to wait for a Ray cluster's address to answer before giving up."""

DIALOGUE_SOURCE = "<dialogue>"
"""The name a dialogue's case goes by in the engine's messages."""


@dataclass(frozen=True)
class PackageShare:
    """A package and the share of samples in which the rule recommends it.

    ``package`` is ``None`` for the samples in which no package is admissible.
    """

    package: Package | None
    count: int
    share: float


@dataclass(frozen=True)
class IssueStability:
    """The share of samples in which an issue's chosen option is the unperturbed one."""

    issue: str
    option: str
    share: float


@dataclass(frozen=True)
class RobustnessResult:
    """Answer of :func:`robustness`.

    ``problem`` is the problem tested and ``recommendation`` its unperturbed answer;
    ``partial`` names the issues of the
    partial deal tested when the whole agenda has no admissible package (empty
    otherwise). ``packages`` lists every package recommended under some sample, most
    frequent first. ``threshold`` is the largest perturbation (points) that cannot
    change the answer, exact or a proven lower bound (``None`` when the agenda is too
    large to compute it); ``smallest_change`` is the size of the smallest sampled
    perturbation found that did change it, in the samples or by a directed search
    towards other packages (``None``: none found). ``unproven`` counts samples
    whose solve hit the time limit; ``runner`` says where they ran.
    """

    problem: Problem = field(compare=False)
    rule: SettlementRule
    noise: float
    samples: int
    seed: int
    recommendation: Settlement
    partial: tuple[str, ...]
    packages: tuple[PackageShare, ...]
    issues: tuple[IssueStability, ...]
    threshold: Threshold | None
    smallest_change: float | None
    unproven: int
    runner: str
    seconds: float

    @property
    def stable_share(self) -> float:
        """The share of samples that keep the unperturbed recommendation."""
        same = [s.share for s in self.packages if s.package == self.recommendation.package]
        return same[0] if same else 0.0


def _check_options(noise: float, samples: int, seed: int | None, workers: int | None) -> None:
    if not (math.isfinite(noise) and 0 < noise <= 100):
        raise InputError(
            f"--noise must be more than 0 and at most 100 rating points, not {noise}",
            hint="ratings run from 0 to 100; try --noise 5",
        )
    if not 1 <= samples <= MAX_SAMPLES:
        raise InputError(f"--samples must be between 1 and {MAX_SAMPLES:,}, not {samples}")
    if seed is not None and seed < 0:
        raise InputError(f"--seed must be 0 or more, not {seed}")
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be at least 1, not {workers}")


def robustness(
    path: Path,
    *,
    rule: SettlementRule,
    noise: float,
    samples: int,
    seed: int | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    issues: Sequence[str] | None = None,
    time_limit: float = 60.0,
) -> tuple[Loaded, RobustnessResult]:
    """Load a case and sweep perturbations of its ratings (see :func:`robustness_of`)."""
    loaded = load(path, issues)
    result = robustness_of(
        loaded,
        rule=rule,
        noise=noise,
        samples=samples,
        seed=seed,
        workers=workers,
        ray_address=ray_address,
        partial_allowed=not issues,
        time_limit=time_limit,
    )
    return loaded, result


def robustness_of(
    loaded: Loaded,
    *,
    rule: SettlementRule,
    noise: float,
    samples: int,
    seed: int | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    partial_allowed: bool = True,
    time_limit: float = 60.0,
) -> RobustnessResult:
    """How often each package is recommended when every rating moves by up to ``noise``.

    Parameters
    ----------
    loaded:
        The case (from a file, or built from a dialogue's positions).
    rule:
        The bargaining rule whose recommendation is tested.
    noise:
        The most a rating moves, in points (0 < noise <= 100), uniformly and clipped to 0-100.
    samples:
        How many perturbations to solve.
    seed:
        Seed of the sweep (a random one, reported in the answer, when ``None``); the
        result depends on it and on nothing else (not on the workers).
    workers:
        Processes on this machine (all cores when ``None``); ignored with ``ray_address``.
    ray_address:
        ``HOST:PORT`` of a Ray cluster's head (what ``ray start --head`` prints) to run
        the samples there instead.
    partial_allowed:
        When the whole agenda has no admissible package, test the partial deal on the
        issues whose red lines overlap (as ``analyze`` does) instead of failing.
    time_limit:
        Seconds per solve.
    """
    _check_options(noise, samples, seed, workers)
    if time_limit <= 0:
        raise InputError(f"--time-limit must be positive, not {time_limit}")
    start = time.perf_counter()
    problem = loaded.problem
    require_ratings(problem)
    partial_issues: tuple[str, ...] = ()
    baseline = engine.settle(problem, [rule], time_limit)[rule]
    if baseline.package is None and baseline.status is Status.INFEASIBLE and partial_allowed:
        partial_issues = overlapping_issues(problem)
        if partial_issues:
            problem = problem.restricted_to(list(partial_issues))
            baseline = engine.settle(problem, [rule], time_limit)[rule]
    if baseline.package is None:
        raise AnalysisError(
            "no package respects every red line, so there is no recommendation to test",
            hint="see `backchannel clashes`, or test a partial deal with --issues",
        )
    seed = secrets.randbits(32) if seed is None else seed
    parts = chunks(samples)
    task = partial(sample_chunk, problem, rule, noise, seed, time_limit=time_limit)
    if ray_address is not None:
        outcomes, runner = _on_ray(ray_address, task, parts), f"ray {ray_address}"
    else:
        count = min(workers or os.cpu_count() or 1, len(parts))
        outcomes, runner = _on_cores(task, parts, count), f"{count} process(es)"
    found = threshold(problem, rule, baseline.package)
    result = _summary(
        problem, rule, noise, samples, seed, baseline, partial_issues, outcomes, found, runner
    )
    result = _searched(result, time_limit)
    return replace(result, seconds=time.perf_counter() - start)


def robustness_of_round(
    agenda: Agenda,
    sides: Sequence[Side],
    title: str,
    *,
    rule: SettlementRule,
    noise: float,
    samples: int,
    seed: int | None = None,
    workers: int = 1,
    time_limit: float = 60.0,
) -> RobustnessResult:
    """The robustness of a dialogue round's recommendation, for the analysis page.

    Builds the engine's case from the agenda and every side's position (as an
    evaluation does) and sweeps it with :func:`robustness_of`; where the whole agenda
    has no admissible package, the partial deal is tested.

    Parameters
    ----------
    agenda, sides, title:
        The round's inputs, as :func:`backchannel.services.evaluations.findings_of` takes them.
    rule, noise, samples, seed, time_limit:
        As for :func:`robustness_of`.
    workers:
        Processes; one by default, since a web server's worker threads should not fork.

    Raises
    ------
    InputError
        A bad option, or an agenda that cannot be evaluated yet.
    AnalysisError
        No package (nor partial deal) to test, or a case without ratings.
    """
    case = build_case(title, agenda, list(sides))
    loaded = Loaded(DIALOGUE_SOURCE, case, compile_case(case, DIALOGUE_SOURCE))
    return robustness_of(
        loaded,
        rule=rule,
        noise=noise,
        samples=samples,
        seed=seed,
        workers=workers,
        time_limit=time_limit,
    )


def _searched(result: RobustnessResult, time_limit: float) -> RobustnessResult:
    """The result with its smallest change tightened by a directed search.

    The search pushes the ratings towards the packages the samples recommended instead
    (the most frequent first) and towards the rule's best runner-ups.
    """
    current = result.recommendation.package
    assert current is not None
    rivals = [s.package for s in result.packages if s.package not in (None, current)]
    rivals = rivals[:SEARCH_RIVALS]
    for package in runner_ups(result.problem, result.rule, current, SEARCH_RIVALS):
        if package not in rivals:
            rivals.append(package)
    found = directed_search(
        result.problem, result.rule, current, [p for p in rivals if p is not None], time_limit
    )
    sizes = [s for s in (found, result.smallest_change) if s is not None]
    return replace(result, smallest_change=min(sizes) if sizes else None)


def _on_cores(
    task: partial[ChunkOutcome], parts: list[tuple[int, int]], workers: int
) -> list[ChunkOutcome]:
    """Run the chunks here (one worker) or in a pool of processes."""
    if workers == 1:
        return [task(chunk, count) for chunk, count in parts]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(task, *zip(*parts, strict=True)))


def _reachable(address: str) -> None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(
            f"--ray {address!r} is not a HOST:PORT address",
            hint="give the address `ray start --head` prints, e.g. 10.0.0.5:6379",
        )
    try:
        with socket.create_connection((host, int(port)), timeout=RAY_CONNECT_SECONDS):
            pass
    except OSError as error:
        raise InputError(
            f"cannot reach the Ray cluster at {address} ({error.strerror or error})",
            hint="start it with `ray start --head` there, or check the address and the firewall",
        ) from error


def _on_ray(
    address: str, task: partial[ChunkOutcome], parts: list[tuple[int, int]]
) -> list[ChunkOutcome]:
    """Run the chunks as tasks of the Ray cluster at ``address``."""
    _reachable(address)
    try:
        import ray
    except ImportError as error:
        raise InputError(
            "--ray needs the Ray package, which is not installed",
            hint="pip install 'backchannel[cluster]'",
        ) from error
    import logging

    ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    try:
        remote = ray.remote(task.func)
        shared = [ray.put(arg) for arg in task.args]
        futures = [remote.remote(*shared, chunk, count, **task.keywords) for chunk, count in parts]
        return list(ray.get(futures))
    finally:
        ray.shutdown()


def _summary(
    problem: Problem,
    rule: SettlementRule,
    noise: float,
    samples: int,
    seed: int,
    baseline: Settlement,
    partial_issues: tuple[str, ...],
    outcomes: list[ChunkOutcome],
    found: Threshold | None,
    runner: str,
) -> RobustnessResult:
    outcomes = sorted(outcomes, key=lambda o: o.chunk)
    packages = [p for o in outcomes for p in o.packages]
    sizes = [s for o in outcomes for s in o.sizes]
    counts = Counter(packages)
    order = sorted(counts, key=lambda p: (-counts[p], p is None, p or ()))
    shares = tuple(PackageShare(p, counts[p], counts[p] / samples) for p in order)
    assert baseline.package is not None
    stability = []
    for i, issue in enumerate(problem.issues):
        option = baseline.package[i]
        same = sum(1 for p in packages if p is not None and p[i] == option)
        stability.append(IssueStability(issue.name, issue.labels[option], same / samples))
    changed = [s for p, s in zip(packages, sizes, strict=True) if p != baseline.package]
    return RobustnessResult(
        problem=problem,
        rule=rule,
        noise=noise,
        samples=samples,
        seed=seed,
        recommendation=baseline,
        partial=partial_issues,
        packages=shares,
        issues=tuple(stability),
        threshold=found,
        smallest_change=min(changed) if changed else None,
        unproven=sum(o.unproven for o in outcomes),
        runner=runner,
        seconds=0.0,
    )


def robustness_doc(result: RobustnessResult) -> dict[str, Any]:
    """Answer of ``robustness`` in the machine format (docs/reference/json.md)."""
    problem, found = result.problem, result.threshold
    return {
        "format": FORMAT_VERSION,
        "rule": result.rule.value,
        "noise": result.noise,
        "samples": result.samples,
        "seed": result.seed,
        "partial_deal": list(result.partial) or None,
        "recommendation": settlement_doc(problem, result.recommendation),
        "packages": [
            {"package": package_doc(problem, s.package), "count": s.count, "share": s.share}
            for s in result.packages
        ],
        "issues": [
            {"issue": s.issue, "option": s.option, "stable_share": s.share} for s in result.issues
        ],
        "threshold": None
        if found is None
        else {"points": found.points, "kind": "exact" if found.exact else "lower_bound"},
        "smallest_change_found": result.smallest_change,
        "unproven": result.unproven,
        "seconds": result.seconds,
    }


def describe_partial(result: RobustnessResult) -> str | None:
    """One line saying a partial deal was tested instead of the whole agenda, if it was."""
    if not result.partial:
        return None
    return (
        "the whole agenda has no admissible package: testing the partial deal on "
        f"{listing(result.partial)}"
    )
