"""The public plan of a blind evaluation: who takes part, what is computed, what it costs.

Everything here is public: the agenda's sizes, the number of delegations and helpers and
the finding asked for. The plan is checked before any node starts, so a refusal (no
helper, too many packages) comes with its reason and, for size, the estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from backchannel.errors import AnalysisError

MIN_DELEGATIONS = 2
MAX_DELEGATIONS = 4
MAX_HELPERS = 3


class Finding(str, Enum):
    """The findings blind mode can open, one per evaluation.

    * ``overlap``: per issue, whether some option is left open by every single-issue red
      line (one bit per issue: the bits, never the counts);
    * ``exists``: whether an admissible package exists (every red line, if-then condition
      and walk-away level of every side);
    * ``redlines``: whether a package respects every red line and if-then condition of
      every side (walk-away levels aside), decided component by component: issues that
      no condition links are checked on their own, linked ones over their joint options;
    * ``random``: an admissible Pareto-efficient package drawn uniformly at random
      (Frikken and Atallah's fairness: no side controls which), or "none";
    * ``nash``: the admissible package maximising the Nash product of the gains above the
      reservation values (ties: larger sum of gains, then the smallest option-index
      vector), or "none" when no package is admissible.
    """

    OVERLAP = "overlap"
    EXISTS = "exists"
    REDLINES = "redlines"
    NASH = "nash"
    RANDOM = "random"


SECONDS_PER_PACKAGE = {Finding.EXISTS: 5e-5, Finding.NASH: 5e-3, Finding.RANDOM: 0.03}
"""Measured cost per package with 3 parties on this project's 2-core machine under heavy
load (``benchmarks/blind_bench.py``, parties forked from the party server, load average 8-12);
a secure comparison of 42-bit keys dominates ``nash``, sharing the pairwise comparisons
``random``."""

PACKAGE_LIMIT = {
    Finding.EXISTS: 1_048_576,
    Finding.REDLINES: 1_048_576,
    Finding.NASH: 65_536,
    Finding.RANDOM: 256,
}
"""The most packages each finding enumerates; beyond, the evaluation is refused before it
starts (time and memory grow linearly with the packages; for ``random``, with their square)."""


@dataclass(frozen=True)
class Plan:
    """A checked, public description of one blind evaluation."""

    finding: Finding
    sizes: tuple[int, ...]
    delegations: int
    helpers: int
    components: tuple[tuple[int, ...], ...] = ()
    chunk: int = 8192
    """Packages compared at a time by ``nash``: bounds each party's memory."""
    kept: Kept = ()
    """Public pruning: per issue, the options the packages are enumerated over (those no
    absent stakeholder's stated red line forbids); empty: every option."""

    @property
    def parties(self) -> int:
        """Number of MPyC parties: the delegations, then the helpers."""
        return self.delegations + self.helpers

    @property
    def enumerated(self) -> tuple[int, ...]:
        """Number of options of each issue that the packages are enumerated over."""
        return tuple(len(k) for k in self.kept) if self.kept else self.sizes

    @property
    def packages(self) -> int:
        """Number of packages enumerated (those of the agenda, less the pruned ones)."""
        return math.prod(self.enumerated)

    @property
    def component_packages(self) -> int:
        """Joint options of every component, summed: what ``redlines`` enumerates."""
        return sum(math.prod(self.sizes[i] for i in c) for c in self.components)

    @property
    def estimate_seconds(self) -> float:
        """Expected duration of the secure part (start-up excluded)."""
        if self.finding is Finding.OVERLAP:
            return 0.05 * self.parties
        if self.finding is Finding.REDLINES:
            return SECONDS_PER_PACKAGE[Finding.EXISTS] * self.component_packages
        # Measured: 5 parties cost about 2x (exists) to 3.7x (nash) what 3 parties cost.
        factor = (self.parties / 3) ** 2 * (1.0 + 0.5 * (self.delegations - 2))
        return SECONDS_PER_PACKAGE[self.finding] * self.packages * factor


def components(sizes: tuple[int, ...], links: list[frozenset[int]]) -> tuple[tuple[int, ...], ...]:
    """The issues grouped by the links of conditions (connected components, sorted).

    Parameters
    ----------
    sizes:
        Number of options of each issue.
    links:
        The issue sets that conditions link (each side publishes those of its own
        conditions, not what they say).
    """
    parent = list(range(len(sizes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for link in links:
        first, *rest = sorted(link)
        for other in rest:
            parent[root(other)] = root(first)
    groups: dict[int, list[int]] = {}
    for i in range(len(sizes)):
        groups.setdefault(root(i), []).append(i)
    return tuple(sorted(tuple(g) for g in groups.values()))


PRUNED_FINDINGS = frozenset({Finding.EXISTS, Finding.NASH, Finding.RANDOM})
"""The findings that enumerate packages of the whole agenda, and so gain from pruning."""

Kept = tuple[tuple[int, ...], ...]
"""Per issue, the option indices enumerated (public pruning); empty for every option."""


def make_plan(
    finding: Finding,
    sizes: tuple[int, ...],
    delegations: int,
    helpers: int,
    links: list[frozenset[int]] | None = None,
    kept: Kept = (),
) -> Plan:
    """Check who takes part and what it would cost; refuse with the reason.

    ``links`` are the issue sets the sides' conditions link (for ``redlines``); ``kept``
    the options public red lines leave open (:mod:`backchannel.blind.pruning`), used by the
    findings that enumerate the packages of the whole agenda.

    Raises
    ------
    AnalysisError
        Fewer than 2 or more than 4 delegations, no helper or more than 3, or more
        packages than the finding's limit (with the estimate).
    """
    if not MIN_DELEGATIONS <= delegations <= MAX_DELEGATIONS:
        raise AnalysisError(
            f"blind mode needs {MIN_DELEGATIONS} to {MAX_DELEGATIONS} delegations; "
            f"this case has {delegations}",
        )
    if helpers < 1:
        reason = (
            "with two delegations and no helper, MPyC's secret sharing has threshold 0: "
            "each share is the value itself, so each side would see the other's inputs"
            if delegations == 2
            else "without a neutral helper every party holding shares is a side with a stake"
        )
        raise AnalysisError(
            f"blind mode needs at least one helper; {reason}",
            hint="add --helpers 1 (a node run by an institution both sides trust)",
        )
    if helpers > MAX_HELPERS:
        raise AnalysisError(f"at most {MAX_HELPERS} helpers, not {helpers}")
    plan = Plan(
        finding,
        sizes,
        delegations,
        helpers,
        components(sizes, links or []),
        kept=kept if finding in PRUNED_FINDINGS else (),
    )
    limit = PACKAGE_LIMIT.get(finding)
    size = plan.component_packages if finding is Finding.REDLINES else plan.packages
    if limit is not None and size > limit:
        raise AnalysisError(
            f"blind {finding.value} would enumerate {size:,} packages, more than its limit "
            f"of {limit:,} (estimated {plan.estimate_seconds:,.0f} s here)",
            hint="ask for the per-issue check (--finding overlap) or evaluate a partial "
            "agenda (a case file with fewer issues)",
        )
    return plan


def key_bits(delegations: int, scale: int) -> int:
    """Bits of the Nash sort key ``ok * (prod g * (D*scale + 1) + sum g + 1)``."""
    top: int = scale**delegations * (delegations * scale + 1) + delegations * scale + 1
    return top.bit_length() + 1
