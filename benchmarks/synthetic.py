"""Random negotiation problems for benchmarks (the generator of research/perf.md §1).

n issues × k options, p delegations. Each delegation has Dirichlet issue weights;
the first half of the issues are ordinal (monotone ratings, even and odd parties on
opposite sides, so partly zero-sum), the rest categorical (random ratings, so partly
integrative). The reservation is mean + 0.5·sd of the party's utility over uniformly
random packages. Utilities lie on the integer grid of research/perf.md: every table
entry is a multiple of 1/S with S = 10 000 (rounded down, so u_p <= 1). "3 red lines
per party" are one forbidden option, one ordinal bound (at least / at most) and one
conditional rule "if issue A = x then issue B in half of B's options".
"""

from __future__ import annotations

import numpy as np

from backchannel.model.case import IssueKind
from backchannel.model.problem import (
    AdditiveUtility,
    Constraint,
    ConstraintKind,
    IssueDomain,
    Literal,
    Problem,
    Utility,
)

SCALE = 10_000
"""Utilities are multiples of 1/SCALE."""


def _ratings(rng: np.random.Generator, k: int, ordinal: bool, rising: bool) -> np.ndarray:
    raw = rng.uniform(0, 100, size=k)
    if ordinal:
        raw = np.sort(raw) if rising else np.sort(raw)[::-1]
    low, high = raw.min(), raw.max()
    return 100 * (raw - low) / (high - low) if high > low else np.full(k, 100.0)


def _red_lines(
    rng: np.random.Generator,
    name: str,
    ratings: list[np.ndarray],
    n_ordinal: int,
    rising: bool,
    count: int,
) -> list[Constraint]:
    n, k = len(ratings), ratings[0].size
    every = frozenset(range(k))
    out: list[Constraint] = []
    for r in range(count):
        form = r % 3
        ident = f"{name}-{r}"
        if form == 0:  # forbid the party's worst option of a random issue
            issue = int(rng.integers(n))
            worst = int(np.argmin(ratings[issue]))
            clause = (Literal(issue, every - {worst}),)
            kind = ConstraintKind.FORBID
        elif form == 1 and n_ordinal:  # a mild bound on an ordinal issue
            issue = int(rng.integers(n_ordinal))
            cut = k // 4
            allowed = range(cut, k) if rising else range(k - cut)
            clause = (Literal(issue, frozenset(allowed)),)
            kind = ConstraintKind.AT_LEAST if rising else ConstraintKind.AT_MOST
        else:  # if A = x then B in the party's better half of B's options
            a, b = (int(i) for i in rng.choice(n, size=2, replace=False))
            x = int(rng.integers(k))
            half = frozenset(int(o) for o in np.argsort(-ratings[b])[: max(1, k // 2)])
            clause = (Literal(a, every - {x}), Literal(b, half))
            kind = ConstraintKind.CONDITIONAL
        out.append(Constraint(ident, name, kind, 1.0 + r, True, ident, (clause,)))
    return out


def make_problem(
    n_issues: int, n_options: int, n_parties: int, red_lines_per_party: int = 3, seed: int = 0
) -> Problem:
    """A random additive problem; see the module docstring for the recipe."""
    rng = np.random.default_rng(seed)
    n_ordinal = n_issues // 2
    issues = tuple(
        IssueDomain(
            f"issue{i}",
            IssueKind.ORDERED if i < n_ordinal else IssueKind.UNORDERED,
            tuple(f"o{j}" for j in range(n_options)),
            tuple(range(n_options)),
        )
        for i in range(n_issues)
    )
    names = tuple(f"P{q}" for q in range(n_parties))
    utilities: list[Utility] = []
    disagreement: list[float] = []
    red_lines: list[Constraint] = []
    sample = rng.integers(n_options, size=(2000, n_issues))
    for q, name in enumerate(names):
        rising = q % 2 == 0
        weights = rng.dirichlet(np.ones(n_issues))
        ratings = [_ratings(rng, n_options, i < n_ordinal, rising) for i in range(n_issues)]
        tables = tuple(
            np.floor(w * r / 100 * SCALE) / SCALE for w, r in zip(weights, ratings, strict=True)
        )
        utilities.append(AdditiveUtility(tables, weights))
        values = sum(t[sample[:, i]] for i, t in enumerate(tables))
        disagreement.append(float(np.mean(values) + 0.5 * np.std(values)))
        red_lines += _red_lines(rng, name, ratings, n_ordinal, rising, red_lines_per_party)
    reservations = [
        Constraint(
            f"reservation:{name}",
            name,
            ConstraintKind.RESERVATION,
            1.0,
            False,
            f"{name}: reservation",
            utility_party=q,
            bound=disagreement[q],
        )
        for q, name in enumerate(names)
    ]
    return Problem(
        title=f"synthetic {n_issues}x{n_options}, {n_parties} parties, seed {seed}",
        issues=issues,
        parties=names,
        utility_parties=names,
        utilities=tuple(utilities),
        disagreement=tuple(disagreement),
        constraints=(*red_lines, *reservations),
    )


# --------------------------------------------------------------------------- families

FAMILIES = ("opposed", "integrative", "mixed", "near-ties", "linked")
"""The generator families of :func:`make_family` (the Genius anchors are loaded from files)."""

WALK_AWAY = 0.3
"""Every party's walk-away utility (reservation and disagreement point) in the families."""


def _family_ratings(
    rng: np.random.Generator, family: str, n: int, k: int, q: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Issue weights and 0-100 ratings of party ``q`` for one of :data:`FAMILIES`."""
    rising = q % 2 == 0
    if family == "near-ties":  # equal weights, ratings on a coarse ladder: many equal sums
        levels = np.linspace(0, 100, 3)
        return np.full(n, 1.0 / n), [rng.choice(levels, size=k) for _ in range(n)]
    if family == "integrative":  # each party cares mostly about its own third of the issues
        alpha = np.where(np.arange(n) % 3 == q % 3, 5.0, 0.1)
        return rng.dirichlet(alpha), [_ratings(rng, k, False, rising) for _ in range(n)]
    weights = rng.dirichlet(np.ones(n))
    if family == "mixed":  # a third opposed and ordered, a third own interest, a third random
        own = np.arange(n) % 3 == 1
        weights = np.where(own & (np.arange(n) // 3 % 2 != q % 2), weights * 0.1, weights)
        weights /= weights.sum()
        ordinal = np.arange(n) % 3 == 0
    else:  # opposed and linked: the first half ordered and opposed, the rest random
        ordinal = np.arange(n) < n // 2
    return weights, [_ratings(rng, k, bool(ordinal[i]), rising) for i in range(n)]


def _links(
    rng: np.random.Generator, name: str, ratings: list[np.ndarray], q: int
) -> list[Constraint]:
    """Conditional red lines "if A = x then B in my better half" on disjoint issue pairs.

    Party ``q`` links the pairs ``(4j + 2(q % 2), 4j + 2(q % 2) + 1)``, so super-issues stay
    pairs (6 x 6 = 36 combinations) and the frontier programme still applies.
    """
    n, k = len(ratings), ratings[0].size
    every = frozenset(range(k))
    out: list[Constraint] = []
    for a in range(2 * (q % 2), n - 1, 4):
        b = a + 1
        x = int(rng.integers(k))
        half = frozenset(int(o) for o in np.argsort(-ratings[b])[: max(1, k // 2)])
        ident = f"{name}-link{a}"
        clause = (Literal(a, every - {x}), Literal(b, half))
        out.append(Constraint(ident, name, ConstraintKind.CONDITIONAL, 1.0, True, ident, (clause,)))
    return out


def make_family(
    family: str,
    n_issues: int,
    n_options: int,
    n_parties: int,
    seed: int = 0,
    walk_away: float = WALK_AWAY,
) -> Problem:
    """A random additive problem of one of :data:`FAMILIES`, walk-away ``walk_away`` each.

    * ``opposed``: half the issues ordered and opposed (what even parties value most,
      odd parties value least), the rest rated at random; Dirichlet weights.
    * ``integrative``: each party puts most of its weight on its own third of the issues.
    * ``mixed``: a third opposed and ordered, a third where the parties' weights differ
      tenfold, a third random.
    * ``near-ties``: equal weights and ratings on the ladder 0/50/100 (many equal sums).
    * ``linked``: ``opposed`` plus a conditional red line per party on every other
      pair of issues (about n/4 red lines each).

    Utilities are weight x rating floats, not rounded to a grid (as in a Genius domain, so
    the 2-party frontier is large: about 10^5 points at 320 x 6 for ``opposed``); every
    party's reservation (a red line) and disagreement point are ``walk_away``.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    rng = np.random.default_rng(seed)
    issues = tuple(
        IssueDomain(
            f"issue{i}",
            IssueKind.ORDERED
            if family != "near-ties" and i < n_issues // 2
            else IssueKind.UNORDERED,
            tuple(f"o{j}" for j in range(n_options)),
            tuple(range(n_options)),
        )
        for i in range(n_issues)
    )
    names = tuple(f"P{q}" for q in range(n_parties))
    utilities: list[Utility] = []
    red_lines: list[Constraint] = []
    for q, name in enumerate(names):
        weights, ratings = _family_ratings(rng, family, n_issues, n_options, q)
        tables = tuple(w * r / 100 for w, r in zip(weights, ratings, strict=True))
        utilities.append(AdditiveUtility(tables, weights))
        if family == "linked":
            red_lines += _links(rng, name, ratings, q)
    reservations = [
        Constraint(
            f"reservation:{name}",
            name,
            ConstraintKind.RESERVATION,
            1.0,
            False,
            f"{name}: reservation",
            utility_party=q,
            bound=walk_away,
        )
        for q, name in enumerate(names)
    ]
    return Problem(
        title=f"{family} {n_issues}x{n_options}, {n_parties} parties, seed {seed}",
        issues=issues,
        parties=names,
        utility_parties=names,
        utilities=tuple(utilities),
        disagreement=(walk_away,) * n_parties,
        constraints=(*red_lines, *reservations),
    )
