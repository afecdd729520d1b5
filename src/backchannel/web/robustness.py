"""The robustness check as the page shows it: the figures of a
:class:`~backchannel.services.robustness.RobustnessResult` in the words of the analysis
page (packages as their differences from the recommendation, the smallest change that
alters the answer with its kind)."""

from __future__ import annotations

from dataclasses import dataclass

from backchannel.services.evaluation_robustness import (
    DEFAULT_NOISE,
    DEFAULT_RULE,
    DEFAULT_SAMPLES,
    RobustnessCheck,
)
from backchannel.services.robustness import RobustnessResult

ROBUSTNESS_DEFAULTS = {
    "rule": DEFAULT_RULE.value,
    "noise": str(DEFAULT_NOISE),
    "samples": str(DEFAULT_SAMPLES),
}
"""What the form offers first, as its fields' text."""
TOP_PACKAGES = 10
"""The most packages the page lists."""
MEET = 0.0005
"""Points between a proven bound and a change that alters the answer, below which the page
reports one threshold (they show the same at three decimals)."""


@dataclass(frozen=True)
class PackageRow:
    """A package recommended under some samples: its share, and how it differs from the
    unperturbed recommendation (``kind``: ``same``, ``none`` for no admissible package,
    else ``other``)."""

    share: float
    count: int
    kind: str
    differences: list[tuple[str, str]]


@dataclass(frozen=True)
class RobustnessView:
    """The page's figures.

    ``change`` is the kind of the smallest change that alters the answer: ``exact`` (the
    threshold is known), ``bound`` (a proven bound, ``points``, and perhaps a larger change
    ``found``), ``found`` (only a change found in the samples or by a directed search),
    ``never`` (the only admissible package: no change alters it) or ``unknown`` (none
    found, agenda too large for a bound).
    """

    recommendation: list[tuple[str, str]]
    packages: list[PackageRow]
    more: int
    change: str
    points: float | None
    found: float | None


def _change(result: RobustnessResult) -> tuple[str, float | None]:
    bound, seen = result.threshold, result.smallest_change
    if bound is None:
        return ("found", seen) if seen is not None else ("unknown", None)
    if bound.points is None:
        return "never", None
    if bound.exact or (seen is not None and seen - bound.points < MEET):
        return "exact", bound.points
    return "bound", bound.points


def robustness_view(check: RobustnessCheck) -> RobustnessView:
    """The figures of a robustness check, as the page shows them."""
    result = check.result
    current = result.recommendation.package
    assert current is not None
    issues = result.problem.issues
    rows = []
    for s in result.packages[:TOP_PACKAGES]:
        if s.package is None:
            rows.append(PackageRow(s.share, s.count, "none", []))
            continue
        differences = [
            (issue.name, issue.labels[option])
            for issue, option, was in zip(issues, s.package, current, strict=True)
            if option != was
        ]
        rows.append(PackageRow(s.share, s.count, "other" if differences else "same", differences))
    change, points = _change(result)
    return RobustnessView(
        recommendation=[
            (issue.name, issue.labels[option])
            for issue, option in zip(issues, current, strict=True)
        ],
        packages=rows,
        more=max(0, len(result.packages) - TOP_PACKAGES),
        change=change,
        points=points,
        found=result.smallest_change,
    )
