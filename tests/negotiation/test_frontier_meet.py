"""The pieces of the window's programme: exact reach tests, best pairs, suffix frontiers.

Each is checked against a plain search over every pair or every package of small
random inputs, so that a wrong index or a wrong side of a staircase fails here before
it can hide in the rules' answers (:mod:`test_frontier_window`).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from backchannel.solvers import frontier_meet
from backchannel.solvers.frontier_dp import Group, groups_of, pareto_groups
from backchannel.solvers.frontier_hull import package_of, restrict
from backchannel.solvers.frontier_meet import Staircase, Suffixes, best_pairs, reaches
from backchannel.solvers.scoring import evaluate_by_issue
from benchmarks.synthetic import FAMILIES, make_family


def _staircase(rng: np.random.Generator, size: int) -> Staircase:
    """A frontier: ``t0`` falling, ``t1`` rising, both strictly."""
    t0 = np.sort(rng.choice(np.arange(1000), size, replace=False))[::-1] / 1000
    t1 = np.sort(rng.choice(np.arange(1000), size, replace=False)) / 1000
    return Staircase(t0.astype(float), t1.astype(float), 0.0)


@pytest.mark.parametrize("seed", range(5))
def test_reaches_says_whether_some_point_is_at_least_the_need(seed: int) -> None:
    rng = np.random.default_rng(seed)
    tail = _staircase(rng, 40)
    need = rng.uniform(-0.1, 1.1, size=(500, 2))
    found = reaches(need[:, 0], need[:, 1], tail)
    at_least = (tail.t0[None, :] >= need[:, :1]) & (tail.t1[None, :] >= need[:, 1:])
    assert np.array_equal(found, at_least.any(axis=1))
    assert found.any() and not found.all()


def _best_over_all(values: np.ndarray) -> np.ndarray:
    return np.max(values, axis=1, initial=-np.inf)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("kind", ["egalitarian", "ks", "party 0", "party 1"])
def test_best_pairs_hold_the_best_completion_of_each_sum(seed: int, kind: str) -> None:
    """The few indices best_pairs picks hold the best value over the whole staircase."""
    rng = np.random.default_rng(seed)
    tail = _staircase(rng, 60)
    first, second = rng.uniform(0.0, 0.6, size=(2, 300))
    low, origin = np.array([0.5, 0.45]), np.array([0.3, 0.2])
    scale = {"egalitarian": np.ones(2), "ks": np.array([0.8, 1.3])}.get(kind)
    sums = np.stack([first[:, None] + tail.t0[None, :], second[:, None] + tail.t1[None, :]], -1)

    def value(u: np.ndarray) -> np.ndarray:
        raw = u[..., int(kind[-1])] if scale is None else ((u - origin) / scale).min(axis=-1)
        return np.where(np.all(u >= low, axis=-1), raw, -np.inf)

    picks = best_pairs(low, first, second, tail, origin, scale)
    assert picks.shape == (300, 4)
    picked = np.take_along_axis(value(sums), picks, axis=1)
    expected = _best_over_all(value(sums))
    assert np.array_equal(_best_over_all(picked), expected)
    assert np.isfinite(expected).any()


def _group(rng: np.random.Generator, issue: int, size: int) -> Group:
    utilities = rng.integers(0, 50, size=(size, 2)) / 100
    return Group((issue,), np.arange(size)[:, None], utilities, np.zeros(size, dtype=bool))


@pytest.mark.parametrize("seed", range(4))
def test_each_suffix_level_covers_every_sum_of_the_last_groups(seed: int) -> None:
    """Without pruning, level L holds the frontier of every sum of groups L.. (within its
    slack), sorted as a staircase; groups of one combination are shifts."""
    rng = np.random.default_rng(seed)
    groups = [_group(rng, i, int(rng.choice([1, 2, 3, 4]))) for i in range(7)]
    suffixes = Suffixes(groups, lambda level, t0, t1: np.ones(t0.size, dtype=bool))
    for level in range(len(groups), -1, -1):
        tail = suffixes.at(level, 10**6)
        assert tail is not None
        assert np.all(np.diff(tail.t0) < 0) and np.all(np.diff(tail.t1) >= 0)
        for combination in itertools.product(
            *(range(g.utilities.shape[0]) for g in groups[level:])
        ):
            u = sum(
                (g.utilities[c] for g, c in zip(groups[level:], combination, strict=True)),
                np.zeros(2),
            )
            assert reaches(np.array([u[0]]), np.array([u[1]]), tail)[0]


def test_the_backward_pass_starts_late_and_waits_while_it_holds_more_sums(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opposed = np.array([[0.0, 0.3], [0.1, 0.2], [0.2, 0.1], [0.3, 0.0]])  # 4 trade-offs
    groups = [Group((i,), np.arange(4)[:, None], opposed, np.zeros(4, bool)) for i in range(6)]
    suffixes = Suffixes(groups, lambda level, t0, t1: np.ones(t0.size, dtype=bool))
    assert suffixes.at(1, frontier_meet.MEET_FROM - 1) is None  # a small forward pass
    assert suffixes.level == len(groups)  # nothing folded
    monkeypatch.setattr(frontier_meet, "MEET_FROM", 0)
    assert suffixes.at(1, 0) is None  # the last level holds 1 sum, more than 0
    assert suffixes.at(1, 1) is None  # one fold, then it holds more than 1
    assert suffixes.level == len(groups) - 1


@pytest.mark.parametrize("family", FAMILIES)
def test_a_core_keeps_exactly_the_marked_combinations(family: str) -> None:
    groups = pareto_groups(groups_of(make_family(family, 30, 5, 2, seed=1)) or [])
    rng = np.random.default_rng(3)
    keep = rng.random(sum(g.utilities.shape[0] for g in groups)) < 0.4
    starts = np.cumsum([0] + [g.utilities.shape[0] for g in groups[:-1]])
    keep[starts] = True
    core = restrict(groups, keep)
    assert core is not None
    for group, cut, start in zip(groups, core, starts.tolist(), strict=True):
        mask = keep[start : start + group.utilities.shape[0]]
        assert cut.issues == group.issues
        assert np.array_equal(cut.options, group.options[mask])
        assert np.array_equal(cut.utilities, group.utilities[mask])
        assert np.array_equal(cut.twin, group.twin[mask])
    keep[starts[3] : starts[3] + groups[3].utilities.shape[0]] = False
    assert restrict(groups, keep) is None


@pytest.mark.parametrize("count", [3, 5000])
def test_evaluation_by_issue_gives_the_floats_of_the_utilities(count: int) -> None:
    """Few packages are read in one gather, many issue by issue: the same floats as
    :meth:`Problem.utility` either way (the programmes compare them bit for bit)."""
    problem = make_family("integrative", 320, 6, 2, seed=4)
    by_issue = np.random.default_rng(count).integers(0, 6, size=(320, count))
    utilities = evaluate_by_issue(problem, by_issue)
    for column in range(0, count, max(1, count // 7)):
        package = tuple(int(o) for o in by_issue[:, column])
        assert tuple(utilities[column].tolist()) == problem.utility(package)


@pytest.mark.parametrize("family", ["linked", "opposed"])
def test_packages_of_choices_put_each_combination_on_its_issues(family: str) -> None:
    """Linked issues form groups of several issues; each row of choices is one package."""
    problem = make_family(family, 24, 4, 2, seed=2)
    groups = pareto_groups(groups_of(problem) or [])
    assert (max(len(g.issues) for g in groups) > 1) is (family == "linked")
    rng = np.random.default_rng(5)
    choices = np.stack([rng.integers(0, [g.options.shape[0] for g in groups]) for _ in range(3)])
    packages = package_of(groups, choices, len(problem.issues))
    assert packages.shape == (3, len(problem.issues))
    for row, package in zip(choices, packages, strict=True):
        for group, c in zip(groups, row.tolist(), strict=True):
            assert package[list(group.issues)].tolist() == group.options[c].tolist()
